"""Base of the four mode screens: the header, the mode bar and the footer.

A mode screen implements ``compose_body``; the frame around it is the same on
every screen so the user always sees where they are and how to move.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header

from ftui.tui.widgets.key_footer import KeyFooter
from ftui.tui.widgets.mode_bar import ModeBar


class ModeScreen(Screen):
    """A top-level mode (plan, data, train, evaluate)."""

    MODE: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""
    # Tab and Shift+Tab move between fields, and only that, on every screen (sub-views and tabs
    # have their own keys); named here so the help lists them.
    BINDINGS: ClassVar = [
        Binding("tab", "app.focus_next", "Next field", id="screen.next_field", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous field", id="screen.previous_field", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        # The app's stylesheet already holds this screen's rules (App.CSS_PATH) and is
        # current: without this, Textual re-parses every stylesheet twice on the first
        # switch to a mode (textual 8.2.8, App._init_mode / switch_mode).
        self._css_update_count = self.app._css_update_count
        # Set once what the screen mounts after its first frame is in (see FtuiApp.exit).
        self.settled = asyncio.Event()
        self.settled.set()
        # The first switch to a mode styles the whole screen once, as each widget mounts. Textual would
        # restyle it three times more: for the breakpoint classes set after compose (so they are set
        # here, from the app's size now) and for the two ScreenResume of a first switch. Textual also
        # restyles every widget of a screen each time it comes back (~300 widgets on Train: most of the
        # time of a quick mode switch); both are skipped while nothing outside the screen that its
        # styles depend on changed since they were computed (``_style_context``).
        self.update_classes(self._breakpoint_classes(), update=False)
        self._styled_for = self._style_context()

    def _breakpoint_classes(self) -> dict[str, bool]:
        """The breakpoint classes Screen._on_resize would set for the app's size now."""
        app = self.app
        horizontal = (app.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is None
                      else self.HORIZONTAL_BREAKPOINTS) or []
        vertical = (app.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is None else self.VERTICAL_BREAKPOINTS) or []
        classes = {name: False for _, name in (*horizontal, *vertical)}
        width, height = app.size
        for name in (*self._get_breakpoint_classes(width, horizontal), *self._get_breakpoint_classes(height, vertical)):
            classes[name] = True
        return classes

    def _style_context(self) -> tuple:
        """What this screen's styles depend on from outside it: the app's stylesheet (a theme or CSS change
        bumps its count), classes (the theme's) and pseudo classes (focus, dark, ansi...). A change inside
        the screen while it is away (a class set, a widget mounted) restyles what it touches at once."""
        app = self.app
        return app._css_update_count, app.classes, app.pseudo_classes

    @on(events.ScreenResume)
    def _styles_still_fresh(self, event: events.ScreenResume) -> None:
        if self._styled_for == self._style_context():
            event.refresh_styles = False  # runs before Screen's own handler, which would restyle every widget

    def on_screen_suspend(self) -> None:
        self._styled_for = self._style_context()  # the styles are current as the screen goes

    def _screen_resized(self, size: Size) -> None:
        """Textual's resize; a screen already laid out at ``size`` with nothing pending is left as it is. Its first
        show lays it out on ScreenResume, and the Resize that layout sends the screen itself laid it out again."""
        if size == self._size and not (self._layout_required or self._scroll_required):
            return
        super()._screen_resized(size)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        """Textual's layout, without the second layout of the whole screen that its own sizes ask for.

        Laying a screen out gives each widget its size, and a widget's new virtual size (a layout reactive)
        asks for another layout, although it changes no widget's place: a screen's first frame was followed
        by a second layout of every widget that changed nothing (40-65 ms on Train, textual 8.2.8). Those
        requests are dropped; one made before this layout (a widget's content changed: its ancestors'
        arrangements are cleared when it is handled), and one of a widget whose scrollbar this layout turned
        on or off (its children get narrower or wider), stand. Textual's update timer clears the screen's own
        requests after a layout it runs, not after one a screen's first show or a resize runs."""
        widgets = [widget for widget in self.walk_children(Widget)]
        asked = {widget for widget in widgets if widget._layout_required}  # noqa: SLF001
        scrollbars = {widget: (widget.show_horizontal_scrollbar, widget.show_vertical_scrollbar)
                      for widget in widgets if widget.is_scrollable}
        super()._refresh_layout(size, scroll)
        for widget in widgets:
            if (widget._layout_required and widget not in asked  # noqa: SLF001
                    and scrollbars.get(widget) == ((widget.show_horizontal_scrollbar, widget.show_vertical_scrollbar)
                                                   if widget.is_scrollable else None)):
                widget._layout_required = False  # noqa: SLF001
        # what the screen was asked for before (widgets' layouts and scrolls, handled: their caches are cleared;
        # a screen built before it showed collects its whole build's) is what this layout did
        self._layout_required = self._scroll_required = False

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield ModeBar(self.MODE)
        with Container(id="body"):
            yield from self.compose_body()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        # the header as it will show, so the first show does not update it (its title asks for a layout of the
        # screen): a screen built before it shows (ftui.tui.prebuild) is then laid out once
        self.sub_title = self.header_text()

    def on_screen_resume(self) -> None:
        # Textual calls this handler for every class in the MRO, this one last: a subclass says what the
        # header names through ``header_text``, never by setting sub_title in its own handler
        self.sub_title = self.header_text()

    def header_text(self) -> str:
        """The header after the mode name: the workspace's dataset and model."""
        return f"{self.TITLE_TEXT} · {self.app.workspace.describe()}"  # type: ignore[attr-defined]
