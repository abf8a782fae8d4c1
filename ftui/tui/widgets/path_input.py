"""Open a dataset by typing its path, with shell-like completion of directory entries.

The completion is a Textual ``Suggester``: the greyed-out rest of the name appears as
you type and → (right arrow, at the end of the line) accepts it. The file is checked
with ``inspect_source`` before the dialog closes, so a bad path gets its one-line
message right under the input and the user can fix it in place.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from ftui.data.source import DatasetError, inspect_source
from ftui.tui.widgets.field import TextField

DATA_SUFFIXES = (".jsonl", ".json", ".parquet", ".ndjson")


class PathSuggester(Suggester):
    """Completes the last component of a path from the directory's entries.

    Directories complete with a trailing ``/``; dataset files are preferred over other
    files; hidden entries only when the typed prefix starts with a dot.
    """

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


def complete_path(value: str) -> str | None:
    if not value:
        return None
    expanded = os.path.expanduser(value)
    directory, prefix = os.path.split(expanded)
    try:
        entries = list(os.scandir(directory or "."))
    except OSError:
        return None
    matches = []
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or name == prefix and not _is_dir(entry):
            continue
        if name.startswith(".") and not prefix.startswith("."):
            continue
        is_dir = _is_dir(entry)
        rank = 0 if is_dir else (1 if name.endswith(DATA_SUFFIXES) else 2)
        matches.append((rank, name, is_dir))
    if not matches:
        return None
    _, name, is_dir = min(matches)
    completion = name[len(prefix) :] + ("/" if is_dir else "")
    if not completion:
        return None
    return value + completion


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


class OpenFileScreen(ModalScreen[Path | None]):
    """Asks for a dataset path; answers the checked Path, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="open.cancel")]

    DEFAULT_CSS = """
    OpenFileScreen { align: center middle; }
    OpenFileScreen > Vertical {
        width: 100; max-width: 95%; height: auto;
        border: round $accent; border-title-color: $accent; background: $surface; padding: 1 2;
    }
    OpenFileScreen #open-help { color: $text-muted; margin-top: 1; }
    OpenFileScreen #open-error { color: $error; margin-top: 1; height: auto; }
    """

    def __init__(self, start: str | None = None) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        start = self.start or os.getcwd() + os.sep
        with Vertical() as box:
            box.border_title = "Open a dataset"
            yield TextField(value=start, placeholder="path to a .jsonl / .json / .parquet file", suggester=PathSuggester(), id="open-path")
            yield Static("", id="open-error")
            yield Static(
                Text("Enter open · → accept completion · Esc cancel   (JSONL, JSON array, Parquet, saved HF dataset dir)"),
                id="open-help",
            )

    def on_mount(self) -> None:
        self.query_one("#open-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self._error("type a path to a dataset file")
            return
        try:
            info = inspect_source(value)
        except DatasetError as exc:
            self._error(str(exc))
            return
        self.dismiss(info.path)

    def _error(self, message: str) -> None:
        self.query_one("#open-error", Static).update(Text(message))

    def action_cancel(self) -> None:
        self.dismiss(None)
