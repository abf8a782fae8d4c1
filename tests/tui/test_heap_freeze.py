"""Issue 13: a mode's first switch sets off no full collection over what was built before it.

A full collection in the middle of building a screen rescanned every object start-up made (~75,000,
60-100 ms on 2 cores, nothing freed): the app freezes the heap before each first switch, in a terminal.
A headless app (these tests) freezes nothing unless told to. Each test counts the freezes (gc.freeze
is replaced: a real one would keep the test's app in the test process for good).
"""

from __future__ import annotations

import gc

import pytest

from ftui.tui.app import FtuiApp

SIZE = (160, 48)


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    return calls


async def _first_and_second_switch(app: FtuiApp, pilot) -> None:  # noqa: ANN001
    for mode, key in (("evaluate", "f4"), ("plan", "f1"), ("evaluate", "f4")):
        await pilot.press(key)
        while app.current_mode != mode:
            await pilot.pause()
        await pilot.pause()


async def test_first_switch_freezes_what_is_built_before_it(freezes: list[str]) -> None:
    app = FtuiApp(start_mode="plan", freeze_heap=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        assert freezes == []
        await _first_and_second_switch(app, pilot)
        assert freezes == ["freeze"], "once, before Evaluate's screen was built; not again when it comes back"


async def test_headless_app_freezes_nothing_by_default(freezes: list[str]) -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        await _first_and_second_switch(app, pilot)
        assert freezes == []
