"""The strip under the header that names the four modes and their keys."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MODES: tuple[tuple[str, str, str], ...] = (
    ("plan", "F1", "Plan"),
    ("data", "F2", "Data"),
    ("train", "F3", "Train"),
    ("evaluate", "F4", "Evaluate"),
)


class ModeBar(Static):
    """Shows every mode with its key; the current one highlighted."""

    DEFAULT_CSS = """
    ModeBar {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self.opening: str | None = None  # a mode whose screen is being built (shown at once, see FtuiApp)

    def show_opening(self, mode: str | None) -> None:
        self.opening = mode
        self.refresh()

    def render(self) -> Text:
        text = Text()
        if self.opening is not None:
            label = next((label for mode, _, label in MODES if mode == self.opening), self.opening)
            text.append(f" Opening {label}… ", style="bold reverse")
            text.append("  building the screen the first time", style="dim")
            return text
        for mode, key, label in MODES:
            style = "bold reverse" if mode == self.current else ""
            text.append(f" {key} ", style="bold" if mode != self.current else "bold reverse")
            text.append(f"{label} ", style=style)
            text.append("  ")
        text.append("  ? help  ·  ctrl+p commands  ·  ctrl+q quit", style="dim")
        return text
