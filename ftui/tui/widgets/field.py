"""The one text field of the app: every screen's text input behaves the same way.

Textual's ``Input`` selects its whole text when it gets focus, so the first key typed
replaces it (a pre-filled folder in the Open dialog vanished on the first letter), while
other fields appended; users met both in one session. Here focus never selects: the cursor
goes to the end of the text, a key adds to it, Backspace deletes one character, and
replacing is Ctrl+U (clear) then typing, the same in every field.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Input
from textual.widgets.input import Selection


class TextField(Input):
    """An ``Input`` that puts the cursor at the end on focus and never selects on focus."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["select_on_focus"] = False
        super().__init__(*args, **kwargs)

    def on_focus(self, event: events.Focus) -> None:  # noqa: ARG002 - after Input's own focus handling
        end = len(self.value)
        self.selection = Selection.cursor(end)
