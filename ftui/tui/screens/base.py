"""Base of the four mode screens: the header, the mode bar and the footer.

A mode screen implements ``compose_body``; the frame around it is the same on
every screen so the user always sees where they are and how to move.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Header

from ftui.tui.widgets.mode_bar import ModeBar


class ModeScreen(Screen):
    """A top-level mode (plan, data, train, evaluate)."""

    MODE: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield ModeBar(self.MODE)
        with Container(id="body"):
            yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        self.sub_title = f"{self.TITLE_TEXT} · {self.app.workspace.describe()}"  # type: ignore[attr-defined]
