"""A screenshot scenario, declared by each screen module (``SCREENSHOT_SCENARIOS``).

Its own module so that declaring one costs a screen nothing at import: the generator
(``ftui.tui.screenshots``) pulls in argparse and the rest only when it runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Scenario:
    name: str  # file name without .svg
    mode: str  # mode the app opens in
    setup: Callable[..., Awaitable[None]] | None = None  # async (pilot, home: Path) -> None
    prepare: Callable[[Path], None] | None = None  # sync (home) -> None, before the app starts
    data_path: str | None = None
