"""The OpenAI fine-tuning backend: the same event stream as a local run, from a remote job.

Steps: check the key and the data, upload the files, create the job, then poll the
job, its events and its checkpoints until it ends, mapping them onto ftui's events
(metric events -> ``Log`` / ``Eval``, checkpoints -> ``Checkpoint``, the fine-tuned
model id -> ``Finished.adapter_path``). A stop request cancels the job.

``openai_job.json`` in the run directory records the job id, the model, the file ids
and how far the event stream was read, so a later process resumes following the
same job instead of creating (and paying for) a new one. The API key is never in it,
never in an event and never in an error message.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.train.control import RunControl
from ftui.train.events import Checkpoint, Eval, Event, Failed, Finished, Log, Message, Started, Stopped
from ftui.train.openai_client import (
    FineTuneClient,
    OpenAIBackendError,
    RetryPolicy,
    api_key_from_env,
    display_url,
    redact,
    resolve_base_url,
)
from ftui.train.openai_data import MIN_TRAIN_EXAMPLES, prepare_openai_file

JOB_STATE_NAME = "openai_job.json"
TRAIN_FILE_NAME = "openai_train.jsonl"
VALID_FILE_NAME = "openai_valid.jsonl"
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")
LEVELS = {"info": "info", "warn": "warning", "warning": "warning", "error": "error"}
POLL_INTERVAL_S = 10.0  # a job takes minutes to hours; polling faster only spends rate limit
STOP_CHECK_S = 0.5


@dataclass
class OpenAIDeps:
    """What tests replace: time, randomness and pacing (production uses the real ones).

    The pacing defaults are read from the module constants at creation, so a test that
    goes through the worker (which calls ``run_openai`` without ``deps``) can shorten them.
    """

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    poll_interval_s: float = field(default_factory=lambda: POLL_INTERVAL_S)
    stop_check_s: float = field(default_factory=lambda: STOP_CHECK_S)  # how soon a stop is noticed while waiting
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    request_timeout_s: float = 120.0


def run_openai(config: RunConfig, run_dir: Path, emit: Callable[[Event], None], control: RunControl,
               *, deps: OpenAIDeps | None = None) -> None:
    """Run (or resume following) an OpenAI fine-tuning job; ends with exactly one terminal event."""
    run_dir = Path(run_dir)
    key: str | None = os.environ.get("OPENAI_API_KEY", "").strip() or None
    safe_emit = _redacting(emit, key)
    runner: _JobRunner | None = None
    try:
        key = api_key_from_env()
        runner = _JobRunner(config, run_dir, safe_emit, control, deps or OpenAIDeps(), key)
        runner.run()
    except OpenAIBackendError as exc:
        safe_emit(Failed(message=exc.message, hint=exc.hint, step=runner.last_step if runner else None))
    except Exception as exc:  # noqa: BLE001 - the worker thread must never die silently
        safe_emit(Failed(message=f"unexpected error in the OpenAI backend: {type(exc).__name__}: {exc}",
                         hint="this is a bug in ftui; the job (if created) keeps running: see openai_job.json"))
    finally:
        if runner is not None:
            runner.close()


def _redact_value(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return redact(value, key)
    if isinstance(value, dict):
        return {redact(str(k), key): _redact_value(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, key) for v in value]
    return value


def _redacting(emit: Callable[[Event], None], key: str | None) -> Callable[[Event], None]:
    """``emit`` with the key scrubbed from every text field: a server may echo it in a message."""
    if not key:
        return emit

    def safe(event: Event) -> None:
        changes = {f.name: _redact_value(getattr(event, f.name), key) for f in dataclasses.fields(event)
                   if isinstance(getattr(event, f.name), (str, dict, list))}
        emit(dataclasses.replace(event, **changes) if changes else event)

    return safe


def _hyper_value(value: Any, name: str, *, integer: bool) -> int | float | str:
    """``"auto"`` or a positive number, else a message naming the config field."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return "auto"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OpenAIBackendError(f"{name}: {value!r} is not a number", f'set {name} to a positive number or "auto"'
                                 ) from None
    if not math.isfinite(number) or number <= 0:
        raise OpenAIBackendError(f"{name}: must be > 0 (got {value!r})", f'set {name} to a positive number or "auto"')
    return max(1, round(number)) if integer else number


