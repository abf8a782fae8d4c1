"""The Train screen driven with a Pilot: a real demo run, stop, resume, failures, comparison, bad input."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from ftui.config import RunConfig
from ftui.train.events import read_events
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.train import TrainScreen
from ftui.tui.screens.train_runs import ComparePanel
from ftui.tui.screenshots.runs import write_fixture_run
from ftui.tui.widgets.metric_plot import MetricPlot

SIZE = (120, 40)
# a run the demo model finishes in seconds: few steps, small batches, a small held-out eval
QUICK = {
    "max_steps": "4",
    "micro_batch_size": "2",
    "max_seq_len": "128",
    "eval_steps": "2",
    "save_steps": "2",
    "eval_path": "",
    "eval_fraction": "0.02",
    "gradient_checkpointing": "off",
}
# the demo workspace starts from demo-long; a quick run takes the default LoRA shape and schedule instead
DEFAULT_SHAPE = ("lora_r", "lora_alpha", "lora_dropout", "lr_scheduler")


# A bound only ends a test that is already stuck: at least this long, so a loaded machine (make test-stress)
# cannot fail a test that waits on state. Speed claims assert their own elapsed time.
MIN_BOUND_S = 120.0


async def wait_for(pilot, predicate, timeout: float = 60.0, what: str = "") -> None:  # noqa: ANN001
    deadline = time.monotonic() + max(timeout, MIN_BOUND_S)
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)


def shown(widget) -> str:  # noqa: ANN001
    """The plain text a Static shows, whatever it holds (the launcher's side panel holds grids, so its
    wrapped lines keep under their text), one line per line of content."""
    import io

    from rich.console import Console

    console = Console(width=400, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()


async def press_start(pilot) -> None:  # noqa: ANN001
    """F5, then the confirmation's own key (the form refuses without asking when a field is wrong)."""
    await pilot.press("f5")
    await pilot.pause()
    if isinstance(pilot.app.screen, ChoiceScreen) and any(v == "start" for _, _, v in pilot.app.screen.choices):
        await pilot.press("y")


async def open_train(pilot) -> TrainScreen:  # noqa: ANN001
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    return screen


def set_field(screen: TrainScreen, name: str, value: str) -> None:
    from textual.widgets import Checkbox

    widget = screen.form.query_one(f"#f-{name}")
    if isinstance(widget, Checkbox):
        widget.value = value in ("yes", "true")
    else:
        widget.value = value


async def fill_quick(pilot, screen: TrainScreen, **extra: str) -> None:  # noqa: ANN001
    # type one field for real, set the rest
    field = screen.form.query_one("#f-learning_rate", Input)
    field.focus()
    field.value = ""
    await pilot.press(*"1e-3")
    defaults = RunConfig()
    screen.form.set_values({name: getattr(defaults, name) for name in DEFAULT_SHAPE})
    for name, value in {**QUICK, **extra}.items():
        set_field(screen, name, value)
    await pilot.press("escape")
    await wait_for(pilot, lambda: screen.form.checked, 60, "form checks")
    assert screen.form.all_problems == []


# ---------------------------------------------------------------------- real runs of the demo model
async def test_demo_run_from_the_form_to_the_runs_list(demo_model: Path, runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts render as for a user
        screen = await open_train(pilot)
        await fill_quick(pilot, screen)
        started = time.monotonic()
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the worker")
        assert screen.panel == "monitor"
        loss_plot = screen.monitor.query_one("#plot-loss", MetricPlot)
        await wait_for(pilot, lambda: loss_plot.point_count > 0, 120, "loss points on the plot")
        await wait_for(pilot, lambda: screen.ended, 180, "the run to end")
        elapsed = time.monotonic() - started
        assert screen.ended[-1][1] == "finished", screen.monitor.history.terminal
        await wait_for(pilot, lambda: screen.monitor.history.status == "finished", 5)
        history = screen.monitor.history
        assert len(history.loss) == 4 and len(history.eval_loss) >= 2
        assert history.memory, "memory samples (process RSS on CPU)"
        memory = screen.monitor.query_one("#plot-mem", MetricPlot)  # the last picture is drawn on the next tick
        await wait_for(pilot, lambda: memory.title.endswith("process RSS (no GPU)"), 10, "the memory chart's title")
        # the config YAML was written into the run directory
        run_dir = Path(screen.worker.run_dir)
        assert (run_dir / "config.yaml").is_file()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs_panel.loaded > 0, 10)
        ours = [s for s in screen.runs_panel.summaries if s.run_dir == run_dir]
        assert ours and ours[0].status == "finished"
        print(f"demo run from the TUI: {elapsed:.1f} s")


