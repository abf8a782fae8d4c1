"""The Evaluate mode screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ftui.tui.screens.base import ModeScreen


class EvaluateScreen(ModeScreen):
    MODE = "evaluate"
    TITLE_TEXT = "Evaluate"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Evaluate — not built yet.\n\nThis mode will hold base vs fine-tuned generation, automatic metrics, and the blind A/B rating screen.",
            classes="placeholder",
            markup=False,
        )
