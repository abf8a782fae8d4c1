"""Typed training events and the append-only event log.

The event log (``events.jsonl`` in a run directory) is the source of truth for a run:
the Train screen rebuilds every plot of a live or past run from it, so "watch",
"reattach" and "compare" are the same code. One JSON object per line, flushed per
event; a torn last line (crash mid-write) is skipped by the reader, never fatal.

This module imports nothing heavy and nothing from Textual.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

EVENT_LOG_NAME = "events.jsonl"


@dataclass(kw_only=True)
class Event:
    """Base of every event: its ``type`` tag and wall-clock time ``t`` (unix seconds)."""

    type: ClassVar[str] = "event"
    t: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {"type": self.type}
        data.update({k: v for k, v in asdict(self).items() if v is not None})
        return data


@dataclass(kw_only=True)
class Started(Event):
    type: ClassVar[str] = "started"
    run_id: str
    method: str
    model: str
    total_steps: int | None = None
    num_epochs: float | None = None
    device: str | None = None
    pid: int | None = None
    resumed_from_step: int | None = None
    versions: dict[str, str] | None = None
    datasets: dict[str, str] | None = None  # path -> sha256
    estimate_gb: float | None = None  # the VRAM estimator's total, CUDA context included (compare with NVML's device use)
    estimate_torch_gb: float | None = None  # the same without the CUDA context: what torch's allocator peaks at
    masking: dict | None = None  # the loss-masking path and why (ftui.train.masking.MaskingPlan.record)


@dataclass(kw_only=True)
class Log(Event):
    type: ClassVar[str] = "log"
    step: int
    epoch: float | None = None
    loss: float | None = None
    lr: float | None = None
    grad_norm: float | None = None
    tokens: int | None = None
    tokens_per_s: float | None = None
    mean_token_accuracy: float | None = None
    # preference methods (TRL's rewards/*): the implicit rewards of the chosen and rejected answers,
    # their mean margin, and the share of pairs where chosen beats rejected
    rewards_chosen: float | None = None
    rewards_rejected: float | None = None
    rewards_margin: float | None = None
    rewards_accuracy: float | None = None
    kl: float | None = None  # KTO (no pairs, so no accuracy): its running estimate of KL(policy || reference)


@dataclass(kw_only=True)
class Eval(Event):
    type: ClassVar[str] = "eval"
    step: int
    epoch: float | None = None
    eval_loss: float | None = None
    metrics: dict[str, float] | None = None
    runtime_s: float | None = None  # how long the evaluation took (the trainer's eval_runtime)


@dataclass(kw_only=True)
class Memory(Event):
    """Memory in bytes. ``source`` is ``"cuda"`` (allocator + NVML) or ``"cpu-rss"`` (process RSS, no GPU).

    ``allocated``/``reserved``/``rss`` are the values at the sample (step end, activations
    freed); ``peak_allocated``/``peak_reserved``/``rss_peak`` the peaks since the previous
    sample (what the step really needed); ``peak``/``run_peak_reserved`` the run's peaks so far.
    """

    type: ClassVar[str] = "memory"
    step: int | None = None
    source: str = "cuda"
    allocated: int | None = None
    reserved: int | None = None
    peak: int | None = None
    peak_allocated: int | None = None
    peak_reserved: int | None = None
    run_peak_reserved: int | None = None
    device_used: int | None = None
    device_total: int | None = None
    rss: int | None = None
    rss_peak: int | None = None


@dataclass(kw_only=True)
class DataAccounting(Event):
    """What the trainer did to the rows it was given, counted before training starts.

    ``rows_in`` rows reached the trainer (``skipped`` more were left out by ftui's loader
    for having no usable answer, or by ``on_bad_rows: skip``, which lists them in ``skipped_rows``:
    each ``{"row": N, "reason": ...}``, the first 20; run.json's ``bad_rows`` has them all). ``dropped`` rows train on nothing: every trained token
    lies past ``max_seq_len`` (TRL removes them; with packing they are packed but carry no
    loss). ``truncated`` rows are longer than ``max_seq_len`` and were cut (or, with a
    splitting packing strategy, ``split`` across sequences, losing nothing).
    ``trained_tokens_lost`` of ``trained_tokens_in`` tokens that carry loss were cut off.
    """

    type: ClassVar[str] = "data"
    dataset: str = "train"
    rows_in: int
    rows_trained: int
    dropped: int = 0
    truncated: int = 0
    split: int = 0
    skipped: int = 0
    tokens_in: int | None = None
    trained_tokens_in: int | None = None
    trained_tokens_lost: int | None = None
    longest: int | None = None  # tokens in the longest row: a max_seq_len that keeps every row whole
    max_seq_len: int | None = None
    packing: str | None = None  # None (no packing) or TRL's packing strategy
    skipped_rows: list[dict] | None = None  # on_bad_rows: skip: the rows left out, with why

    def describe(self) -> str:
        """One line for the monitor, ``ftui train`` and the run record."""
        parts = [f"{self.dataset} data: {self.rows_in:,} rows", f"{self.rows_trained:,} trained"]
        if self.dropped:
            parts.append(f"{self.dropped:,} dropped (no trained token within max_seq_len {self.max_seq_len})")
        if self.truncated:
            parts.append(f"{self.truncated:,} truncated at {self.max_seq_len} tokens")
        if self.split:
            parts.append(f"{self.split:,} split across packed sequences")
        if self.trained_tokens_lost and self.trained_tokens_in:
            share = 100 * self.trained_tokens_lost / self.trained_tokens_in
            parts.append(f"{self.trained_tokens_lost:,} of {self.trained_tokens_in:,} trained tokens lost ({share:.1f}%)")
        if self.skipped_rows:
            first = self.skipped_rows[0]
            parts.append(f"{self.skipped:,} skipped (on_bad_rows: skip; row {first.get('row')}: {first.get('reason')}"
                         + (", ..." if self.skipped > 1 else "") + ")")
        elif self.skipped:
            parts.append(f"{self.skipped:,} skipped by the loader (no usable answer)")
        text = " · ".join(parts)
        if (self.dropped or self.truncated) and self.longest:
            text += f"; max_seq_len {self.longest} keeps every row whole"
        return text


@dataclass(kw_only=True)
class Checkpoint(Event):
    type: ClassVar[str] = "checkpoint"
    step: int
    path: str


@dataclass(kw_only=True)
class Finished(Event):
    type: ClassVar[str] = "finished"
    step: int | None = None
    adapter_path: str | None = None
    merged_path: str | None = None
    best_checkpoint: str | None = None
    best_eval_loss: float | None = None
    kept_checkpoint: str | None = None  # the checkpoint whose weights are the final adapter/model (eval ran), else None
    last_path: str | None = None  # the last step's weights when they are not the final ones (adapter-last/)


@dataclass(kw_only=True)
class Failed(Event):
    type: ClassVar[str] = "failed"
    message: str
    hint: str | None = None
    step: int | None = None


@dataclass(kw_only=True)
class Stopped(Event):
    type: ClassVar[str] = "stopped"
    step: int | None = None
    saved: bool = False
    checkpoint: str | None = None


@dataclass(kw_only=True)
class Message(Event):
    """A free-text status line for the monitor (e.g. "loading model", "tokenizing 400 rows")."""

    type: ClassVar[str] = "message"
    text: str
    level: str = "info"
    key: str | None = None  # progress lines share a key: a live view replaces the previous one with the same key


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.type: cls for cls in (Started, Log, Eval, Memory, Checkpoint, Finished, Failed, Stopped, Message, DataAccounting)
}
TERMINAL_TYPES = frozenset({"finished", "failed", "stopped"})


def event_from_dict(data: dict[str, Any]) -> Event | None:
    """Rebuild a typed event; unknown types or fields (a newer ftui wrote them) are tolerated."""
    cls = EVENT_CLASSES.get(data.get("type", ""))
    if cls is None:
        return None
    names = {f.name: f.type for f in fields(cls)}
    values = {}
    for key, value in data.items():
        if key in names:
            ok, value = _fits(value, str(names[key]))
            if not ok:
                return None  # a damaged line ("eval_loss": "oops", a string t): skipped like a torn one
            values[key] = value
    try:
        return cls(**values)
    except TypeError:
        return None


def _fits(value: Any, annotation: str) -> tuple[bool, Any]:
    """Whether a logged value fits a field's annotation (the text of it: this module uses
    postponed annotations), and the value to use. Numbers written as text ("NaN", "0.5") are
    read as numbers; anything else of the wrong type makes the event unreadable, so that no
    reader (listing, monitor, attach) ever computes with a string where a number belongs."""
    kinds = {part.strip().split("[")[0] for part in annotation.split("|")}
    if value is None:
        return "None" in kinds, value
    if "float" in kinds and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return True, float(value) if "int" not in kinds else value
        if isinstance(value, str) and "str" not in kinds:
            try:
                return True, float(value)
            except ValueError:
                return False, value
    if "int" in kinds and isinstance(value, int) and not isinstance(value, bool):
        return True, value
    if "bool" in kinds and isinstance(value, bool):
        return True, value
    if "str" in kinds and isinstance(value, str):
        return True, value
    if "dict" in kinds and isinstance(value, dict):
        return True, value
    if "list" in kinds and isinstance(value, list):
        return True, value
    return False, value


class EventLogWriter:
    """Appends events to ``events.jsonl``, one line each, flushed per event.

    Not thread-safe by design: exactly one writer thread owns it (the training callback
    only enqueues). ``fsync`` is optional because a flushed write survives a process
    crash; only a power loss needs fsync.
    """

    def __init__(self, path: Path, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0600: the log holds dataset paths and model names; only its owner reads it.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._fh = open(fd, "a", encoding="utf-8")
        self._fsync = fsync
        self._end_torn_line()

    def _end_torn_line(self) -> None:
        """A log cut mid-line (a kill or a full disk) gets its newline before we append, as the
        blind A/B votes log does: else the next event is glued onto the fragment and lost."""
        try:
            size = os.fstat(self._fh.fileno()).st_size
            if size == 0:
                return
            with open(self.path, "rb") as fh:
                fh.seek(size - 1)
                last = fh.read(1)
        except OSError:
            return
        if last != b"\n":
            self._fh.write("\n")
            self._fh.flush()

    def write(self, event: Event | dict[str, Any]) -> None:
        data = event.to_dict() if isinstance(event, Event) else event
        self._fh.write(json.dumps(data, ensure_ascii=False, allow_nan=True) + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse_lines(chunk: bytes) -> Iterator[dict[str, Any]]:
    for line in chunk.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash: skip it, never fail
        if isinstance(data, dict):
            yield data


def read_events(path: Path) -> list[Event]:
    """All complete events of a log (a torn last line is skipped)."""
    try:
        raw = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return []
    events = (event_from_dict(d) for d in _parse_lines(raw))
    return [e for e in events if e is not None]


class EventLogTail:
    """Incremental reader for a log another thread or process is appending to.

    ``poll()`` returns the events completed since the last call. A partial last line
    is held back until its newline arrives, so a reader never sees half an event.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._pos = 0
        self._pending = b""

    def poll(self) -> list[Event]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._pos)
                chunk = fh.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return []
        if not chunk:
            return []
        self._pos += len(chunk)
        data = self._pending + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._pending = data
            return []
        self._pending = data[cut + 1 :]
        events = (event_from_dict(d) for d in _parse_lines(data[: cut + 1]))
        return [e for e in events if e is not None]


def status_from_events(events: list[Event]) -> str:
    """A run's status derived from its log: ``finished``/``failed``/``stopped``, ``running`` or ``created``."""
    for event in reversed(events):
        if event.type in TERMINAL_TYPES:
            return event.type
        if event.type == "started":  # a resumed run: its new start is later than the old stop
            return "running"
    return "created"