async def test_stop_and_save_mid_run_then_resume(demo_model: Path, runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_train(pilot)
        await fill_quick(pilot, screen, max_steps="200")
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the worker")
        await wait_for(pilot, lambda: screen.monitor.history is not None and len(screen.monitor.history.loss) >= 1,
                       120, "the first step")
        await pilot.press("x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.ended, 120, "the stop")
        assert screen.ended[-1][1] == "stopped"
        run_dir = Path(screen.worker.run_dir)
        stopped = [e for e in read_events(run_dir / "events.jsonl") if e.type == "stopped"]
        assert stopped and stopped[-1].saved and stopped[-1].step < 200
        screen.worker.join(30)
        # resume it from the runs list
        await pilot.press("r")
        await wait_for(pilot, lambda: any(s.run_dir == run_dir for s in screen.runs_panel.summaries), 10)
        index = next(i for i, s in enumerate(screen.runs_panel.summaries) if s.run_dir == run_dir)
        screen.runs_panel.query_one("#runs-table").move_cursor(row=index)
        first_worker = screen.worker
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the resume question")
        await pilot.press("y")  # u asks before it starts work
        await wait_for(pilot, lambda: screen.worker is not first_worker, 60, "the resumed worker")
        await wait_for(pilot, lambda: screen.monitor.history is not None
                       and screen.monitor.history.resumed_from_step is not None, 120, "the resumed start")
        assert screen.monitor.history.resumed_from_step == stopped[-1].step
        screen.worker.stop(save=False)
        assert screen.worker.join(120)


def start_checks_running(screen: TrainScreen) -> bool:
    from textual.worker import WorkerState

    return any(w.group == "train-start" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
               for w in screen.workers)


def notices(app: FtuiApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)  # noqa: SLF001


async def test_the_monitor_follows_a_resumed_run_whose_start_takes_a_while(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftui.train import worker as worker_mod
    from ftui.train.events import Finished, Log, Message, Started

    def slow_to_load(config, run_dir, emit, control, resume=False, callbacks=()):  # noqa: ANN001, ANN202
        emit(Message(text="loading demo"))
        time.sleep(3)  # a model loading: the log still ends with the last attempt's `stopped`
        emit(Started(run_id=Path(run_dir).name, method="lora", model="demo", total_steps=60, resumed_from_step=55))
        for step in range(56, 61):
            emit(Log(step=step, loss=0.5))
        emit(Finished(step=60))

    monkeypatch.setattr(worker_mod, "_backend_for", lambda method: slow_to_load)
    run_dir = write_fixture_run(runs_dir, "stopped")
    checkpoint = run_dir / "checkpoints" / "checkpoint-55"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text("{}")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs_panel.loaded > 0, 10, "the runs list")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the resume question")
        await pilot.press("y")  # u asks before it starts work
        await wait_for(pilot, lambda: screen.worker is not None, 30, "the resumed worker")
        await wait_for(pilot, lambda: screen.monitor.history is not None
                       and screen.monitor.history.status == "finished", 30, "the resumed run in the monitor")
        assert screen.monitor.history.resumed_from_step == 55 and screen.monitor.history.last_step == 60
        # the monitor reads the log as it is written; the worker's end reaches the screen separately
        await wait_for(pilot, lambda: screen.ended, 30, "the worker's end")
        assert screen.ended == [(run_dir.name, "finished")]


async def test_f5_twice_quickly_starts_exactly_one_run(
    demo_model: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftui.train.preflight

    real_validate = ftui.train.preflight.validate
    release = threading.Event()  # the check is slow (a big dataset, a cold disk) until the test says so

    def slow_validate(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        release.wait(120)
        return real_validate(*args, **kwargs)

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await fill_quick(pilot, screen, max_steps="200")
        monkeypatch.setattr(ftui.train.preflight, "validate", slow_validate)  # what the start thread calls
        await press_start(pilot)
        try:
            await pilot.press("f5")  # while the first start is still validating in its thread
            assert "already starting" in notices(app)
        finally:
            release.set()
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the worker")
        await wait_for(pilot, lambda: not start_checks_running(screen), 60, "every start check")
        try:
            assert [p.name for p in runs_dir.iterdir()] == [screen.worker.run_id]
            assert not screen._starting  # noqa: SLF001 - cleared by RunStarted
            await pilot.press("n", "f5")  # a third start while it trains: refused too
            assert "already training" in notices(app)
        finally:
            screen.worker.stop()
            assert screen.worker.join(120)
        assert len(list(runs_dir.iterdir())) == 1


async def test_a_start_check_that_crashes_is_refused_and_frees_the_start(
    demo_model: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftui.train.preflight

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("the checker broke")

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await fill_quick(pilot, screen)
        monkeypatch.setattr(ftui.train.preflight, "validate", broken)  # what the start thread calls
        await press_start(pilot)
        await wait_for(pilot, lambda: "the checker broke" in notices(app), 30, "the refusal")
        assert screen.worker is None and not screen._starting  # noqa: SLF001
        app.clear_notifications()
        await press_start(pilot)  # not "already starting": the guard was cleared
        await wait_for(pilot, lambda: "the checker broke" in notices(app), 30, "the second refusal")
        assert "already starting" not in notices(app)
        assert not runs_dir.exists() or not list(runs_dir.iterdir())


async def test_a_run_whose_log_cannot_be_written_is_reported_on_screen(
    demo_model: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftui.train import worker as worker_mod
    from ftui.train.events import EventLogWriter, Started, Stopped

    def backend(config, run_dir, emit, control, resume=False, callbacks=()):  # noqa: ANN001, ANN202
        emit(Started(run_id=Path(run_dir).name, method="lora", model="demo", total_steps=1000))
        for step in range(1, 1000):
            if control.stop_requested:
                emit(Stopped(step=step, saved=control.save_requested))
                return
            time.sleep(0.01)

    def full_disk(self, event):  # noqa: ANN001, ANN202
        raise OSError(28, "No space left on device")

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await fill_quick(pilot, screen)
        monkeypatch.setattr(worker_mod, "_backend_for", lambda method: backend)
        monkeypatch.setattr(EventLogWriter, "write", full_disk)
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the worker")
        assert screen.worker.join(30) and screen.worker.control.save_requested
        await wait_for(pilot, lambda: "could not be written" in notices(app), 10, "the notice")
        (notice,) = [n for n in app._notifications if n.title == "Event log not written"]  # noqa: SLF001
        assert "No space left on device" in str(notice.message) and notice.severity == "error"


# ---------------------------------------------------------------------- recorded logs
async def test_failed_run_shows_its_message_and_hint(runs_dir: Path) -> None:
    write_fixture_run(runs_dir, "failed")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs_panel.loaded > 0, 10)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.monitor.history is not None, 10)
        await pilot.pause(0.1)
        status = str(screen.monitor.query_one("#mon-status").render())
        diag = shown(screen.monitor.query_one("#mon-diag"))
        assert "failed" in status and "out of memory" in status
        assert "micro_batch_size" in diag  # the hint, as the fix


async def test_compare_two_runs_overlays_curves_and_diffs_configs(runs_dir: Path) -> None:
    write_fixture_run(runs_dir, "compare_a", learning_rate=2e-4)
    write_fixture_run(runs_dir, "compare_b", learning_rate=5e-5)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: len(screen.runs_panel.summaries) == 2, 10)
        await pilot.press("c")  # nothing marked yet: a hint, no comparison
        assert not screen.query_one(ComparePanel).histories
        await pilot.press("space", "down", "space", "c")
        compare = screen.query_one(ComparePanel)
        await wait_for(pilot, lambda: len(compare.histories) == 2, 10)
        assert screen.panel == "compare"
        assert compare.query_one("#cmp-train", MetricPlot).point_count == 240
        diff = compare.query_one("#cmp-diff")
        fields = [str(diff.get_row_at(i)[0]) for i in range(diff.row_count)]
        assert fields == ["learning_rate"]
        before = compare.query_one("#cmp-train", MetricPlot).draws
        await pilot.press("l")
        assert compare.ylog and compare.query_one("#cmp-train", MetricPlot).draws > before


async def test_reattach_follows_a_log_written_by_another_process(runs_dir: Path) -> None:
    run_dir = write_fixture_run(runs_dir, "healthy")
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "events.jsonl").write_text("".join(lines[:40]))
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        screen.open_run(run_dir)
        await wait_for(pilot, lambda: screen.monitor.history is not None, 10)
        seen = len(screen.monitor.history.loss)
        with open(run_dir / "events.jsonl", "a") as fh:  # the other process keeps writing
            fh.write("".join(lines[40:]))
        await wait_for(pilot, lambda: screen.monitor.history.status == "finished", 10, "the tail")
        assert len(screen.monitor.history.loss) == 120 > seen
        assert screen.ended and screen.ended[-1][1] == "finished"


async def test_the_end_of_a_watched_run_rings_the_bell_and_notifies(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = write_fixture_run(runs_dir, "healthy")
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "events.jsonl").write_text("".join(lines[:-1]))  # all but the `finished`
    bells: list[float] = []
    app = FtuiApp(start_mode="train")
    monkeypatch.setattr(app, "bell", lambda: bells.append(time.monotonic()))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        screen.open_run(run_dir)
        await wait_for(pilot, lambda: screen.monitor.history is not None, 10)
        await pilot.pause(0.5)
        assert bells == [] and not screen.ended  # opening a live run rings nothing
        with open(run_dir / "events.jsonl", "a") as fh:
            fh.write(lines[-1])
        await wait_for(pilot, lambda: screen.ended, 10, "the end of the run")
        await pilot.pause(0.2)
        assert len(bells) == 1
        finished = [n for n in app._notifications if n.title == "Run finished"]  # noqa: SLF001
        assert finished and "best eval loss 0.6200" in str(finished[0].message)


async def test_log_y_and_epoch_axis_toggle_the_monitor(runs_dir: Path) -> None:
    run_dir = write_fixture_run(runs_dir, "healthy")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        screen.open_run(run_dir)
        await wait_for(pilot, lambda: screen.monitor.history is not None, 10)
        await pilot.press("l")
        assert screen.monitor.ylog and screen.monitor.query_one("#plot-loss", MetricPlot).title == "loss (log y)"
        await pilot.press("e")
        assert screen.monitor.xaxis == "epoch"
        assert screen.monitor.query_one("#plot-loss", MetricPlot)._spec.xlabel == "epoch"  # noqa: SLF001
        await pilot.press("r")  # the runs panel has its own key (Tab moves between fields only)
        assert screen.panel == "runs"


# ---------------------------------------------------------------------- bad input: one message, nothing started
async def start_refused(pilot, screen: TrainScreen) -> str:  # noqa: ANN001
    await press_start(pilot)
    await wait_for(pilot, lambda: bool(pilot.app._notifications), 60, "a message")  # noqa: SLF001
    await pilot.pause(0.2)
    assert screen.worker is None
    return " ".join(str(n.message) for n in pilot.app._notifications)  # noqa: SLF001


async def test_invalid_field_turns_red_and_blocks_the_start(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        set_field(screen, "learning_rate", "fast")
        set_field(screen, "lora_r", "0")
        await wait_for(pilot, lambda: screen.form.query_one("#row-learning_rate").has_class("-invalid"), 5)
        assert "number" in screen.form.query_one("#row-learning_rate").help_text
        assert screen.form.query_one("#row-lora_r").has_class("-invalid")
        text = await start_refused(pilot, screen)
        assert "learning_rate" in text
        assert not list(runs_dir.glob("*")) if runs_dir.exists() else True


async def test_dataset_with_lint_errors_offers_the_data_screen(runs_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json at all\n')
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        set_field(screen, "train_path", str(bad))
        await pilot.pause()  # the change reaches the form before "checked" means this file
        await wait_for(pilot, lambda: screen.form.checked and screen.form.has_data_problems, 60, "the lint errors")
        await press_start(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the data-screen offer")
        await pilot.press("d")
        await wait_for(pilot, lambda: app.current_mode == "data", 10)
        assert screen.worker is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"method": "qlora"}, "GPU"), ({"method": "openai"}, "OPENAI_API_KEY"),
     ({"attn_implementation": "flash_attention_2"}, "pip install flash-attn")],
    ids=["qlora-without-gpu", "openai-without-key", "flash-attention-without-flash-attn"],
)
async def test_environment_refusals(runs_dir: Path, monkeypatch: pytest.MonkeyPatch, fields: dict, expected: str) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        for name, value in fields.items():
            screen.form.query_one(f"#f-{name}").value = value
        await wait_for(pilot, lambda: screen.form.checked, 60)
        text = await start_refused(pilot, screen)
        assert expected in text


async def test_the_demo_workspace_starts_from_the_demo_that_learns_the_task(runs_dir: Path) -> None:
    """demo-long: after it the blind A/B has a real difference to find (issue 13 item 11); demo-quick's 20 steps
    leave base and fine-tune answering alike."""
    app = FtuiApp(start_mode="train")  # no data or model given: the demo workspace
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await wait_for(pilot, lambda: screen.form.checked, 60)
        values, errors = screen.form.raw_values()
        assert not errors and values["model"] == "demo" and values["max_steps"] == 300
        assert str(screen.form.query_one("#f-preset").value) == "demo-long"


async def test_plan_overrides_fill_the_form_on_resume(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.workspace.plan_overrides = {"method": "qlora", "lora_r": 8, "max_seq_len": 2048}
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        values, errors = screen.form.raw_values()
        assert values["method"] == "qlora" and values["lora_r"] == 8 and values["max_seq_len"] == 2048


# ---------------------------------------------------------------------- quitting while a run trains
class _FakeWorker:
    run_id = "20261123-lora-demo-quit"

    def __init__(self) -> None:
        self.alive = True
        self.stops: list[bool] = []

    def is_alive(self) -> bool:
        return self.alive

    def stop(self, save: bool = False) -> None:
        self.stops.append(save)


@pytest.mark.parametrize(("key", "stops"), [("s", [True]), ("w", [False]), ("k", [])])
async def test_quit_offers_stop_save_or_keep_running(key: str, stops: list[bool]) -> None:
    from ftui.train import live

    run = _FakeWorker()
    live.register(run)
    try:
        app = FtuiApp(start_mode="train")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, ChoiceScreen)
            await pilot.press(key)
            await pilot.pause()
        assert app.return_code == 0
        assert run.stops == stops
        assert app.keep_running is (key == "k")  # only "keep" leaves the process to the run
    finally:
        run.alive = False


async def test_a_live_run_from_another_process_is_reattached_and_stopped_through_its_control_file(
    runs_dir: Path,
) -> None:
    from ftui.train.run_lock import RunLock, read_control

    run_dir = write_fixture_run(runs_dir, "live")
    lock = RunLock(run_dir)
    lock.acquire()  # as the training process does
    try:
        app = FtuiApp(start_mode="train")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_train(pilot)
            await wait_for(pilot, lambda: screen.watched == run_dir and screen.monitor.history is not None, 10,
                           "the reattach")
            assert screen.panel == "monitor" and screen.monitor.history.status == "running"
            await pilot.press("x")
            assert isinstance(app.screen, ChoiceScreen)
            await pilot.press("s")
            await pilot.pause()
            assert read_control(run_dir) == "stop-and-save"
    finally:
        lock.release()


async def test_preflight_shows_does_not_fit_and_a_applies_the_cheapest_fix(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FTUI_GPU_GB", "16")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        set_field(screen, "model", "8B")  # a size preset the estimator knows
        set_field(screen, "max_seq_len", "2048")
        # the form may still hold the preflight of its first values: wait for the one of the 8B setup
        await wait_for(pilot, lambda: screen.form.checked and screen.form.preflight is not None
                       and screen.form.preflight.verdict == "does-not-fit", 60, "the 8B preflight")
        assert "does not fit" in shown(screen.form.query_one("#form-preflight"))
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: screen.form.checked and screen.form.preflight.verdict == "fits", 60, "the fix")


async def test_an_unreadable_runs_directory_is_one_line_in_the_runs_list(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_iterdir = Path.iterdir

    def iterdir(self: Path):  # noqa: ANN202 - root ignores permission bits, so refuse where the OS would
        if self == runs_dir:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    runs_dir.mkdir()
    monkeypatch.setattr(Path, "iterdir", iterdir)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs_panel.loaded > 0, 10, "runs list")
        table = screen.runs_panel.query_one("#runs-table")
        first = str(table.get_row_at(0)[0])
        assert "cannot read the runs directory" in first and "FTUI_RUNS_DIR" in first


async def test_the_monitor_shows_the_eval_time_and_one_line_per_download(runs_dir: Path) -> None:
    import json

    run_dir = write_fixture_run(runs_dir, "healthy")
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    started = next(i for i, line in enumerate(lines) if '"started"' in line)
    download = [json.dumps({"type": "message", "t": 1.0, "text": f"downloading org/name: {gb}.0 GB of 6.0 GB",
                            "key": "download"}) + "\n" for gb in (1, 2, 3)]
    download.append(json.dumps({"type": "message", "t": 1.0, "text": "downloaded org/name: 6.0 GB in 40 s"}) + "\n")
    timed_eval = json.dumps({"type": "eval", "t": 2.0, "step": 1, "eval_loss": 1.9, "runtime_s": 3.46}) + "\n"
    (run_dir / "events.jsonl").write_text("".join(lines[:started] + download + lines[started:] + [timed_eval]))
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        screen.open_run(run_dir)
        await wait_for(pilot, lambda: screen.monitor.history is not None, 10)
        await pilot.pause(0.1)
        progress = str(screen.monitor.query_one("#mon-progress").render())
        assert "eval took 3.5s" in progress
        texts = [m.text for m in screen.monitor.history.messages]
        assert "downloading org/name: 3.0 GB of 6.0 GB" in texts and "downloading org/name: 2.0 GB of 6.0 GB" not in texts
