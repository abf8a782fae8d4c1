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


async def wait_until(pilot: Any, predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Let the app run until ``predicate()`` holds (a worker finished, a panel loaded), at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await pilot.pause(0.05)
