"""A screenshot scenario: the mode to open, what to set up before the app starts, what to press after."""

from __future__ import annotations

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


async def wait_until(pilot: Any, predicate: Callable[[], object], timeout: float = WAIT_BOUND_S) -> None:
    """Let the app run until ``predicate()`` holds (a worker finished, a panel loaded); raise if it never does."""
    deadline = time.monotonic() + max(timeout, WAIT_BOUND_S)
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the screenshot scenario waited {max(timeout, WAIT_BOUND_S):.0f} s for {predicate}")
        await pilot.pause(0.05)
