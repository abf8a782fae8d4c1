"""Issue 13 (1): keys that start, stop or delete work cannot fire by accident.

- a confirmation ignores keys for a moment after it appears, never answers with the key that
  opened it, and Enter gives the safe answer;
- no single-letter binding fires while a text field has focus: a model id holding every bound
  letter and digit is typed into every field of every mode screen, and nothing happens but typing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Collapsible, Input

from ftui.train import live
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen

SIZE = (160, 48)


class _FakeRun:
    run_id = "run-fake"

    def __init__(self) -> None:
        self.stops: list[bool] = []
        self.alive = True

    def stop(self, save: bool = True) -> None:
        self.stops.append(save)

    def is_alive(self) -> bool:
        return self.alive


def _bound_characters(app: FtuiApp) -> str:
    """Every printable single-character key bound anywhere on the current screen (and its widgets)."""
    keys: set[str] = set()
    nodes = [app, app.screen, *app.screen.query("*")]
    for node in nodes:
        for bindings in node._bindings.key_to_bindings.values():  # noqa: SLF001
            for binding in bindings:
                for one in binding.key.split(","):
                    one = one.strip()
                    if len(one) == 1 and one.isprintable() and one != " ":
                        keys.add(one)
    return "".join(sorted(keys))


def _model_id(letters: str) -> str:
    """A plausible Hub id that holds every bound character."""
    return f"org/{letters}-Instruct-3.1"


async def _settle(pilot) -> None:  # noqa: ANN001
    """Until every message queue of the app and its screen is empty (a state, not a time).

    ``Pilot.press`` also waits until the *process* has been idle for 20 ms, twice per key; the
    forms' background checks keep it busy, which made typing 1,600 keys cost minutes.
    """
    app = pilot.app
    while True:
        await pilot._wait_for_screen()  # noqa: SLF001
        if all(node._message_queue.empty() for node in [app, *app.screen.walk_children(with_self=True)]):  # noqa: SLF001
            return


async def _type(pilot, text: str) -> None:  # noqa: ANN001
    """Type ``text`` as a fast typist (or a paste without bracketing) does: the keys arrive in order,
    as the terminal driver delivers them, and are all handled before this returns."""
    for char in text:
        key = char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        await pilot.app._post_message(event)  # noqa: SLF001 - what the driver does with a key read from the terminal
    await _settle(pilot)


async def _type_into_every_field(pilot, app: FtuiApp) -> list[str]:  # noqa: ANN001
    fired: list[str] = []
    original = app.run_action

    async def recording(action, default_namespace=None):  # noqa: ANN001, ANN202
        if not isinstance(default_namespace, Input):  # an Input's own keys (cursor, delete) are typing
            fired.append(str(action))
        return await original(action, default_namespace)

    app.run_action = recording  # type: ignore[method-assign]
    screen = app.screen
    for collapsible in screen.query(Collapsible):
        collapsible.collapsed = False
    await pilot.pause()
    text = _model_id(_bound_characters(app))
    fields = [w for w in screen.query(Input) if w.focusable]
    assert fields, f"no text field on {screen}"
    for field in fields:
        field.focus()  # applied through the app's queue, before the keys typed next
        field.value = ""
        await _type(pilot, text)
        assert app.screen is screen, f"typing into #{field.id} changed the screen to {app.screen}"
        assert not fired, f"typing into #{field.id} fired {fired}"
        if field.restrict is None and field.max_length in (None, 0):
            assert field.value == text, f"#{field.id} holds {field.value!r}"
    return fired


@pytest.mark.parametrize("mode", ["plan", "data", "train", "evaluate"])
async def test_typing_a_model_id_into_any_field_fires_no_binding(mode: str, runs_dir: Path) -> None:
    app = FtuiApp(start_mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        if mode == "plan":
            await app.screen.settled.wait()
        if mode == "data":
            await pilot.press("slash")  # the search field appears on /
        if mode == "evaluate":
            await pilot.press("g")  # the fields are on the Generate screen
            await pilot.pause(0.2)
        await pilot.pause()
        await _type_into_every_field(pilot, app)
        assert app.current_mode == mode


async def test_the_quit_question_ignores_keys_at_first_and_defaults_to_staying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key within the guard time does nothing; Enter answers the safe choice (stay, stop nothing)."""
    # the conftest switched the guard off for the other tests; an hour here, so a loaded machine
    # cannot make "at once" late: the test moves the dialog's clock instead of waiting
    monkeypatch.setattr(ChoiceScreen, "GUARD_S", 3600.0)
    run = _FakeRun()
    live.register(run)
    try:
        app = FtuiApp(start_mode="train")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+q")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ChoiceScreen)
            assert "x" not in [key for key, _, _ in dialog.choices]
            await pilot.press("s")  # at once: within the guard time
            await pilot.pause()
            assert app.screen is dialog and run.stops == [] and dialog.ignored_keys == ["s"]
            dialog.shown_at -= ChoiceScreen.GUARD_S  # the guard time has passed
            await pilot.press("enter")  # the default is the safe answer: nothing stops
            await pilot.pause()
            assert run.stops == [] and not isinstance(app.screen, ChoiceScreen)
            assert app.is_running
    finally:
        run.alive = False


async def test_a_question_answers_once_however_fast_the_keys_come() -> None:
    """An answer key typed twice (or repeated by a terminal): the second one arrives before the dialog has
    gone, and dismissing it again popped the screen under it ("Can't pop screen", a traceback at quit)."""
    answers: list[str | None] = []
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        base = app.screen
        dialog = ChoiceScreen("Keep it?", [("k", "keep running", "keep"), ("s", "stop", "stop")])
        dialog.GUARD_S = 0.0
        await app.push_screen(dialog, answers.append)
        for key in ("k", "k", "s", "escape"):  # all in the dialog's queue before the first is handled
            dialog.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        assert app.screen is base and answers == ["keep"]
        assert app.is_running


def test_an_answer_cannot_use_the_key_that_opened_the_question() -> None:
    with pytest.raises(ValueError, match="opened the question"):
        ChoiceScreen("Stop?", [("s", "stop and save", "save"), ("x", "stop now", "stop")], opened_by="x")


async def test_the_train_stop_question_uses_other_keys_than_x(runs_dir: Path) -> None:
    from ftui.train.run_lock import RunLock
    from ftui.tui.screenshots.runs import write_fixture_run

    run_dir = write_fixture_run(runs_dir, "live")
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        app = FtuiApp(start_mode="train")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            while not (screen.watched == run_dir and screen.monitor.history is not None):
                await pilot.pause(0.05)
            await pilot.press("x")
            dialog = app.screen
            assert isinstance(dialog, ChoiceScreen)
            assert [k for k, _, _ in dialog.choices] == ["s", "w"] and dialog.default is None
            await pilot.press("x")  # the natural second x: nothing
            await pilot.pause()
            assert app.screen is dialog
            await pilot.press("escape")
    finally:
        lock.release()


async def test_f5_asks_before_starting_a_run(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        while not screen.form.checked:
            await pilot.pause(0.05)
        assert screen.form.all_problems == []
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and "Start" in app.screen.question
        await pilot.press("f5")  # the opening key again: nothing
        await pilot.press("enter")  # the default: cancel
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)
        assert screen.worker is None and not screen._starting  # noqa: SLF001
