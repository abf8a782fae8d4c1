"""The Plan mode screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ftui.tui.screens.base import ModeScreen


class PlanScreen(ModeScreen):
    MODE = "plan"
    TITLE_TEXT = "Plan"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Plan — not built yet.\n\nThis mode will hold the decision tree (prompt engineering, RAG or fine-tuning?), the VRAM estimator and the cost / break-even calculator.\n\nMeanwhile: ftui plan --help",
            classes="placeholder",
            markup=False,
        )
