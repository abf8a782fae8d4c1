"""A Select whose option list is built the first time it opens.

Textual's ``Select`` composes its drop-down (an ``OptionList`` overlay holding every option) with
the field, and restyles and lays it out with the screen although it is hidden until opened. Most
choice fields are never opened in a session, yet each cost a widget and a relayout of its own on
the first show of the Train form and of Plan's memory tab (issue 13: first switch <= 300 ms). This
one shows the chosen value the same way and builds the list on the first open; keys, mouse and
``Changed`` messages are Select's own.
"""

from __future__ import annotations

from typing import Any

from textual.css.query import NoMatches
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay


def _show(current: SelectCurrent, label: Any) -> None:
    """``SelectCurrent.update``; one whose label is not composed yet gets it once it is. A Select mounted with a row
    into an already mounted form section can run its on_mount before its parts compose (under load: the Train form
    building its Advanced section to mark a field's problem raised NoMatches '#label' and ended the app)."""
    try:
        current.update(label)
    except NoMatches:
        current.call_later(current.update, label)  # runs after the widget's compose, which comes first in its queue


class Choice(Select):
    """``Select`` with its option list mounted on first open (textual 8.2.8's Select internals)."""

    def compose(self) -> Any:
        yield SelectCurrent(self.prompt)

    def _overlay(self) -> SelectOverlay | None:
        try:
            return self.query_one(SelectOverlay)
        except NoMatches:
            return None

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:  # the list is filled when it is built
            super()._setup_options_renderables()

    def _watch_value(self, value: Any) -> None:
        """Select's watcher, without an option list to highlight in until it is built."""
        self._value = value
        try:
            current = self.query_one(SelectCurrent)
        except NoMatches:
            return
        if value == self.NULL:
            _show(current, self.NULL)
        else:
            for index, (prompt, option_value) in enumerate(self._options):
                if option_value == value:
                    overlay = self._overlay()
                    if overlay is not None:
                        overlay.highlighted = index
                    _show(current, prompt)
                    break
        self.post_message(self.Changed(self, value))

    def _watch_prompt(self, prompt: str) -> None:
        if self._overlay() is not None or not self.is_mounted:
            super()._watch_prompt(prompt)
            return
        current = self.query_one(SelectCurrent)
        current.placeholder = prompt
        if self._allow_blank and self.value == self.NULL:
            _show(current, self.NULL)

    async def _build_overlay(self) -> None:
        if self._overlay() is not None:
            return
        overlay = SelectOverlay(type_to_search=self._type_to_search)
        overlay.compact = self.compact  # Select binds it in compose; fields here never change it after
        await self.mount(overlay)
        super()._setup_options_renderables()
        for index, (_prompt, option_value) in enumerate(self._options):
            if option_value == self.value:
                overlay.highlighted = index
                break

    async def _watch_expanded(self, expanded: bool) -> None:
        if expanded:
            await self._build_overlay()
        super()._watch_expanded(expanded)

    async def action_show_overlay(self) -> None:
        await self._build_overlay()
        super().action_show_overlay()
