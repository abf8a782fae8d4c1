"""Registry of training workers alive in this process.

The app asks it whether quitting would interrupt a run. Kept free of torch so the
TUI can import it at start-up.
"""

from __future__ import annotations

import threading
from typing import Protocol


class LiveRun(Protocol):
    run_id: str

    def is_alive(self) -> bool: ...


_lock = threading.Lock()
_runs: list[LiveRun] = []


def register(run: LiveRun) -> None:
    with _lock:
        _runs.append(run)


def active() -> list[LiveRun]:
    """Runs whose worker thread is still going (finished ones are dropped)."""
    with _lock:
        _runs[:] = [r for r in _runs if r.is_alive()]
        return list(_runs)
