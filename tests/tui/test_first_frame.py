"""Start-up: the first frame that reaches the terminal is whole, and the footer is built once.

A headless Pilot never writes frames, so these run the app on a driver that acts as a real
terminal (Textual renders and writes every frame to it) and keeps what was written.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.driver import Driver
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer

from ftui.tui.app import FtuiApp
from ftui.tui.widgets.key_footer import KeyFooter

SIZE = (120, 40)


class CaptureDriver(Driver):
    """A terminal of fixed size that records each write."""

    writes: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CaptureDriver.writes.append(data)

    def flush(self) -> None:
        pass

    def start_application_mode(self) -> None:
        size = Size(*SIZE)
        loop = asyncio.get_running_loop()
        asyncio.run_coroutine_threadsafe(self._app._post_message(events.Resize(size, size)), loop=loop)

    def disable_input(self) -> None:
        pass

    def stop_application_mode(self) -> None:
        pass


async def _run_until(app: FtuiApp, done, timeout: float = 20.0) -> None:  # noqa: ANN001
    app.driver_class = CaptureDriver
    CaptureDriver.writes = []

    async def stop_when_done() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        app.exit()

    watcher = asyncio.create_task(stop_when_done())
    await app.run_async(size=SIZE)
    await watcher


async def test_first_frame_with_the_mode_bar_also_holds_the_plan_wizard() -> None:
    # Switching screens inside Textual's start-up batch rendered the first frame and dropped
    # it; the frame that did reach the terminal had the header, mode bar and footer only.
    app = FtuiApp(start_mode="plan")
    await _run_until(app, lambda: any("Should you fine-tune?" in w for w in CaptureDriver.writes))
    first = next(w for w in CaptureDriver.writes if "Evaluate" in w)
    assert "Should you fine-tune?" in first


async def test_footer_is_rebuilt_only_when_its_keys_change(monkeypatch) -> None:  # noqa: ANN001
    rebuilt: list[str] = []  # the keys each real rebuild showed
    recompose = Widget.recompose

    async def counting(self: Footer) -> None:
        await recompose(self)
        rebuilt.append(" ".join(str(key.render()) for key in self.query("FooterKey")))

    monkeypatch.setattr(Footer, "recompose", counting)  # what KeyFooter.recompose defers to
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        footer = app.screen.query_one(KeyFooter)
        assert footer.query("FooterKey"), "the footer shows the Plan screen's keys"
        start_builds = len(rebuilt)
        assert start_builds <= 2  # Textual signals the bindings ~6 times at start-up
        app.screen.refresh_bindings()  # same keys: nothing to rebuild
        await pilot.pause(0.1)
        assert len(rebuilt) == start_builds
        await pilot.press("f2")  # another screen, other keys: in its footer's first compose, not a rebuild
        await pilot.pause(0.3)
        shown = " ".join(str(key.render()) for key in app.screen.query_one(KeyFooter).query("FooterKey"))
        assert "Filter id" in shown
        assert len(rebuilt) == start_builds
