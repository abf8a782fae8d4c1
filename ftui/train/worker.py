"""The training worker: one thread per run in this process, plus a writer thread for its log.

``start_run`` creates (or reopens, for ``resume``) the run directory, takes its lock and
starts the run. The backend (HF or OpenAI) gets ``emit`` and ``control``: ``emit`` only
puts a small dict on a ``queue.SimpleQueue`` (no I/O on the training thread); the writer
thread drains it into ``events.jsonl``, one flushed line per event, and polls
``control.json`` so another process (``ftui attach``) can stop the run.

Whatever happens inside the backend, the run ends with exactly one terminal event
(``finished`` / ``stopped`` / ``failed``): an exception, CUDA out-of-memory included,
becomes a ``failed`` event with a readable message and a hint, and the traceback goes to
``traceback.txt``. The thread never dies silently, and neither does the writer: an event
log that cannot be written (a full disk) stops the run with a checkpoint, ``log_error``
says why, and the verdict is a ``failed`` event if the disk lets it be written.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftui.config import RunConfig, dump_config
from ftui.secrets import scrub_secrets, secret_values
from ftui.train import live, run_lock, runs
from ftui.train.control import RunControl
from ftui.train.errors import InvalidRunConfig, TrainError
from ftui.train.events import EVENT_LOG_NAME, TERMINAL_TYPES, Event, EventLogWriter, Failed, Message, Stopped
from ftui.train.preflight import validate

Emit = Callable[[Event | dict], None]
_SENTINEL = object()
CONTROL_POLL_S = 0.5
WRITE_BATCH_S = 0.1  # events reach the log at most this late; the UI redraws at 2-4 Hz anyway
_LOG_FAILED_HINT = ("free disk space (or fix the permissions) where the run directory is, then resume the run "
                    "from its last checkpoint: ftui train --resume {run}")


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` through the one scrubber (ftui.secrets), with ``secrets`` named as well."""
    return scrub_secrets(text, secrets)


def describe_failure(exc: BaseException, step: int | None) -> tuple[str, str | None]:
    """One readable line and a hint for an exception raised while training."""
    at = f" at step {step}" if step is not None else ""
    text = str(exc).strip()
    name = type(exc).__name__
    if name == "OutOfMemoryError" or "out of memory" in text.lower():
        if "cuda" in text.lower() or name == "OutOfMemoryError":
            return (
                f"out of GPU memory{at}: lower the batch size or sequence length, or use QLoRA",
                "set micro_batch_size (raise grad_accum to keep the effective batch) or max_seq_len lower, "
                "keep gradient_checkpointing on, or switch to method: qlora",
            )
        return (f"out of memory{at}", "lower micro_batch_size or max_seq_len, or train a smaller model")
    if isinstance(exc, TrainError):
        return (text, exc.hint)
    if _disk_full(exc):
        return (
            f"no space left on device{at} (while writing a checkpoint or the model): the disk of the run directory is full",
            "free disk space there (df -h shows it) or lower save_total_limit to keep fewer checkpoints, then resume "
            "from the last intact checkpoint: ftui train --resume RUN",
        )
    first = text.splitlines()[0] if text else ""
    message = f"{name}{at}: {first[:400]}" if first else f"{name}{at}"
    return (message, f"the full traceback is in {runs.TRACEBACK_NAME} in the run directory")


def _disk_full(exc: BaseException) -> bool:
    """ENOSPC anywhere in the chain, or torch's own words for a write cut short by a full disk
    ("[enforce fail at inline_container.cc] unexpected pos", "file write failed")."""
    import errno

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(current).lower()
        if "no space left on device" in text or "disk quota exceeded" in text or "os error 28" in text:
            return True
        if "inline_container" in text and ("unexpected pos" in text or "file write failed" in text):
            return True
        if "pytorchstreamwriter failed writing" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


class SetupStopped(BaseException):  # noqa: N818 - like KeyboardInterrupt: library `except Exception` must not eat it
    """Raised inside the training thread when a stop arrives while the run is still being set up."""


