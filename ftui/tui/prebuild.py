"""The other modes' screens, built while the user is idle, so a first switch only shows one.

Building a mode's screen (imports, compose, mount, styles: 200-450 ms of UI thread on 2 cores for
Data and Train) made every mode's first switch miss its 300 ms goal (issue 13) however lean the
screens got: Textual's cost grows with the widgets, and a useful screen has dozens. Once the start
screen is up and no key or mouse event has come for ``IDLE_S``, the next unopened mode's screen
is built and mounted off-screen, one mode at a time, each after another quiet spell; the first F2 /
F3 / F4 then lays out and paints a screen that is ready. A key pressed while a screen is being
built waits for that build (one screen, not all of them); a mode switched to before its turn is
built by the switch with the same code (``build_offscreen``, ``paint_offscreen``: whole and laid out once,
then shown), its modules already imported by a thread started after the start screen's first frame
(``preload_screen_modules``).

On by default on a real terminal (``FtuiApp(prebuild=False)`` turns it off; a headless Pilot app builds
nothing ahead unless given ``prebuild=True``). Nothing is built while a run trains in this process (a build
holds the UI thread for a few hundred ms): the training's steps and the user's keys come first. Nothing is
built once an exit was asked for (``FtuiApp.closing``), even one held back until a mount ends.

Screens must not act on the user's behalf before they show: whatever a screen does for the user
(a notice, reattaching a live run, opening and linting the dataset) waits for its first ScreenResume.

Textual 8.2.8 has no public way to build a mode's screen without showing it: this registers the
screen as ``App._get_screen`` does and files it as the mode's stack, which ``App.switch_mode``
then shows as a mode already opened.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from typing import Any

from textual.widget import AwaitMount

from ftui.train import live

IDLE_S = 0.5  # quiet time (no key, no mouse) before the next screen is built
TRAINING_RECHECK_S = 5.0  # while a run trains in this process nothing is built; looked at again this often
# In the order users first open them. Built ahead, a screen is only its widgets: the Data screen opens, indexes and
# lints the workspace's file on its first show (ScreenResume), not at mount.
ORDER = ("data", "train", "evaluate", "plan")
SCREEN_MODULES = {"data": "ftui.tui.screens.data", "train": "ftui.tui.screens.train",
                  "evaluate": "ftui.tui.screens.evaluate", "plan": "ftui.tui.screens.plan"}


def preload_screen_modules(modes: tuple[str, ...] = ORDER) -> threading.Thread:
    """Import the modules of the modes' screens in a thread, started once the start screen is up.

    A key pressed before a screen is built ahead (the first second or two) builds it on the switch, and its
    first import of the screen's modules was 14-18 ms of that switch per mode on 2 cores. Imported here, in a
    thread while the user reads the start screen, the switch finds them loaded; a switch that comes sooner
    waits only for the module being imported (Python's per-module import lock). Nothing heavy is imported:
    the screens load torch and the training stack only when they run something."""

    def run() -> None:
        for mode in modes:
            try:
                importlib.import_module(SCREEN_MODULES[mode])
            except Exception:  # noqa: BLE001 - the switch imports it again and shows its own error
                return

    thread = threading.Thread(target=run, name="preload-screens", daemon=True)
    thread.start()
    return thread


class Prebuilder:
    """Builds the app's unopened mode screens one at a time while input is quiet."""

    def __init__(self, app: Any) -> None:
        """``app``: the FtuiApp (its opened_modes, prebuilt event and heap freeze; not imported: it imports this)."""
        self.app = app
        self.last_input = time.monotonic()
        self.building: str | None = None
        self.idle = asyncio.Event()  # clear while a screen is being built (the app's exit waits for it)
        self.idle.set()
        self.done = False
        self._timer = None
        self._to_paint: list[Any] = []  # screens built, not yet laid out and painted off-screen

    def start(self) -> None:
        """Begin once the start screen is up (its own build must not compete with these)."""
        self._schedule(IDLE_S)

    def noticed_input(self) -> None:
        self.last_input = time.monotonic()

    def due_in(self, now: float) -> float:
        """Seconds until the next build may start (0: now): IDLE_S after the last key or mouse event."""
        return max(0.0, self.last_input + IDLE_S - now)

    def next_mode(self) -> str | None:
        opened = self.app.opened_modes
        return next((mode for mode in ORDER if mode not in opened), None)

    def _schedule(self, delay: float) -> None:
        self._timer = self.app.set_timer(max(delay, 0.01), self._build_next, name="prebuild")

    async def _build_next(self) -> None:
        app = self.app
        if not app.is_running or app.closing:  # quitting (perhaps once a mount ends): build nothing
            return
        wait = self.due_in(time.monotonic())
        if wait > 0:
            self._schedule(wait)
            return
        if live.active():  # a run trains in this process: its steps and the keys come first, not screens
            self._schedule(TRAINING_RECHECK_S)
            return
        if self._to_paint:
            self.idle.clear()
            try:
                self._paint(self._to_paint.pop(0))
            finally:
                self.idle.set()
            self._schedule(IDLE_S)
            return
        mode = self.next_mode()
        if mode is None:
            self.done = True
            app.prebuilt.set()
            return
        self.building = mode
        self.idle.clear()
        try:
            await self._build(mode)
        finally:
            self.building = None
            self.idle.set()
        self._schedule(IDLE_S)

    async def _build(self, mode: str) -> None:
        self._to_paint.append(await build_offscreen(self.app, mode))

    def _paint(self, screen: Any) -> None:
        paint_offscreen(self.app, screen)


async def build_offscreen(app: Any, mode: str) -> Any:
    """Build and mount the screen of ``mode`` without showing it; ``switch_mode`` then shows it as a mode already
    opened. The prebuilder's step, and a first switch's: shown only once whole, a screen is laid out once (shown
    while it mounted, the end of its mount asked Textual for a second layout and frame of the whole screen)."""
    app.opened_modes.add(mode)
    app._freeze_built()  # noqa: SLF001 - as a first switch does
    screen = app.MODES[mode]()  # FtuiApp's modes are factories
    widgets = app._register(app, screen)  # noqa: SLF001 - App._get_screen's registration, without showing
    app._screen_stacks[mode] = [screen]  # noqa: SLF001 - switch_mode shows it as a mode already opened
    await AwaitMount(screen, widgets)
    return screen


def paint_offscreen(app: Any, screen: Any) -> None:
    """Lay ``screen`` out at the app's size and render its widgets' lines, off-screen: its first show then
    only composes cached lines (Screen._on_screen_resume lays out only a screen whose size differs)."""
    if not screen.is_attached or screen.is_current or screen._size == app.size:  # noqa: SLF001
        return
    screen._refresh_layout(app.size)  # noqa: SLF001 - not current: nothing is drawn, widgets get their sizes
    screen._compositor.render_update(full=True)  # noqa: SLF001 - fills each widget's line cache
