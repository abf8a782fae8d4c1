"""Issue 13 (8): slow work shows feedback at once, and the keys that matter during a run never wait on it.

- The first switch to Train (which builds ~300 widgets, seconds on a busy machine) puts its
  "Opening Train…" notice on the terminal before the screen is built: checked on the frames
  written to a terminal, since a notice that was only set, never painted, shows nothing. On a
  terminal ftui builds the screens ahead while the user is idle (ftui.tui.prebuild): that test turns
  it off (a key pressed before a screen was built ahead gets the same), and another checks that a
  screen built ahead shows at once, with no "Opening…" on the way.
- While a run trains in this process, ``?`` and the stop dialog open although the training
  thread is inside a step that does not end (they never wait on it), and the Train monitor's
  4 Hz tick rebuilds at most one chart (a key pressed during a tick waits for that tick's work:
  four charts a tick is how ``?`` took over a second).
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest
from textual import events

from ftui.config import RunConfig
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.help import HelpScreen
from ftui.tui.screens.train import RunStarted, TrainScreen
from ftui.tui.widgets.metric_plot import MetricPlot
from tests.tui.test_first_frame import SIZE, CaptureDriver
from tests.tui.test_train_screen import wait_for

BOUND_S = 120.0  # a stuck test fails after this; nothing waits for it to pass
WATCHDOG_S = 60.0


def _plain(frame: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", frame)


async def _until(done, what: str) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while not done():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _switch_to_train_on_a_terminal(app: FtuiApp, ready) -> list[str]:  # noqa: ANN001
    """Runs ``app`` on a capturing terminal; once ``ready()`` holds, F3 until Train is painted. The frames from F3 on."""
    app.driver_class = CaptureDriver
    CaptureDriver.writes = []
    before: list[int] = []
    failure: list[BaseException] = []

    async def drive() -> None:
        try:
            await _until(lambda: app.is_running and ready(), "the app ready for F3")
            before.append(len(CaptureDriver.writes))
            for widget in app.screen.query("Tabs, Footer"):  # a paint already due as the key comes (an animation)
                widget.refresh()
            app.post_message(events.Key("f3", None))
            await _until(lambda: app.current_mode == "train" and any("n New run" in _plain(w) for w in
                                                                   CaptureDriver.writes[before[0]:]), "the Train screen")
        except BaseException as exc:  # noqa: BLE001 - re-raised below, once the app has ended
            failure.append(exc)
        finally:
            app.exit()

    driver = asyncio.create_task(drive())
    await app.run_async(size=SIZE)
    await driver
    if failure:
        raise failure[0]
    return [_plain(w) for w in CaptureDriver.writes[before[0]:]]


async def test_the_first_switch_to_train_paints_its_notice_before_the_screen_is_built() -> None:
    app = FtuiApp(start_mode="plan", prebuild=False)  # Train not built ahead: the switch builds it

    def plan_idle() -> bool:  # the Plan screen painted and settled: the usual case
        return any("Should you fine-tune?" in w for w in CaptureDriver.writes) and app.screen.settled.is_set()

    frames = await _switch_to_train_on_a_terminal(app, plan_idle)
    notice = next((i for i, w in enumerate(frames) if "Opening Train" in w), None)
    train = next(i for i, w in enumerate(frames) if "n New run" in w)
    assert notice is not None, "the notice never reached the terminal: nothing on screen while Train was built"
    assert notice < train


async def test_on_a_terminal_train_is_built_ahead_and_its_first_switch_shows_it_without_a_notice() -> None:
    app = FtuiApp(start_mode="plan")  # the default, on a terminal (not headless): screens built while idle
    frames = await _switch_to_train_on_a_terminal(app, app.prebuilt.is_set)
    assert app.opened_modes == {"plan", "data", "train", "evaluate"}
    assert not any("Opening Train" in w for w in frames)  # nothing was left to build: no notice on the way
    assert app.return_code == 0


@pytest.fixture
def parked_run(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A run training in this process through the real worker (thread, event log, lock), whose backend
    logs five steps and then stays inside the sixth until released: a long backward pass, a checkpoint
    save, a stuck data loader. Yields (worker, parked, release)."""
    from ftui.train import worker as worker_mod
    from ftui.train.events import Finished, Log, Memory, Started, Stopped

    parked, release = threading.Event(), threading.Event()

    def backend(config, run_dir, emit, control, resume=False, callbacks=()):  # noqa: ANN001, ANN202, ARG001
        emit(Started(run_id=Path(run_dir).name, method="lora", model="demo", total_steps=100))
        for step in range(1, 6):
            emit(Log(step=step, loss=2.0 / step, lr=1e-3, tokens_per_s=900.0 + step))
            emit(Memory(step=step, source="cpu-rss", rss=1_000_000_000 + step))
        parked.set()
        release.wait(BOUND_S)
        if control.stop_requested:
            emit(Stopped(step=5, saved=control.save_requested))
            return
        emit(Finished(step=5))

    monkeypatch.setattr(worker_mod, "_backend_for", lambda method: backend)
    run = worker_mod.start_run(RunConfig(), run_dir=runs_dir / "20261203-lora-parked", check=False)
    # A UI that waits on the training thread would wait for ever: this frees it (and the test then
    # fails on `release` being set) instead of hanging the suite.
    watchdog = threading.Timer(WATCHDOG_S, release.set)
    watchdog.start()
    try:
        yield run, parked, release
    finally:
        watchdog.cancel()
        release.set()
        assert run.join(60)