SETUP_STOP_GRACE_S = 1.0  # a stop during set-up (loading, tokenising) interrupts it after this long


class TrainingWorker:
    """A run executing in a thread of this process. Safe to query and stop from any thread."""

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        resume: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.run_id = self.run_dir.name
        self.resume = resume
        self.control = RunControl()
        self.events_path = self.run_dir / EVENT_LOG_NAME
        self.result: str | None = None  # the terminal event type once the run has ended
        self.error: BaseException | None = None
        self.log_error: str | None = None  # why the event log could not be written, once it could not
        self.last_step: int | None = None
        self._callbacks = list(callbacks)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ended = False  # the writer has seen the training thread's last event
        self._lock = run_lock.RunLock(self.run_dir)
        self._secrets = secret_values()
        self._trainer_started = False  # the backend's "started" event: from then on the trainer checks stops per step
        self._stop_seen_at: float | None = None
        self._setup_interrupts = 0
        self._thread = threading.Thread(target=self._run, name=f"ftui-train-{self.run_id}")
        self._writer = threading.Thread(target=self._drain, name=f"ftui-events-{self.run_id}")

    # ------------------------------------------------------------------ public API

    def stop(self, save: bool = False) -> None:
        """Stop at the next step boundary; with ``save`` write a checkpoint (and the adapter) first."""
        self.control.request_stop(save=save)

    def is_alive(self) -> bool:
        return self._thread.is_alive() or self._writer.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run (and its log writer) to end; True when it has."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._thread.join(timeout)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._writer.join(remaining)
        return not self.is_alive()

    def emit(self, event: Event | dict) -> None:
        """Queue an event for the log; called from the training thread, never blocks on I/O."""
        data = event.to_dict() if isinstance(event, Event) else event
        step = data.get("step")
        if isinstance(step, int):
            self.last_step = step
        if data.get("type") in TERMINAL_TYPES and self.result is None:
            self.result = data["type"]
        if data.get("type") == "started":
            self._trainer_started = True
        self._queue.put(data)

    # ------------------------------------------------------------------ internals

    def start(self) -> None:
        """Take the run's lock (RunDirError if another process trains it), record the metadata, start."""
        self._lock.acquire()
        try:
            run_lock.clear_control(self.run_dir)
            runs.write_run_metadata(self.run_dir, self.config, pid=os.getpid())
        except BaseException:
            self._lock.release()
            raise
        self._writer.start()
        self._thread.start()

    def _run(self) -> None:
        try:
            backend = _backend_for(self.config.method)
            if self.config.method == "openai":
                backend(self.config, self.run_dir, self.emit, self.control)
            else:
                backend(self.config, self.run_dir, self.emit, self.control, resume=self.resume, callbacks=self._callbacks)
            if self.result is None:
                self.emit(Failed(message="the training ended without a result", hint="see traceback.txt or the log above", step=self.last_step))
        except SetupStopped:
            if self.result is None:
                self.emit(Stopped(step=self.last_step or 0, saved=False))
        except BaseException as exc:  # noqa: BLE001 - the thread must never die silently
            self.error = exc
            self._write_traceback(exc)
            if self.result is None:  # a backend that already ended the run keeps its own verdict
                step = getattr(exc, "ftui_step", None) or self.last_step
                message, hint = describe_failure(exc, step)
                self.emit(Failed(message=scrub(message, self._secrets), hint=hint, step=step))
        finally:
            self._queue.put(_SENTINEL)

    def _write_traceback(self, exc: BaseException) -> None:
        try:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            (self.run_dir / runs.TRACEBACK_NAME).write_text(scrub(text, self._secrets), encoding="utf-8")
        except OSError:
            pass

    def _drain(self) -> None:
        try:
            writer = EventLogWriter(self.events_path)
        except OSError as exc:
            # no log, no run: a run nobody can see must not go on burning the GPU
            self._log_failed(exc, save=False)
            self._lock.release()
            return
        try:
            while not self._ended:
                try:
                    self._pump(writer)
                except Exception as exc:  # noqa: BLE001 - the writer must never die quietly while the run trains on
                    self._log_failed(exc, what="the event log writer failed")  # then go on writing what comes
        finally:
            try:
                writer.close()
            except OSError:
                pass
            from ftui.private import tighten_tree

            tighten_tree(self.run_dir)  # checkpoints and adapters were written with the umask's modes
            self._lock.release()

    def _pump(self, writer: EventLogWriter) -> None:
        next_poll = 0.0
        while True:
            try:
                item = self._queue.get(timeout=0.25)
            except queue.Empty:
                item = None
            batch = [] if item is None else [item]
            if item is not None and item is not _SENTINEL:
                # let a burst (log + memory + checkpoint) gather: one wake-up per burst, not per event,
                # so this thread seldom competes with the training thread for the GIL
                time.sleep(WRITE_BATCH_S)
                batch.extend(self._drain_now())
            if any(entry is _SENTINEL for entry in batch):
                self._ended = True  # set first: whatever happens below, the writer ends with this batch
            for entry in batch:
                if entry is not _SENTINEL:
                    self._write(writer, entry)  # one line each, flushed each
            if self._ended:
                break
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + CONTROL_POLL_S
                self._poll_control(writer)
            self._interrupt_setup_if_stopped(writer)
        for entry in self._drain_now():  # what raced the sentinel (nothing should; never lose an event)
            if entry is not _SENTINEL:
                self._write(writer, entry)

    def _interrupt_setup_if_stopped(self, writer: EventLogWriter) -> None:
        """A stop that arrives while the run is still loading or tokenising (one huge row can take
        minutes, and the trainer checks stops only per step) interrupts that work: SetupStopped is
        raised in the training thread at its next Python instruction, and the run ends "stopped"."""
        if not self.control.stop_requested or self._trainer_started or self.config.method == "openai":
            self._stop_seen_at = None
            return
        now = time.monotonic()
        if self._stop_seen_at is None:
            self._stop_seen_at = now
        waited = now - self._stop_seen_at
        if waited < SETUP_STOP_GRACE_S * (1 + 4 * self._setup_interrupts) or not self._thread.is_alive():
            return
        import ctypes

        if self._thread.ident is not None and ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(SetupStopped)) == 1:
            if not self._setup_interrupts:
                self._write(writer, Message(text="stop requested while the run was being set up: "
                                            "interrupting it (nothing to save yet)").to_dict())
            self._setup_interrupts += 1

    def _drain_now(self) -> list:
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def _write(self, writer: EventLogWriter, data: dict) -> None:
        """Append one event. A write that fails stops the run and is reported, never swallowed."""
        if self._secrets:
            data = {k: scrub(v, self._secrets) if isinstance(v, str) else v for k, v in data.items()}
        if self.log_error is not None and data.get("type") in ("finished", "stopped"):
            # the run ended because its log could not be written: that is its verdict, if the disk lets us say so
            self.result = "failed"
            data = Failed(message=self.log_error, hint=_LOG_FAILED_HINT.format(run=self.run_id),
                          step=data.get("step")).to_dict()
        try:
            writer.write(data)
            return
        except TypeError as exc:  # an event with a value JSON cannot hold: drop it, say so, train on
            notice = Message(text=f"unserialisable {data.get('type')} event dropped: {exc}", level="warning")
            try:
                writer.write(notice.to_dict())
                return
            except (OSError, ValueError, TypeError) as again:
                failure: Exception = again
        except (OSError, ValueError) as exc:
            failure = exc
        self._log_failed(failure)

    def _log_failed(self, exc: BaseException, save: bool = True, what: str = "the event log could not be written") -> None:
        """The event log cannot be written: stop the run (saving a checkpoint), keep the reason in ``log_error``.

        A run nobody can see (the TUI, ``ftui attach`` and the status all read the log) must not
        go on for hours; later events are still tried, so a disk that recovers gets the verdict.
        """
        if self.log_error is not None:
            return
        at = f" at step {self.last_step}" if self.last_step is not None else ""
        self.log_error = scrub(f"{what}{at} ({type(exc).__name__}: {exc}); training stopped", self._secrets)
        self.control.request_stop(save=save)

    def _poll_control(self, writer: EventLogWriter) -> None:
        action = run_lock.read_control(self.run_dir)
        if action is None:
            return
        try:
            run_lock.clear_control(self.run_dir)
        except OSError as exc:
            # the request is honoured all the same; the file stays, and a stop already asked for ignores it
            if not self.control.stop_requested:
                self._write(writer, Message(text=f"could not remove {run_lock.CONTROL_NAME} ({exc}); remove it before "
                                            "resuming this run", level="warning").to_dict())
        if self.control.stop_requested:
            return
        save = action == run_lock.STOP_AND_SAVE
        self.control.request_stop(save=save)
        text = "stop-and-save requested from another process" if save else "stop requested from another process"
        self._write(writer, Message(text=text).to_dict())