def job_params(config: RunConfig) -> dict[str, Any]:
    """The create-job body for ``config`` (hyperparameters under ``method.supervised``, not the deprecated top level)."""
    if not (config.openai_model or "").strip():
        raise OpenAIBackendError("openai_model: empty", "set openai_model, e.g. gpt-4o-mini-2024-07-18")
    if config.openai_suffix and len(config.openai_suffix) > 64:
        raise OpenAIBackendError("openai_suffix: longer than 64 characters", "shorten openai_suffix")
    hyper = {
        "n_epochs": _hyper_value(config.num_epochs, "num_epochs", integer=True),
        "batch_size": _hyper_value(config.openai_batch_size, "openai_batch_size", integer=True),
        "learning_rate_multiplier": _hyper_value(config.openai_lr_multiplier, "openai_lr_multiplier", integer=False),
    }
    params: dict[str, Any] = {
        "model": config.openai_model.strip(),
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
        "seed": config.seed,
    }
    if config.openai_suffix:
        params["suffix"] = config.openai_suffix
    return params


def failed_job_hint(error: Any) -> str:
    param = getattr(error, "param", None) or ""
    code = (getattr(error, "code", None) or "").lower()
    if param in ("training_file", "validation_file"):
        return f"fix the {param.replace('_', ' ')} (check it with `ftui lint --profile openai FILE`) and start a new run"
    if "quota" in code or "billing" in code or "limit" in code:
        return "check the account's billing and usage limits, then start a new run"
    return "read the job's messages above, fix the cause and start a new run"


