"""A small yes/no (or multi-choice) question, answered with one key."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ChoiceScreen(ModalScreen[str | None]):
    """Asks ``question``; each choice is (key, label, value). Esc answers ``None``."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 70; max-width: 95%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ChoiceScreen .choices { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, question: str, choices: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        keys = Text()
        for key, label, _ in self.choices:
            keys.append(f" {key} ", style="bold reverse")
            keys.append(f" {label}   ")
        keys.append(" Esc ", style="bold reverse")
        keys.append(" cancel")
        with Vertical():
            yield Static(Text(self.question))
            yield Static(keys, classes="choices")

    def on_key(self, event) -> None:  # noqa: ANN001 - textual.events.Key
        if event.key == "escape":
            event.stop()
            self.dismiss(None)
            return
        for key, _, value in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return
