"""The Train mode screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ftui.tui.screens.base import ModeScreen


class TrainScreen(ModeScreen):
    MODE = "train"
    TITLE_TEXT = "Train"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Train — not built yet.\n\nThis mode will hold the launcher form with a VRAM preflight, live loss / learning-rate / memory plots, and the runs list.",
            classes="placeholder",
            markup=False,
        )