def _backend_for(method: str) -> Callable[..., None]:
    if method == "openai":
        from ftui.train.openai_backend import run_openai

        return run_openai
    from ftui.config import PREFERENCE_METHODS

    if method in PREFERENCE_METHODS:
        from ftui.train.preference_backend import run_preference

        return run_preference
    from ftui.train.hf_backend import run_hf

    return run_hf


def start_run(
    config: RunConfig,
    run_dir: Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    check: bool = True,
    share_cores: bool = False,
) -> TrainingWorker:
    """Start training ``config`` in a thread of this process and return its worker.

    New run: creates the run directory (``run_dir``, else ``config.output_dir``, else a new
    one under the runs directory). ``resume``: reopens ``run_dir`` (its config.yaml wins
    over ``config``'s run-shaping fields only where ``config`` is its own copy) and continues
    from the latest checkpoint. Raises ``InvalidRunConfig`` (with every problem) or
    ``runs.RunDirError`` before anything starts; after that, every failure is a ``failed``
    event in the log. ``share_cores``: a UI runs in this process (the TUI); on a CPU-only box
    training leaves it one core (``cpu_threads.reserve_ui_core``).
    """
    if check:
        problems = validate(config, check_model=False)
        if problems:
            raise InvalidRunConfig(problems)
    if resume:
        target = run_dir or (Path(config.output_dir) if config.output_dir else None)
        if target is None:
            raise runs.RunDirError("resume needs the run directory; give the run id or path.")
        target = Path(target)
        if not (target / runs.CONFIG_NAME).exists():
            raise runs.RunDirError(f"{target} is not an ftui run directory (no {runs.CONFIG_NAME}).")
        if not os.access(target, os.W_OK | os.X_OK):  # else PermissionError on run.lock, as a traceback
            raise runs.RunDirError(
                f"cannot write in the run directory {target} (read-only); a resume appends to its log and "
                f"checkpoints. Make it writable (chmod u+w {target}) or copy the run somewhere writable."
            )
        if config.method != "openai" and runs.latest_checkpoint(target) is None:
            damaged = runs.damaged_checkpoints(target)
            if damaged:
                raise runs.RunDirError(
                    f"run {target.name} has no intact checkpoint: " + "; ".join(f"{p.name} {why}" for p, why in damaged)
                    + ". Start a new run (a checkpoint cut short by a full disk or a kill cannot be resumed)."
                )
            raise runs.RunDirError(
                f"run {target.name} has no checkpoint to resume from (it was stopped without saving); start a new run."
            )
        run_dir = target.resolve()
        # record what the resumed attempt runs with (e.g. a longer max_steps given with --set)
        config = dataclasses.replace(config, output_dir=str(run_dir))
        if runs.load_run_config(run_dir) != config and not run_lock.is_live(run_dir):
            from ftui.private import write_private_text

            write_private_text(run_dir / runs.CONFIG_NAME, dump_config(config))
    else:
        run_dir, config = runs.create_run(config, run_dir)
    if share_cores:
        from ftui.train.cpu_threads import reserve_ui_core

        reserve_ui_core()
    worker = TrainingWorker(config, run_dir, resume=resume, callbacks=callbacks)
    worker.start()
    live.register(worker)
    return worker
