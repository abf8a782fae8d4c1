"""The Pilot that FtuiApp.run_test hands out waits until a change has reached the screen's handlers.

A Plan test set three fields, paused once, and read an estimate that had followed none of them (stress run, 1 in
1,436 tests): on a loaded machine Textual's wait for CPU idle ends at once, and its wait for the screen ends when
the messages queued at its start are handled, while a field's Changed is still bubbling up, one level per round.
"""

from __future__ import annotations

import pytest
import textual.pilot
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.widgets import Input

from ftui.tui.pilot import FtuiPilot


class _Deep(App[None]):
    """An input five containers down; the app's handler sees what reaches the top."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(), Vertical(), Vertical(), Vertical(), Vertical():
            yield Input(id="deep")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.seen.append(event.value)


async def _seen_after_one_pause(pilot_class: type[Pilot]) -> list[str]:
    app = _Deep()
    async with app.run_test():
        pilot = pilot_class(app)
        await pilot.pause()
        app.seen.clear()
        app.query_one("#deep", Input).value = "8"
        await pilot.pause()
        return list(app.seen)


@pytest.fixture
def _busy_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    async def idle_at_once(*_args: object, **_kwargs: object) -> None:
        return None

    monkeypatch.setattr(textual.pilot, "wait_for_idle", idle_at_once)  # as under load: no time to spare


@pytest.mark.usefixtures("_busy_machine")
async def test_a_pause_returns_once_a_bubbling_change_has_reached_the_top() -> None:
    assert await _seen_after_one_pause(FtuiPilot) == ["8"]

