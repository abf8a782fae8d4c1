"""Issue 13 (8): quick mode switches redo no expensive work.

Twenty quick switches (F1..F4 five times) took 8-9 s to settle in bench/mode_switch.py: every return of a
screen restyled all its widgets (~300 on Train), every switch wrote the session memory with an fsync on
the UI thread, and a Train form check left due by a brief visit started (seconds of CPU in a thread)
during a later one. Each test counts the expensive call, never time.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screens import train_form
from ftui.tui.screens.base import ModeScreen

SIZE = (160, 48)
KEYS = ("f1", "f2", "f3", "f4")


@pytest.fixture
def no_deep_check(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The Train form's slow check (it imports the model's libraries) counts its starts and does nothing."""
    started: list[int] = []
    monkeypatch.setattr(train_form.LauncherForm, "_run_deep_check", lambda self, config, generation: started.append(generation))
    return started


async def _open_every_mode(app: FtuiApp, pilot) -> None:  # noqa: ANN001
    for mode, key in zip(("plan", "data", "train", "evaluate"), KEYS, strict=True):
        await pilot.press(key)
        while app.current_mode != mode or getattr(app.screen, "settled", None) is None:
            await pilot.pause()
        await app.screen.settled.wait()
        await pilot.pause()


async def test_a_screen_coming_back_is_not_restyled_whole(runs_dir: Path, no_deep_check: list[int]) -> None:  # noqa: ARG001
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await _open_every_mode(app, pilot)
        restyled: list[str] = []
        plain = type(app).update_styles

        def update_styles(self, node, animate: bool = True) -> None:  # noqa: ANN001
            if isinstance(node, ModeScreen):
                restyled.append(node.MODE)
            plain(self, node, animate)

        app.update_styles = update_styles.__get__(app)  # type: ignore[method-assign]
        for _ in range(5):
            await pilot.press(*KEYS)
        await pilot.pause()
        assert app.current_mode == "evaluate"
        assert restyled == [], f"{len(restyled)} whole-screen restyles in 20 switches: {restyled}"

        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"  # the styles are stale now
        await pilot.pause()
        await pilot.press("f3")
        while app.current_mode != "train":
            await pilot.pause()
        await pilot.pause()
        assert "train" in restyled, "a screen that was away while the theme changed is restyled"


async def test_mode_switches_never_wait_on_the_disk(runs_dir: Path, no_deep_check: list[int],  # noqa: ARG001
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.tui import memory

    on_ui_thread: list[str] = []
    plain_fsync = os.fsync

    def fsync(fd: int) -> None:
        if threading.current_thread() is threading.main_thread():
            on_ui_thread.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else str(fd))
        plain_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await _open_every_mode(app, pilot)
        for _ in range(5):
            await pilot.press(*KEYS)
        await pilot.pause()
        assert app.current_mode == "evaluate"
    assert on_ui_thread == []
    assert memory.load()["mode"] == "evaluate", "the last mode is on disk once ftui has closed"


def _due_checks(form: train_form.LauncherForm) -> int:
    """The form's deep-check timers still waiting to fire (the delay is set apart from every other timer's)."""
    return sum(1 for t in list(form._timers) if t._interval == train_form.DEEP_CHECK_DELAY_S  # noqa: SLF001
               and t._task is not None and not t._task.done() and not t._task.cancelling())  # noqa: SLF001


@pytest.mark.parametrize("late_change", [False, True], ids=["brief-visit", "change-after-leaving"])
async def test_a_train_check_starts_only_once_the_train_screen_stays(runs_dir: Path, no_deep_check: list[int],  # noqa: ARG001
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     late_change: bool) -> None:
    """``change-after-leaving``: a field's Changed handled after the user left Train (its revalidation comes 50 ms
    later) set a check timer that fired while Train was away (the full suite, 2 runs of 2, once Train was built
    whole before it showed)."""
    monkeypatch.setattr(train_form, "DEEP_CHECK_DELAY_S", 3600.0)  # never fires here: the test looks at what is due
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await _open_every_mode(app, pilot)  # ends on Evaluate, Train was shown briefly
        form = app.get_screen_stack("train")[0].form  # type: ignore[attr-defined]
        if late_change:
            form.revalidate()  # what a late field change does
        assert _due_checks(form) == 0, "a check left due by a brief visit would start while Train is away"
        for _ in range(5):
            await pilot.press(*KEYS)
            await pilot.pause()
            assert _due_checks(form) == 0
        await pilot.press("f3")
        while app.current_mode != "train":
            await pilot.pause()
        await pilot.pause()
        assert _due_checks(form) == 1, "back on Train, its check is due once, after the delay"
    assert no_deep_check == []
