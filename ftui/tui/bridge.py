"""Core run events -> Textual messages, time-batched.

A run is watched the same way whether its worker is in this process, in another
``ftui``, under ``ftui train`` or under ``accelerate launch``: a thread worker tails
its ``events.jsonl`` (``EventLogTail``) and posts what arrived every ``interval``
seconds as ONE message. The first read of an existing log is folded into a
``RunHistory`` inside the thread (a long past run never blocks the UI), later reads
post the raw events. The UI thread applies them and redraws on its own 2–4 Hz timer,
so a burst of 1000 steps costs one message and one redraw.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, get_current_worker

from ftui.train.events import EVENT_LOG_NAME, TERMINAL_TYPES, Event, EventLogTail
from ftui.train.history import RunHistory

DEFAULT_INTERVAL = 0.25
# after a terminal event keep reading this long: a "stopped" may still be followed by a checkpoint line
LINGER_S = 1.0


class RunSnapshot(Message):
    """The whole log as it was when watching started."""

    def __init__(self, run_dir: Path, history: RunHistory) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.history = history


class RunEvents(Message):
    """Events that arrived since the last message (one batch per interval)."""

    def __init__(self, run_dir: Path, events: list[Event]) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.events = events


class RunFeedEnded(Message):
    """The run reached a terminal event and the tail stopped."""

    def __init__(self, run_dir: Path, status: str) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.status = status


def tail_run(target: MessagePump, run_dir: Path, interval: float = DEFAULT_INTERVAL) -> None:
    """Body of the thread worker: snapshot, then batches until the run ends or the worker is cancelled."""
    worker = get_current_worker()
    run_dir = Path(run_dir)
    tail = EventLogTail(run_dir / EVENT_LOG_NAME)
    history = RunHistory()
    history.extend(tail.poll())
    if not history.run_id:
        history.run_id = run_dir.name
    target.post_message(RunSnapshot(run_dir, history))
    status = history.status
    ended_at = time.monotonic() if history.terminal is not None else None
    while not worker.is_cancelled:
        if ended_at is not None and time.monotonic() - ended_at >= LINGER_S:
            break
        time.sleep(interval)
        events = tail.poll()
        if not events:
            continue
        target.post_message(RunEvents(run_dir, events))
        for event in events:
            if event.type in TERMINAL_TYPES:
                status, ended_at = event.type, time.monotonic()
            elif event.type == "started":
                status, ended_at = "running", None  # resumed in the same log
    if not worker.is_cancelled:
        target.post_message(RunFeedEnded(run_dir, status))


def watch_run(node, run_dir: Path, interval: float = DEFAULT_INTERVAL) -> Worker:  # noqa: ANN001 - DOMNode
    """Start (or replace) the tail worker of ``node`` for ``run_dir``."""
    return node.run_worker(
        lambda: tail_run(node, run_dir, interval),
        name=f"tail {Path(run_dir).name}",
        group="run-feed",
        thread=True,
        exclusive=True,
        exit_on_error=False,
    )
