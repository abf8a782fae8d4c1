"""A small yes/no (or multi-choice) question, answered with one key.

Every question that starts, stops or deletes work goes through here, so the rules that
keep a stray key from doing damage live in one place:

- keys are ignored for ``GUARD_S`` after the dialog appears: a key typed twice, or typed
  before a slow dialog painted (under training load that can be a second), must not answer it;
- no answer may use the key that opened the dialog (``opened_by``): the natural second press
  of that key then does nothing instead of the most drastic choice;
- Enter and Esc give the safe answer (``default``, normally None: nothing happens);
- it answers once: a key that comes while the dialog is going (typed twice, a terminal's key
  repeat) is dropped instead of dismissing again, which popped the screen under it.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ChoiceScreen(ModalScreen[str | None]):
    """Asks ``question``; each choice is (key, label, value). Esc and Enter answer ``default``."""

    GUARD_S = 0.3  # keys typed this soon after the dialog appeared are ignored

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 76; max-width: 95%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ChoiceScreen .choices { margin-top: 1; color: $text-muted; }
    """

    def __init__(
        self,
        question: str,
        choices: list[tuple[str, str, str]],
        opened_by: str | tuple[str, ...] = (),
        default: str | None = None,
    ) -> None:
        super().__init__()
        opener = (opened_by,) if isinstance(opened_by, str) else tuple(opened_by)
        clash = [key for key, _, _ in choices if key in opener]
        if clash:
            raise ValueError(f"answer key {clash[0]!r} is the key that opened the question")
        self.question = question
        self.choices = choices
        self.default = default
        self.shown_at = time.monotonic()
        self.ignored_keys: list[str] = []  # keys that came within the guard time (tests read this)
        self.answered = False

    def compose(self) -> ComposeResult:
        # one answer a line: a long label never wraps in the middle of another answer
        keys = Text()
        for key, label, value in self.choices:
            keys.append(f" {key} ", style="bold reverse")
            keys.append(f"  {label}")
            if value == self.default:
                keys.append("  (Enter)", style="dim")
            keys.append("\n")
        keys.append(" Esc ", style="bold reverse")
        keys.append("  cancel" + ("  (Enter)" if self.default is None else ""))
        with Vertical():
            yield Static(Text(self.question))
            yield Static(keys, classes="choices")

    def on_mount(self) -> None:
        self.shown_at = time.monotonic()

    def on_key(self, event) -> None:  # noqa: ANN001 - textual.events.Key
        event.stop()  # a dialog owns the keyboard: nothing reaches the screen under it
        if self.answered:
            return
        if time.monotonic() - self.shown_at < self.GUARD_S:
            self.ignored_keys.append(event.key)
            return
        if event.key == "escape":
            self._answer(None)
            return
        if event.key == "enter":
            self._answer(self.default)
            return
        for key, _, value in self.choices:
            if event.key == key:
                self._answer(value or None)
                return

    def _answer(self, value: str | None) -> None:
        self.answered = True
        self.dismiss(value)
