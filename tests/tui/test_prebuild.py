"""Issue 13, first switch <= 300 ms: the other modes' screens are built while the user is idle (by default on a
terminal), so a first F2 / F3 / F4 only shows a screen that is ready; nothing a screen does for the user (the Data
screen opening its file included) happens before it shows; an exit (a hang-up) during or just before a build ends
with 0."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from textual.app import App

from ftui.tui import prebuild
from ftui.tui.app import FtuiApp
from ftui.tui.prebuild import Prebuilder
from ftui.tui.screenshots.runs import write_fixture_run
from ftui.tui.widgets.mode_bar import ModeBar

SIZE = (160, 48)


MODES = ("plan", "data", "train", "evaluate")


async def _prebuilt(app: FtuiApp) -> None:
    await asyncio.wait_for(app.prebuilt.wait(), 120)  # bounded: a build that never ends fails, not hangs


async def test_an_idle_start_builds_every_mode_and_a_first_switch_only_shows_it(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opening: list[str | None] = []
    plain = ModeBar.show_opening
    monkeypatch.setattr(ModeBar, "show_opening", lambda bar, mode: (opening.append(mode), plain(bar, mode))[1])
    app = FtuiApp(start_mode="plan", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await _prebuilt(app)
        assert app.current_mode == "plan"
        built = {mode: app._screen_stacks[mode][0] for mode in MODES}  # noqa: SLF001
        assert all(screen.is_mounted for screen in built.values())
        data = built["data"]
        assert data.path is None and data.index is None  # built ahead it is only widgets: no file opened yet
        assert data.lint_state == "not run"
        train = built["train"]
        # the form already holds the workspace's dataset and is checked for the cheap problems
        assert train.form.query_one("#f-train_path").value.endswith("support_tickets_train.jsonl")
        await pilot.press("f2")
        while app.current_mode != "data":
            await pilot.pause()
        assert app.screen is data and "data" not in opening
        assert data.index is not None and data.path.name == "support_tickets_train.jsonl"  # opened as it shows
        await pilot.press("f3")
        while app.current_mode != "train":
            await pilot.pause()
        assert app.screen is train  # the screen built ahead, not a second one
        assert "train" not in opening  # no "Opening Train…": nothing was left to build
        await pilot.press("f4")
        while app.current_mode != "evaluate":
            await pilot.pause()
        assert app.screen is built["evaluate"]


async def test_a_live_run_is_reattached_only_once_train_shows(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built off-screen, Train found the live run at mount and said "Reattached…" over the Plan screen."""
    from ftui.train.run_lock import RunLock
    from ftui.tui.screens import train_form

    monkeypatch.setattr(prebuild, "ORDER", ("train",))
    monkeypatch.setattr(train_form, "DEEP_CHECK_DELAY_S", 600.0)  # the model check is not what this is about

    run_dir = write_fixture_run(runs_dir, "live")
    lock = RunLock(run_dir)
    lock.acquire()  # as the training process does
    try:
        app = FtuiApp(start_mode="plan", prebuild=True)
        async with app.run_test(size=SIZE) as pilot:
            await _prebuilt(app)
            await app.workers.wait_for_complete()
            await pilot.pause()
            train = app._screen_stacks["train"][0]  # noqa: SLF001
            assert train.watched is None
            assert not any("Reattached" in str(n.message) for n in app._notifications)  # noqa: SLF001
            await pilot.press("f3")
            for _ in range(2000):  # until the reattach (bounded)
                if train.watched == run_dir:
                    break
                await pilot.pause(0.01)
            assert train.watched == run_dir
    finally:
        lock.release()


