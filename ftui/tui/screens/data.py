"""The Data mode screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ftui.tui.screens.base import ModeScreen


class DataScreen(ModeScreen):
    MODE = "data"
    TITLE_TEXT = "Data"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Data — not built yet.\n\nThis mode will hold the dataset browser, the linter's findings next to their rows, stats, and clean / split / convert.",
            classes="placeholder",
            markup=False,
        )