async def _train_screen_watching(pilot, run) -> TrainScreen:  # noqa: ANN001
    """The Train screen showing ``run`` in its monitor, as after F5 on the form (RunStarted is what the start posts)."""
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    screen.post_message(RunStarted(run))
    await wait_for(pilot, lambda: screen.worker is run and screen.monitor.history is not None
                   and screen.monitor.history.last_step == 5, BOUND_S, "the run's five steps in the monitor")
    return screen


async def test_help_and_the_stop_dialog_open_while_the_training_thread_is_inside_a_step(
    parked_run, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    run, parked, release = parked_run
    monkeypatch.setattr(ChoiceScreen, "GUARD_S", 0.0)  # the dialog's key guard is tested elsewhere
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _train_screen_watching(pilot, run)
        assert parked.wait(BOUND_S) and run.is_alive()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert not release.is_set(), "? waited on the training thread (freed by the watchdog)"
        assert ("x", "Stop…") in [(key, label) for key, label, _ in app.screen.rows]  # the run counts as live
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("s")
        assert app.screen is screen and run.control.stop_requested and run.control.save_requested
        assert not release.is_set(), "the UI waited on the training thread (freed by the watchdog)"
        assert parked.is_set() and run.is_alive()  # all of it inside the one step
        release.set()
        await wait_for(pilot, lambda: screen.monitor.history.status == "stopped", BOUND_S, "the stop")


async def test_a_monitor_tick_rebuilds_at_most_one_chart_while_a_run_streams(parked_run) -> None:  # noqa: ANN001
    from ftui.train.events import Log, Memory

    run, parked, _release = parked_run
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await _train_screen_watching(pilot, run)
        monitor = screen.monitor
        plots = list(monitor.query(MetricPlot))
        assert len(plots) == 4
        drawn: set[str] = set()
        for step in range(6, 12):  # a batch of new points for every chart, then one tick (all in one go:
            # nothing else runs on the event loop between the batch and the tick)
            monitor.apply([Log(step=step, loss=2.0 / step, lr=1e-3, tokens_per_s=900.0 + step),
                           Memory(step=step, source="cpu-rss", rss=1_000_000_000 + step)])
            counts = [plot.draws for plot in plots]
            monitor._tick()  # noqa: SLF001 - what the 4 Hz timer calls
            rebuilt = [plot.id for plot, count in zip(plots, counts, strict=True) if plot.draws != count]
            assert len(rebuilt) <= 1, f"one tick rebuilt {rebuilt}"
            drawn.update(rebuilt)
        assert drawn == {plot.id for plot in plots}, "every chart gets its turn"