async def test_quitting_while_a_screen_is_built_ahead_exits_cleanly(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan (tabs that mount lazily) is built last when ftui starts on Train: quit in the middle of it."""
    started = asyncio.Event()
    plain = Prebuilder._build

    async def build(self: Prebuilder, mode: str) -> None:
        if mode == "plan":
            started.set()
        await plain(self, mode)

    monkeypatch.setattr(Prebuilder, "_build", build)
    monkeypatch.setattr(prebuild, "ORDER", ("plan",))
    app = FtuiApp(start_mode="train", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(started.wait(), 120)
        app.exit()
        await pilot.pause()
    assert app.return_code == 0


async def test_an_exit_waits_for_the_lazy_parts_of_a_screen_built_ahead(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan built ahead mounts its calculator (and the calculator its tabs) after the screen's own mount ended. An
    exit then, with the Train start screen settled, took the tabs apart mid-mount: "No Tab with id
    '--content-tab-memory'", exit status 1 (a stress run). The exit now waits for every screen built to settle."""
    from ftui.tui.screens.plan import PlanScreen

    monkeypatch.setattr(prebuild, "ORDER", ("plan",))
    gate = asyncio.Event()
    mounting = asyncio.Event()
    plain_mount = PlanScreen._mount_calculator

    async def mount_calculator(self: PlanScreen) -> None:
        mounting.set()
        with contextlib.suppress(asyncio.TimeoutError):  # bounded: where the exit did not wait, the test fails, not hangs
            await asyncio.wait_for(gate.wait(), 20)  # the calculator's mount is under way when the exit comes
        await plain_mount(self)

    monkeypatch.setattr(PlanScreen, "_mount_calculator", mount_calculator)
    app = FtuiApp(start_mode="train", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(mounting.wait(), 120)
        assert app._prebuilder.idle.is_set()  # noqa: SLF001 - the prebuilder's part (the screen's mount) is over
        app.exit()
        assert not app._exit  # noqa: SLF001 - Textual's exit is held back until Plan's calculator is in
        for _ in range(3):
            await pilot.pause()
        assert app.is_running and not app._exit  # noqa: SLF001
        gate.set()
        plan = app._screen_stacks["plan"][0]  # noqa: SLF001
        await asyncio.wait_for(plan.settled.wait(), 60)
        assert plan._ready  # noqa: SLF001 - the calculator mounted and was filled before the exit took it apart
    assert app.return_code == 0


async def test_an_exit_held_back_by_a_mount_builds_nothing_more(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hang-up while the start screen was still mounting its lazy parts: the exit waited for them, the next
    build began meanwhile (only Textual's own exit flag was looked at), and the exit then took the half-built Data
    screen apart under its on_mount (NoMatches '#rows-pane': ftui ended with 1)."""
    monkeypatch.setattr(prebuild, "ORDER", ("data",))
    quiet = asyncio.Event()
    looked = asyncio.Event()
    plain_build_next = Prebuilder._build_next

    async def build_next(self: Prebuilder) -> None:
        await plain_build_next(self)
        if quiet.is_set():
            looked.set()

    monkeypatch.setattr(Prebuilder, "due_in", lambda self, now: 0.0 if quiet.is_set() else 3600.0)
    monkeypatch.setattr(Prebuilder, "_build_next", build_next)
    mounting = asyncio.Event()  # a mount under way that the exit waits for
    app = FtuiApp(start_mode="plan", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        monkeypatch.setattr(FtuiApp, "_unfinished_mount", lambda self: None if mounting.is_set() else mounting)
        app.exit()  # held back: the mount has not ended
        assert app.is_running
        quiet.set()  # input has been quiet long enough: the prebuilder looks again
        app._prebuilder._schedule(0)  # noqa: SLF001
        await asyncio.wait_for(looked.wait(), 60)
        assert "data" not in app.opened_modes  # nothing was built once an exit was asked for
        mounting.set()
        await pilot.pause()
    assert app.return_code == 0


async def test_a_thread_calling_back_once_the_app_exits_is_cancelled_not_failed(runs_dir: Path) -> None:
    """Plan's GPU check delivered its result while shutdown was taking the screen apart (later than usual behind a
    screen built ahead): the callback's query raised NoMatches in the worker, a failed worker, exit status 1."""
    import threading

    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        ran: list[str] = []
        seen: list[type[BaseException]] = []

        def callback() -> None:
            ran.append("callback")
            app.screen.query_one("#a-widget-shutdown-removed")

        def deliver() -> None:
            try:
                app.call_from_thread(callback)
            except BaseException as exc:  # noqa: BLE001 - what the worker thread sees
                seen.append(type(exc))

        before = app.call_from_thread  # still delivers while the app runs
        thread = threading.Thread(target=lambda: before(ran.append, "live"))
        thread.start()
        await asyncio.to_thread(thread.join)
        assert ran == ["live"]
        app.exit()
        thread = threading.Thread(target=deliver)
        thread.start()
        await asyncio.to_thread(thread.join)
        # not run (its screen is going), and a CancelledError: a Textual worker ends as cancelled, not failed
        assert seen == [asyncio.CancelledError] and ran == ["live"]
        await pilot.pause()
    assert app.return_code == 0


async def test_a_headless_app_builds_only_what_it_shows(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app._prebuilder is None  # noqa: SLF001
        assert set(app._screen_stacks) <= {"_default", "plan"}  # noqa: SLF001


def test_a_key_or_a_click_puts_the_next_build_off_until_input_is_quiet() -> None:
    builder = Prebuilder.__new__(Prebuilder)
    builder.last_input = 100.0
    assert builder.due_in(100.0) == pytest.approx(prebuild.IDLE_S)
    assert builder.due_in(100.0 + prebuild.IDLE_S / 2) == pytest.approx(prebuild.IDLE_S / 2)
    assert builder.due_in(100.0 + prebuild.IDLE_S) == 0.0


async def test_input_is_noticed(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prebuild, "ORDER", ())
    app = FtuiApp(start_mode="plan", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await _prebuilt(app)
        before = app._prebuilder.last_input  # noqa: SLF001
        await pilot.press("down")
        assert app._prebuilder.last_input > before  # noqa: SLF001


async def test_a_first_switch_to_a_screen_built_ahead_neither_lays_it_out_nor_renders_it_again(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built ahead, the screen was also laid out at the app's size and its widgets' lines rendered, off-screen: the
    switch only composes them. Before, it laid Train out once and rendered 383 widget lines (~220 ms of UI thread
    on this machine, bench/mode_switch.py); now no layout, and only what the switch changes is rendered (the header,
    the mode bar, the footer's keys: 48 lines)."""
    from textual._styles_cache import StylesCache

    from ftui.tui.screens.base import ModeScreen

    layouts: list[str] = []
    lines: list[int] = []
    plain_layout, plain_line = ModeScreen._refresh_layout, StylesCache.render_line

    def count_layout(screen: ModeScreen, *args: object, **kwargs: object) -> None:
        layouts.append(type(screen).__name__)
        plain_layout(screen, *args, **kwargs)

    def count_line(cache: StylesCache, *args: object, **kwargs: object):  # noqa: ANN202
        lines.append(1)
        return plain_line(cache, *args, **kwargs)

    monkeypatch.setattr(prebuild, "ORDER", ("train",))
    app = FtuiApp(start_mode="plan", prebuild=True)
    async with app.run_test(size=SIZE) as pilot:
        await _prebuilt(app)
        await pilot.pause()
        train = app._screen_stacks["train"][0]  # noqa: SLF001
        assert train.size == SIZE  # laid out while the start screen was idle
        monkeypatch.setattr(ModeScreen, "_refresh_layout", count_layout)
        monkeypatch.setattr(StylesCache, "render_line", count_line)
        held: list[float] = []
        monkeypatch.setattr(App, "delay_update", lambda _app, delay=0.05: held.append(delay))
        await pilot.press("f3")
        while app.current_mode != "train":
            await pilot.pause()
        for _ in range(5):
            await pilot.pause()
        assert layouts == []
        assert 0 < len(lines) <= 100, len(lines)  # 383 when the switch rendered the whole screen
        assert held == []  # no repaint held back: the first frame rendered is the one shown


async def test_a_screen_painted_ahead_shows_what_one_built_by_the_switch_shows(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Data screen opens its file as it first shows, after it was laid out empty ahead: its row list once took
    the width it had then, before the vertical scrollbar, and showed a horizontal scrollbar over the last row."""
    frames: dict[bool, str] = {}
    for ahead in (True, False):
        app = FtuiApp(start_mode="plan", prebuild=ahead)
        async with app.run_test(size=SIZE) as pilot:
            if ahead:
                await _prebuilt(app)
            await pilot.pause()
            await pilot.press("f2")
            while not (app.current_mode == "data" and app.screen.index is not None and app.screen.lint_state == "done"):
                await pilot.pause()
            await pilot.pause()
            frames[ahead] = "\n".join(line.text for line in app.screen._compositor.render_strips())  # noqa: SLF001
    assert frames[True] == frames[False]
    assert "  42  " in frames[True]  # the last row that fits, not a scrollbar


async def test_nothing_is_built_ahead_while_a_run_trains_in_this_process(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftui.train import live

    class _Training:
        run_id = "training"
        alive = True

        def is_alive(self) -> bool:
            return self.alive

    run = _Training()
    live.register(run)
    checked = asyncio.Event()
    plain = Prebuilder.due_in

    def due_in(self: Prebuilder, now: float) -> float:
        checked.set()
        return 0.0  # input is quiet: only the training holds the builds back

    monkeypatch.setattr(Prebuilder, "due_in", due_in)
    monkeypatch.setattr(prebuild, "TRAINING_RECHECK_S", 0.05)
    try:
        app = FtuiApp(start_mode="plan", prebuild=True)
        async with app.run_test(size=SIZE) as pilot:
            await asyncio.wait_for(checked.wait(), 60)
            for _ in range(3):
                checked.clear()
                await asyncio.wait_for(checked.wait(), 60)  # looked again, and still built nothing
                assert app.opened_modes == {"plan"}
            run.alive = False
            monkeypatch.setattr(Prebuilder, "due_in", plain)
            await _prebuilt(app)
            assert {"train", "evaluate"} <= app.opened_modes
            await pilot.pause()
    finally:
        run.alive = False


async def test_plan_built_ahead_says_a_run_is_in_progress_only_once_it_shows(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started on Train (the last session's mode), the Plan built off-screen toasted "… F3 watches it." over the
    Train screen that was already watching the run."""
    from ftui.train.run_lock import RunLock

    monkeypatch.setattr(prebuild, "ORDER", ("plan",))
    run_dir = write_fixture_run(runs_dir, "live")
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        app = FtuiApp(start_mode="evaluate", prebuild=True)
        async with app.run_test(size=SIZE) as pilot:
            await _prebuilt(app)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not any("F3 watches it" in str(n.message) for n in app._notifications)  # noqa: SLF001
            await pilot.press("f1")
            for _ in range(2000):  # until the notice (bounded)
                if any("F3 watches it" in str(n.message) for n in app._notifications):  # noqa: SLF001
                    break
                await pilot.pause(0.01)
            assert any("F3 watches it" in str(n.message) for n in app._notifications)  # noqa: SLF001
    finally:
        lock.release()


async def test_an_exit_waits_for_a_first_switch_still_mounting(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test (or a user's Ctrl+Q) that ended just after a first switch to Train, while Train was still mounting:
    shutdown took the form apart before the screen's on_mount filled it ("No nodes match '#f-preset'": clean-clone
    CI, two Plan and Train tests). The exit now waits for a screen's own mount as well as its lazy parts."""
    from ftui.tui.screens.train_form import LauncherForm

    gate = asyncio.Event()
    mounting = asyncio.Event()
    plain_mount = LauncherForm.on_mount

    async def on_mount(self: LauncherForm) -> None:
        mounting.set()
        with contextlib.suppress(asyncio.TimeoutError):  # bounded: where the exit did not wait, the test fails
            await asyncio.wait_for(gate.wait(), 20)
        plain_mount(self)

    monkeypatch.setattr(LauncherForm, "on_mount", on_mount)
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(app.screen.settled.wait(), 60)  # Plan's own lazy parts are in: only Train mounts
        app.switch_mode("train")  # the first switch: Train's screen mounts, its form waits at the gate
        await asyncio.wait_for(mounting.wait(), 60)
        app.exit()
        assert not app._exit  # noqa: SLF001 - Textual's exit is held back until Train has mounted
        gate.set()
        train = app._screen_stacks["train"][0]  # noqa: SLF001
        await asyncio.wait_for(train._mounted_event.wait(), 60)  # noqa: SLF001
        assert str(train.form.query_one("#f-preset").value) in {"custom", "demo-long"}
    assert app.return_code == 0


async def test_a_pilot_pause_after_a_first_switch_waits_for_the_screen_to_mount(runs_dir: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``press("f3")`` then ``pause()`` handed a test the Train screen before its mount had run: a first switch
    builds the screen only once the "opening" notice is painted, and the test read the form's Selects unmounted
    ("method: one of lora, ...", clean-clone CI, about 1 run in 20 under load). The Pilot that run_test hands
    over now waits for that switch; here the paint that starts the build comes 0.5 s late (a slow terminal)."""
    app = FtuiApp(start_mode="plan")
    plain_after_refresh = app.call_after_refresh

    def late_after_refresh(callback, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asyncio.get_running_loop().call_later(0.5, lambda: plain_after_refresh(callback, *args, **kwargs))
        return True

    async with app.run_test(size=SIZE) as pilot:
        app.workspace.plan_overrides = {"method": "qlora", "lora_r": 8}
        monkeypatch.setattr(app, "call_after_refresh", late_after_refresh)
        await pilot.press("f3")
        await pilot.pause()
        assert app.current_mode == "train" and app.screen.is_mounted
        values, errors = app.screen.form.raw_values()
        assert not errors and values["method"] == "qlora" and values["lora_r"] == 8


async def test_a_first_switch_built_on_the_key_lays_its_screen_out_once(runs_dir: Path) -> None:  # noqa: ARG001
    """Shown while it mounted, Train was laid out two or three times and painted four (the end of its mount asked
    for a layout of the whole screen again): 40-50 ms of a cold first switch. Built whole, then shown: once."""
    from ftui.tui.screens.train import TrainScreen

    layouts: list[str] = []
    plain = TrainScreen._refresh_layout

    def counted(screen: TrainScreen, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        layouts.append("layout")
        plain(screen, *args, **kwargs)

    app = FtuiApp(start_mode="plan", prebuild=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        TrainScreen._refresh_layout = counted  # type: ignore[method-assign]
        try:
            await pilot.press("f3")
            while app.current_mode != "train":
                await pilot.pause()
            await pilot.pause()
            assert app.screen.form.query_one("#f-train_path").value.endswith("support_tickets_train.jsonl")
        finally:
            TrainScreen._refresh_layout = plain  # type: ignore[method-assign]
    assert layouts == ["layout"]


async def test_the_other_modes_screen_modules_are_imported_in_a_thread_after_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key pressed before a screen is built ahead found its modules unimported: 14-18 ms per mode of the switch."""
    import importlib
    import threading

    imported: list[tuple[str, str]] = []
    plain = importlib.import_module

    def recorded(name: str, package: str | None = None):  # noqa: ANN202
        imported.append((name, threading.current_thread().name))
        return plain(name, package)

    monkeypatch.setattr(prebuild.importlib, "import_module", recorded)
    app = FtuiApp(start_mode="data", prebuild=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        while app.preloader is None:
            await pilot.pause()
        await asyncio.to_thread(app.preloader.join, 30)
    assert imported == [(prebuild.SCREEN_MODULES[mode], "preload-screens") for mode in ("train", "evaluate", "plan")]
