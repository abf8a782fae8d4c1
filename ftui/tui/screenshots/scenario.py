"""A screenshot scenario: the mode to open, what to set up before the app starts, what to press after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Scenario:
    name: str  # file name without .svg
    mode: str  # mode the app opens in
    setup: Callable[..., Awaitable[None]] | None = None  # async (pilot, home: Path) -> None
    prepare: Callable[[Path], None] | None = None  # sync (home) -> None, before the app starts
    data_path: str | None = None


# Only a bound on a stuck scenario: a busy machine (the snapshot tests under xdist) may take minutes for the
# Train form's deep check, and a picture taken before the state it waits for is a wrong picture.
WAIT_BOUND_S = 600.0


async def settle_workers(app: Any) -> None:
    """Wait until no worker of ``app`` is pending or running, new ones started meanwhile included.

    ``app.workers.wait_for_complete()`` raises WorkerCancelled when one of the workers it waits on is
    replaced by a newer one of its exclusive group (the Train form's deep check, revalidated while the
    form settles): that is the app working as meant, not a failure. A worker that fails still raises.
    """
    from textual.worker import WorkerCancelled, WorkerState

    active = (WorkerState.PENDING, WorkerState.RUNNING)
    while workers := [w for w in app.workers if w.state in active]:
        for worker in workers:
            if worker.state == WorkerState.PENDING:  # not started yet: let the loop start it, then look again
                await asyncio.sleep(0)
                continue
            try:
                await worker.wait()
            except WorkerCancelled:
                pass


async def wait_until(pilot: Any, predicate: Callable[[], object], timeout: float = WAIT_BOUND_S) -> None:
    """Let the app run until ``predicate()`` holds (a worker finished, a panel loaded); raise if it never does."""
    deadline = time.monotonic() + max(timeout, WAIT_BOUND_S)
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the screenshot scenario waited {max(timeout, WAIT_BOUND_S):.0f} s for {predicate}")
        await pilot.pause(0.05)
