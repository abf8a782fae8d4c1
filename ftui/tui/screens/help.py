"""The ``?`` help screen: every key that works on the screen it was opened from."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeyRow = tuple[str, str, str]  # (key, description, scope)


_KEY_NAMES = {
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "backspace": "Backspace",
    "slash": "/",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


def format_key(key: str) -> str:
    """A key as the user types it: ``f1`` -> ``F1``, ``question_mark`` -> ``?``."""

    def one(k: str) -> str:
        k = k.strip()
        if k in _KEY_NAMES:
            return _KEY_NAMES[k]
        if len(k) in (2, 3) and k[0] == "f" and k[1:].isdigit():
            return k.upper()
        return k

    return " / ".join(one(k) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    """A modal table of keys; Esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", show=True),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, rows: list[KeyRow], title: str) -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("key", style="bold cyan", no_wrap=True, width=14)
        table.add_column("what it does", ratio=1)
        table.add_column("where", style="dim", no_wrap=True)
        for key, description, scope in self.rows:
            table.add_row(Text(key), Text(description), Text(scope))
        with VerticalScroll():
            yield Static(Text(self.title_text, style="bold"))
            yield Static(table)
            yield Static(Text("Esc closes this help. Every key is also a command in the palette (ctrl+p).", style="dim"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
