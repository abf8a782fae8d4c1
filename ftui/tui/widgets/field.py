"""The one text field of the app: every screen's text input behaves the same way.

Textual's ``Input`` selects its whole text when it gets focus, so the first key typed
replaces it (a pre-filled folder in the Open dialog vanished on the first letter), while
other fields appended; users met both in one session. Here focus never selects: the cursor
goes to the end of the text, a key adds to it, Backspace deletes one character, and
replacing is Ctrl+U (clear) then typing, the same in every field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Input
from textual.widgets.input import Selection


def display_path(path: str | Path) -> str:
    """A path as the user would type it: relative when under the current directory, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


class TextField(Input):
    """An ``Input`` that puts the cursor at the end on focus and never selects on focus; a value wider than
    the field shows its end (a path's file name) whenever it is not being typed in."""

    # Input scrolls to its cursor with force=True, so it needs no horizontal overflow of its own (its scrollbar
    # is 0 rows high anyway); with Textual's "auto", a value wider than the field turned the invisible scrollbar
    # on at the first layout, and that asked for a second layout of the whole screen (~50 ms on Train).
    DEFAULT_CSS = "TextField { overflow-x: hidden; }"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["select_on_focus"] = False
        # No validators here (the screens check values themselves), so Input's own validation only adds the
        # class "-valid", which restyles the widget at once: ~3 ms per field at construction, before it is even
        # mounted (the Train form builds 13 on its first show).
        kwargs.setdefault("validate_on", ())
        # Input sets ``compact`` in __init__, and its class restyles the unmounted widget at once (~1-2 ms a
        # field); here the class is only noted, and the field is styled once, as it mounts.
        compact = bool(kwargs.pop("compact", False))
        super().__init__(*args, **kwargs)
        if compact:
            self.set_reactive(Input.compact, True)
            self.set_class(True, "-textual-compact", update=False)

    async def _on_key(self, event: events.Key) -> None:
        """Run the field's own editing keys (Backspace, Delete, arrows, Enter...) here, in arrival order.

        Textual runs a widget's key bindings only after the key has bubbled up to the App, while a printable
        key is inserted at once, so in a burst of keys (a fast typist; an SSH link that batches keystrokes)
        "64" + Backspace Backspace 8 became "6": the 8 went in before either Backspace. Handled here, the key
        stops (no binding runs twice) and prevent_default keeps Input's own handler from seeing it.
        """
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return

    def _refresh_scroll(self) -> None:
        """A field's scroll moves its own text only (it holds no widgets), so it is repainted. Textual lays the
        whole screen out again for any widget's scroll: showing a long path's end as a form first shows (13
        fields on Train) cost one more layout and render of the screen (~45 ms)."""
        self.refresh()

    def on_focus(self, event: events.Focus) -> None:  # noqa: ARG002 - after Input's own focus handling
        end = len(self.value)
        self.selection = Selection.cursor(end)

    def on_mount(self) -> None:
        self.call_after_refresh(self.show_end)

    def on_input_changed(self) -> None:
        # a value set by the program (a preset, the workspace), not typed: its end in view too
        if not self.has_focus:
            self.cursor_position = len(self.value)
            self.call_after_refresh(self.show_end)

    def on_resize(self) -> None:
        # laid out again (a form's columns settle after mount): the end stays in view
        if not self.has_focus:
            self.call_after_refresh(self.show_end)

    def show_end(self) -> None:
        """A value wider than the field shows its end, where the cursor is: a path's file name, not its
        first folders (Textual's Input shows the start of a value it was created with)."""
        self.scroll_to_region(Region(self._cursor_offset, 0, width=1, height=1), force=True, animate=False)


class FieldColumn(VerticalScroll):
    """A scrolling column of form fields.

    Textual restyles a widget and everything in it when it gains or loses focus, in case a rule like
    ``X:focus Y`` styles its children; no rule does for this column, so only the column is restyled. It
    takes the focus when its screen first shows: on the Train form that restyled ~80 widgets (~60 ms of the
    first switch to Train)."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        self.app.stylesheet.update_nodes([self], animate=True)