class _JobRunner:
    def __init__(self, config: RunConfig, run_dir: Path, emit: Callable[[Event], None], control: RunControl,
                 deps: OpenAIDeps, key: str) -> None:
        self.config = config
        self.run_dir = run_dir
        self.emit = emit
        self.control = control
        self.deps = deps
        self.key = key
        self.base_url = resolve_base_url(config.openai_base_url)
        self.state_path = run_dir / JOB_STATE_NAME
        self.state: dict[str, Any] = {}
        self.last_step: int | None = None
        self.last_checkpoint: str | None = None
        self._seen_events: set[str] = set()
        self._seen_checkpoints: set[str] = set()
        self._client: FineTuneClient | None = None
        self._checkpoints_supported = True

    # -- plumbing ----------------------------------------------------------------------

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def client(self) -> FineTuneClient:
        if self._client is None:
            self._client = FineTuneClient(
                self.key, self.base_url, sleep=self._wait, policy=self.deps.retry, rng=self.deps.rng,
                on_retry=lambda text: self.emit(Message(text=text, level="warning")),
                timeout_s=self.deps.request_timeout_s,
            )
        return self._client

    def _wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when a stop is requested."""
        end = self.deps.clock() + seconds
        while not self.control.stop_requested:
            left = end - self.deps.clock()
            if left <= 0:
                return
            self.deps.sleep(min(left, self.deps.stop_check_s))

    def _save_state(self) -> None:
        """Atomic write (tmp + rename): a crash leaves the old or the new file, never half of one."""
        self.state["last_step"] = self.last_step
        self.state["last_checkpoint"] = self.last_checkpoint
        self.state["seen_checkpoints"] = sorted(self._seen_checkpoints)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_path)

    def _load_state(self) -> bool:
        try:
            self.state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        except ValueError:
            raise OpenAIBackendError(f"{self.state_path} is damaged (not JSON)",
                                     "restore it, or start a new run (the job keeps running on the server)") from None
        self.last_step = self.state.get("last_step")
        self.last_checkpoint = self.state.get("last_checkpoint")
        self._seen_checkpoints = set(self.state.get("seen_checkpoints") or [])
        return True

    # -- the run -----------------------------------------------------------------------

    def run(self) -> None:
        resumed = self._load_state()
        if resumed and self.state.get("id"):
            self.emit(Message(text=f"resuming: following OpenAI job {self.state['id']} on {display_url(self.base_url)}"))
        else:
            resumed = False
            self._prepare_and_create()
            if self.control.stop_requested and not self.state.get("id"):
                self.emit(Stopped(step=None, saved=False))
                return
        try:
            self._follow(self.state["id"], resumed)
        except OpenAIBackendError as exc:
            # The job lives on the server whatever happened here: say so, and how to pick it up again.
            note = (f"job {self.state['id']} may still be running on the server; resuming this run directory "
                    f"follows it again ({JOB_STATE_NAME})")
            raise OpenAIBackendError(exc.message, f"{exc.hint}; {note}" if exc.hint else note) from None

    def _prepare_and_create(self) -> None:
        config = self.config
        params = job_params(config)  # check the hyperparameters before any upload
        self.emit(Message(text="checking the training data for OpenAI"))
        train = prepare_openai_file(config.train_path, self.run_dir / TRAIN_FILE_NAME, "train_path",
                                    min_examples=MIN_TRAIN_EXAMPLES, scrub=self.key)
        valid = None
        if config.eval_path:
            valid = prepare_openai_file(config.eval_path, self.run_dir / VALID_FILE_NAME, "eval_path",
                                        min_examples=1, scrub=self.key)
        for prepared in (train, valid):
            if prepared is not None:
                self.emit(Message(text=f"{prepared.source.name}: {prepared.examples} examples"
                                       + (f" (converted from {prepared.converted_from})"
                                          if prepared.converted_from != "chat" else "")))
        self.state = {
            # unique per attempt: a retried create adopts only a job this very run made
            "run_tag": f"{self.run_dir.name}-{secrets.token_hex(4)}",
            "model": params["model"],
            "base_url": display_url(self.base_url),
            "datasets": {str(p.source): p.sha256 for p in (train, valid) if p is not None},
            "examples": {"train": train.examples, "validation": valid.examples if valid else None},
            "hyperparameters": params["method"]["supervised"]["hyperparameters"],
        }
        self._started(resumed=False)
        self.emit(Message(text=f"uploading {train.path.name} to {display_url(self.base_url)}"))
        self.state["training_file"] = self.client.upload_file(train.path)
        if valid is not None:
            self.state["validation_file"] = self.client.upload_file(valid.path)
        self._save_state()
        if self.control.stop_requested:
            return
        params["training_file"] = self.state["training_file"]
        if valid is not None:
            params["validation_file"] = self.state["validation_file"]
        job = self.client.create_job(self.state["run_tag"], **params)
        self.state["id"] = job.id
        self.state["created_at"] = getattr(job, "created_at", None)
        self._save_state()
        self.emit(Message(text=f"created OpenAI job {job.id} ({params['model']})"))

    def _started(self, *, resumed: bool) -> None:
        epochs = self.state.get("hyperparameters", {}).get("n_epochs")
        self.emit(Started(
            run_id=self.run_dir.name, method="openai", model=self.state.get("model") or self.config.openai_model,
            num_epochs=float(epochs) if isinstance(epochs, (int, float)) else None,
            device=f"openai ({self.state.get('base_url') or display_url(self.base_url)})", pid=os.getpid(),
            datasets=self.state.get("datasets"), resumed_from_step=self.last_step if resumed else None,
        ))

    def _follow(self, job_id: str, resumed: bool) -> None:
        if resumed:
            self._started(resumed=True)
        last_status = None
        while True:
            if self.control.stop_requested:
                self._cancel(job_id)
                return
            job = self.client.retrieve_job(job_id)
            self._read_events(job_id)
            self._read_checkpoints(job_id)
            if job.status != last_status:
                last_status = job.status
                self.state["status"] = job.status
                self._save_state()
                self.emit(Message(text=f"job {job_id}: {job.status}"))
            if job.status in TERMINAL_STATUSES:
                self._finish(job)
                return
            self._wait(self.deps.poll_interval_s)

    def _finish(self, job: Any) -> None:
        if job.status == "succeeded":
            self.state["fine_tuned_model"] = job.fine_tuned_model
            self._save_state()
            if getattr(job, "trained_tokens", None):
                self.emit(Message(text=f"trained tokens (billed): {job.trained_tokens:,}"))
            self.emit(Finished(step=self.last_step, adapter_path=job.fine_tuned_model))
        elif job.status == "failed":
            error = getattr(job, "error", None)
            reason = getattr(error, "message", None) or "no reason given"
            code = getattr(error, "code", None)
            self.emit(Failed(message=f"the OpenAI job {job.id} failed: {reason}" + (f" ({code})" if code else ""),
                             hint=failed_job_hint(error), step=self.last_step))
        else:  # cancelled elsewhere (the dashboard, another process)
            self.emit(Message(text=f"job {job.id} was cancelled", level="warning"))
            self.emit(Stopped(step=self.last_step, saved=self.last_checkpoint is not None,
                              checkpoint=self.last_checkpoint))

    def _cancel(self, job_id: str) -> None:
        self.emit(Message(text=f"stop requested: cancelling OpenAI job {job_id}"))
        try:
            job = self.client.cancel_job(job_id)
        except OpenAIBackendError:
            job = self.client.retrieve_job(job_id)  # it may have ended meanwhile: report how
            if job.status not in TERMINAL_STATUSES:
                raise
        self.state["status"] = job.status
        self._save_state()
        if job.status in ("succeeded", "failed"):
            self._read_events(job_id)
            self._read_checkpoints(job_id)
            self._finish(job)
            return
        self.emit(Stopped(step=self.last_step, saved=self.last_checkpoint is not None,
                          checkpoint=self.last_checkpoint))

    # -- events and checkpoints --------------------------------------------------------

    def _read_events(self, job_id: str) -> None:
        """New events since the last read, oldest first. Pages come newest first, so walk back
        until the newest event already handled (recorded in the state, so a resume does not
        repeat them)."""
        newest_seen = self.state.get("last_event_id")
        fresh: list[Any] = []
        after = None
        while True:
            page = self.client.events_page(job_id, after=after)
            data = list(page.data or [])
            reached = False
            for event in data:
                if event.id == newest_seen:
                    reached = True
                    break
                if event.id not in self._seen_events:
                    fresh.append(event)
            if reached or not data or not page.has_more:
                break
            after = data[-1].id
        if not fresh:
            return
        for event in reversed(fresh):
            self._seen_events.add(event.id)
            self._handle_event(event)
        self.state["last_event_id"] = fresh[0].id
        self._save_state()

    def _handle_event(self, event: Any) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        if event.type == "metrics" and "step" in data:
            self._handle_metrics(data)
        else:
            self.emit(Message(text=str(event.message), level=LEVELS.get(event.level, "info")))

    def _handle_metrics(self, data: dict[str, Any]) -> None:
        def num(name: str) -> float | None:
            value = data.get(name)
            return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

        step = int(data["step"])
        self.last_step = step if self.last_step is None else max(self.last_step, step)
        if num("train_loss") is not None or num("train_mean_token_accuracy") is not None:
            self.emit(Log(step=step, loss=num("train_loss"), mean_token_accuracy=num("train_mean_token_accuracy")))
        valid = {k: num(k) for k in ("valid_loss", "valid_mean_token_accuracy",
                                     "full_valid_loss", "full_valid_mean_token_accuracy")}
        valid = {k: v for k, v in valid.items() if v is not None}
        if valid:
            # The full-validation loss (end of an epoch) is the better figure when present.
            eval_loss = valid.get("full_valid_loss", valid.get("valid_loss"))
            self.emit(Eval(step=step, eval_loss=eval_loss, metrics=valid))

    def _read_checkpoints(self, job_id: str) -> None:
        if not self._checkpoints_supported:
            return
        fresh: list[Any] = []
        after = None
        while True:
            try:
                page = self.client.checkpoints_page(job_id, after=after)
            except OpenAIBackendError as exc:
                if exc.status_code not in (404, 405, 501):
                    raise
                # some compatible services have no checkpoints endpoint: follow the job without them
                self._checkpoints_supported = False
                self.emit(Message(text="this service lists no job checkpoints; following the job without them",
                                  level="warning"))
                return
            data = list(page.data or [])
            fresh.extend(c for c in data if c.id not in self._seen_checkpoints)
            if not data or not page.has_more:
                break
            after = data[-1].id
        if not fresh:
            return
        for checkpoint in sorted(fresh, key=lambda c: c.step_number):
            self._seen_checkpoints.add(checkpoint.id)
            self.emit(Checkpoint(step=checkpoint.step_number, path=checkpoint.fine_tuned_model_checkpoint))
            if checkpoint.step_number >= self.state.get("last_checkpoint_step", -1):
                self.state["last_checkpoint_step"] = checkpoint.step_number
                self.last_checkpoint = checkpoint.fine_tuned_model_checkpoint
        self._save_state()
