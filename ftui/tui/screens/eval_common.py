"""Pieces shared by the Evaluate screens: number formats, the word diff, small input dialogs.

Everything that shows model output or prompts goes through ``shown()`` so markup and
terminal escapes in untrusted text are displayed literally, never interpreted.
"""

from __future__ import annotations

import math
import os
import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ftui.evaluate.session_plan import rater_problem as rater_problem  # the prompts' validate: one check
from ftui.textsafe import neutralize
from ftui.tui.widgets.field import TextField

# The word-diff highlight. The same style on both panes: a colour per side would hint at identity.
DIFF_STYLE = "reverse"
EMPTY_OUTPUT = "(empty output)"
_RATER_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def shown(text: str | None, style: str = "") -> Text:
    """Untrusted text as an inert ``Text`` (markup and escapes shown literally)."""
    if not text:
        return Text(EMPTY_OUTPUT, style="dim italic")
    return Text(neutralize(text), style=style)


def word_diff(left: str, right: str) -> tuple[Text, Text]:
    """Both outputs with the words that differ highlighted (``DIFF_STYLE``), from the core's
    ``ftui.evaluate.diff.word_diff`` segments; each segment is neutralised on its own (an escape
    sequence split over segments shows the same visible characters)."""
    from ftui.evaluate.diff import word_diff as segments

    if not left or not right:
        return shown(left), shown(right)
    a, b = segments(left, right)

    def build(parts) -> Text:  # noqa: ANN001 - list[Segment]
        text = Text()
        for seg in parts:
            text.append(neutralize(seg.text), style=DIFF_STYLE if seg.changed else "")
        return text

    return build(a), build(b)


def fmt_rate(p: float | None, low: float | None = None, high: float | None = None) -> str:
    """``0.67 [0.49, 0.81]``; ``n/a`` without data."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    if low is None or high is None:
        return f"{p:.2f}"
    return f"{p:.2f} [{low:.2f}, {high:.2f}]"


def fmt_p(p: float | None) -> str:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if p is None or math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_diff(diff: float, low: float, high: float) -> str:
    if math.isnan(diff):
        return "n/a"
    return f"{diff:+.3f} [{low:+.3f}, {high:+.3f}]"


def fmt_num(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


RATER_PLACEHOLDER = "your name, e.g. alice"


def default_rater() -> str:
    """``$USER`` made into a valid rater name (sessions use it as a directory name); empty without one.

    Without ``$USER`` the prompt stays empty behind a placeholder: a made-up name as its text was kept
    on focus like any field's, and a user typing their own name got "rateralice"."""
    return _RATER_CHARS.sub("", os.environ.get("USER", "") or os.environ.get("USERNAME", ""))[:40].lstrip("._-")


class TextPrompt(ModalScreen[str | None]):
    """One line of input: Enter answers it (``validate`` may refuse with a message), Esc cancels."""

    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    TextPrompt .prompt-help { color: $text-muted; margin-top: 1; }
    TextPrompt .prompt-error { color: $error; height: auto; }
    TextPrompt Input { margin-top: 1; }
    """

    def __init__(self, title: str, value: str = "", help_text: str = "", validate=None,  # noqa: ANN001
                 placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.help_text = help_text
        self.validate = validate  # (str) -> error message or None
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"))
            yield TextField(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("", classes="prompt-error", id="prompt-error")
            help_text = Text(self.help_text + ("\n" if self.help_text else ""), style="")
            help_text.append("Enter", style="bold")
            help_text.append(" save   ")
            help_text.append("Esc", style="bold")
            help_text.append(" cancel")
            if self.value:  # the field keeps its text on focus (one behaviour everywhere): say how to replace it
                help_text.append("   ")
                help_text.append("Ctrl+U", style="bold")
                help_text.append(" clear")
            yield Static(help_text, classes="prompt-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        error = self.validate(value) if self.validate else None
        if error:
            self.query_one("#prompt-error", Static).update(Text(error))
            return
        self.dismiss(value)

    def on_key(self, event) -> None:  # noqa: ANN001 - textual.events.Key
        if event.key == "escape":
            event.stop()
            self.dismiss(None)
