"""Rebuild a run's curves and state from its event log (live or past).

The Train screen, the diagnostics and the comparison view all read a run through a
``RunHistory``: events are applied one at a time (``apply``), so a live tail and a
finished log give the same picture. Nothing here imports Textual or torch.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.train.events import (
    EVENT_LOG_NAME,
    Checkpoint,
    DataAccounting,
    Eval,
    Event,
    Failed,
    Finished,
    Log,
    Memory,
    Message,
    Started,
    Stopped,
    read_events,
)

CONFIG_NAMES = ("config.yaml", "config.yml", "run_config.yaml")
LAST_MESSAGES = 50


@dataclass
class Series:
    """One curve: parallel x (step), epoch and y lists. ``None`` y values are skipped on add."""

    steps: list[int] = field(default_factory=list)
    epochs: list[float | None] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, step: int, epoch: float | None, value: float | None) -> None:
        if value is None:
            return
        self.steps.append(int(step))
        self.epochs.append(epoch)
        self.values.append(float(value))

    def __len__(self) -> int:
        return len(self.values)

    def xs(self, axis: str = "step") -> list[float]:
        """X values for ``axis`` "step" or "epoch" (epoch falls back to step where unknown)."""
        if axis == "epoch" and self.epochs and all(e is not None for e in self.epochs):
            return [float(e) for e in self.epochs]  # type: ignore[arg-type]
        return [float(s) for s in self.steps]

    def last(self) -> float | None:
        return self.values[-1] if self.values else None


@dataclass
class MemoryPoint:
    step: int | None
    t: float
    source: str
    allocated: int | None = None
    reserved: int | None = None
    peak: int | None = None
    device_used: int | None = None
    device_total: int | None = None
    rss: int | None = None
    peak_allocated: int | None = None  # since the previous sample (what the steps in between needed)
    peak_reserved: int | None = None
    rss_peak: int | None = None


@dataclass
class RunHistory:
    """Everything the monitor shows about one run, built incrementally from events."""

    run_id: str = ""
    method: str = ""
    model: str = ""
    device: str | None = None
    total_steps: int | None = None
    num_epochs: float | None = None
    estimate_gb: float | None = None
    estimate_torch_gb: float | None = None  # the estimate without the CUDA context: the basis of peak_reserved
    resumed_from_step: int | None = None
    pid: int | None = None
    loss: Series = field(default_factory=Series)
    eval_loss: Series = field(default_factory=Series)
    lr: Series = field(default_factory=Series)
    grad_norm: Series = field(default_factory=Series)
    tokens_per_s: Series = field(default_factory=Series)
    # preference runs (DPO, ORPO, KTO): TRL's implicit rewards, their margin and the pairs ranked right
    rewards_chosen: Series = field(default_factory=Series)
    rewards_rejected: Series = field(default_factory=Series)
    rewards_margin: Series = field(default_factory=Series)
    rewards_accuracy: Series = field(default_factory=Series)
    kl: Series = field(default_factory=Series)  # KTO's KL estimate, drawn where DPO/ORPO draw the accuracy
    memory: list[MemoryPoint] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    data_accounting: dict[str, DataAccounting] = field(default_factory=dict)  # by dataset name ("train", "eval")
    messages: deque[Message] = field(default_factory=lambda: deque(maxlen=LAST_MESSAGES))
    started_t: float | None = None
    last_t: float | None = None
    last_step: int = 0
    last_epoch: float | None = None
    terminal: Event | None = None
    eval_runtime_s: float | None = None  # how long the last evaluation took
    # (t, step) of recent logs, to estimate the step rate for the ETA
    _step_times: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    events_seen: int = 0

    # ------------------------------------------------------------------ building
    @classmethod
    def from_events(cls, events: list[Event]) -> RunHistory:
        history = cls()
        history.extend(events)
        return history

    @classmethod
    def from_run_dir(cls, run_dir: Path) -> RunHistory:
        history = cls.from_events(read_events(Path(run_dir) / EVENT_LOG_NAME))
        if not history.run_id:
            history.run_id = Path(run_dir).name
        return history

    def extend(self, events: list[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Fold one event into the history (unknown types are ignored)."""
        self.events_seen += 1
        self.last_t = event.t
        if isinstance(event, Started):
            self._apply_started(event)
        elif isinstance(event, Log):
            self._apply_log(event)
        elif isinstance(event, Eval):
            self._note_step(event.step, event.epoch)
            self.eval_loss.add(event.step, event.epoch, _finite_or_nan(event.eval_loss))
            if event.runtime_s is not None:
                self.eval_runtime_s = event.runtime_s
        elif isinstance(event, Memory):
            self.memory.append(
                MemoryPoint(
                    step=event.step,
                    t=event.t,
                    source=event.source,
                    allocated=event.allocated,
                    reserved=event.reserved,
                    peak=event.peak,
                    device_used=event.device_used,
                    device_total=event.device_total,
                    rss=event.rss,
                    peak_allocated=event.peak_allocated,
                    peak_reserved=event.peak_reserved,
                    rss_peak=event.rss_peak,
                )
            )
        elif isinstance(event, DataAccounting):
            self.data_accounting[event.dataset] = event
        elif isinstance(event, Checkpoint):
            self.checkpoints.append(event)
            self._note_step(event.step, None)
        elif isinstance(event, Message):
            if event.key is not None and self.messages and self.messages[-1].key == event.key:
                self.messages.pop()  # a progress line replaces the previous one (e.g. a download)
            self.messages.append(event)
        elif isinstance(event, (Finished, Failed, Stopped)):
            self.terminal = event
            if event.step is not None:
                self._note_step(event.step, None)

    def _apply_started(self, event: Started) -> None:
        # a resumed run appends a second "started": keep the curves, refresh the header
        self.run_id = event.run_id
        self.method = event.method
        self.model = event.model
        self.device = event.device
        self.total_steps = event.total_steps
        self.num_epochs = event.num_epochs
        self.estimate_gb = event.estimate_gb
        self.estimate_torch_gb = getattr(event, "estimate_torch_gb", None)
        self.resumed_from_step = event.resumed_from_step
        self.pid = event.pid
        if self.started_t is None:
            self.started_t = event.t
        self.terminal = None
        self._step_times.clear()

    def _apply_log(self, event: Log) -> None:
        self._note_step(event.step, event.epoch)
        self.loss.add(event.step, event.epoch, _finite_or_nan(event.loss))
        self.lr.add(event.step, event.epoch, event.lr)
        self.grad_norm.add(event.step, event.epoch, _finite_or_nan(event.grad_norm))
        self.tokens_per_s.add(event.step, event.epoch, event.tokens_per_s)
        for name in ("rewards_chosen", "rewards_rejected", "rewards_margin", "rewards_accuracy", "kl"):
            getattr(self, name).add(event.step, event.epoch, _finite_or_nan(getattr(event, name, None)))
        self._step_times.append((event.t, event.step))

    @property
    def is_preference(self) -> bool:
        """A preference run (its logs carry rewards): the monitor draws rewards where SFT draws lr and tokens/s."""
        return bool(self.rewards_chosen or self.rewards_margin)

    def _note_step(self, step: int, epoch: float | None) -> None:
        if step >= self.last_step:
            self.last_step = step
            if epoch is not None:
                self.last_epoch = epoch

    # ------------------------------------------------------------------ reading
    @property
    def status(self) -> str:
        if self.terminal is not None:
            return self.terminal.type
        return "running" if self.started_t is not None else "created"

    @property
    def progress(self) -> float | None:
        """Fraction done in [0, 1], or None when the total is unknown."""
        if not self.total_steps or self.total_steps <= 0:
            return None
        return min(1.0, self.last_step / self.total_steps)

    def elapsed_s(self, now: float | None = None) -> float | None:
        if self.started_t is None:
            return None
        end = now if (now is not None and self.terminal is None) else self.last_t
        return max(0.0, (end or self.started_t) - self.started_t)

    def steps_per_s(self) -> float | None:
        """Recent step rate (over the last logged steps), robust to a slow first step."""
        if len(self._step_times) < 2:
            return None
        (t0, s0), (t1, s1) = self._step_times[0], self._step_times[-1]
        if t1 <= t0 or s1 <= s0:
            return None
        return (s1 - s0) / (t1 - t0)

    def eta_s(self) -> float | None:
        rate = self.steps_per_s()
        if rate is None or not self.total_steps or self.terminal is not None:
            return None
        return max(0.0, (self.total_steps - self.last_step) / rate)

    def best_eval(self) -> tuple[int, float] | None:
        """(step, eval_loss) of the lowest finite eval loss."""
        best: tuple[int, float] | None = None
        for step, value in zip(self.eval_loss.steps, self.eval_loss.values, strict=True):
            if math.isfinite(value) and (best is None or value < best[1]):
                best = (step, value)
        return best

    def checkpoint_at_or_before(self, step: int) -> Checkpoint | None:
        """The checkpoint saved closest to (not after) ``step``: the one to keep for the best eval."""
        found = None
        for ckpt in self.checkpoints:
            if ckpt.step <= step and (found is None or ckpt.step >= found.step):
                found = ckpt
        return found

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def memory_source(self) -> str | None:
        return self.memory[-1].source if self.memory else None

    def memory_limit_bytes(self) -> int | None:
        """The device total, when the log reports one (CPU runs have no limit we can read)."""
        for point in reversed(self.memory):
            if point.device_total:
                return point.device_total
        return None


def _finite_or_nan(value: float | None) -> float | None:
    """Keep NaN/inf visible to the diagnostics (a NaN loss is a finding, not a gap)."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# ---------------------------------------------------------------------- configs
def read_run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config as a plain dict (empty when the run directory has none or it is unreadable)."""
    import yaml

    for name in CONFIG_NAMES:
        path = Path(run_dir) / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def config_diff(configs: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Fields whose values differ between the configs: (field, [value per config]) in field order.

    A field missing from one config counts as different (shown as None).
    """
    keys: list[str] = []
    for config in configs:
        for key in config:
            if key not in keys:
                keys.append(key)
    rows = []
    for key in keys:
        values = [config.get(key) for config in configs]
        if any(v != values[0] for v in values[1:]):
            rows.append((key, values))
    return rows


def format_eval_time(seconds: float) -> str:
    """An evaluation's duration: tenths under 10 s ("0.4s"), else like ``format_duration``."""
    return f"{seconds:.1f}s" if seconds < 10 else format_duration(seconds)


def format_duration(seconds: float | None) -> str:
    """Human duration: "42s", "3m 05s", "2h 14m"."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
