"""The monitor shows the data accounting line and plots per-interval memory peaks against the estimate."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ftui.train.events import DataAccounting, EventLogWriter, Log, Memory
from ftui.tui.app import FtuiApp
from ftui.tui.screens.train import TrainScreen
from ftui.tui.screenshots.runs import write_fixture_run
from ftui.tui.widgets.metric_plot import MetricPlot

SIZE = (120, 40)
GB = 10**9


async def wait_for(pilot, predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        # a plain sleep between checks: pilot.pause() also posts a callback to every widget of the screen and
        # forces a repaint, a few ms of the UI thread per check on the Train screen while a run trains
        await asyncio.sleep(0.05)


def gpu_run(runs_dir: Path) -> tuple[Path, DataAccounting]:
    """A CUDA run's log: step-end values well under the interval peaks, an estimate on the torch basis."""
    run_dir = write_fixture_run(runs_dir, "healthy")
    account = DataAccounting(dataset="train", rows_in=400, rows_trained=396, dropped=4, truncated=37,
                             trained_tokens_in=20_000, trained_tokens_lost=1_234, longest=311, max_seq_len=64)
    (run_dir / "events.jsonl").unlink()
    with EventLogWriter(run_dir / "events.jsonl") as log:
        log.write({"type": "started", "t": 1.0, "run_id": run_dir.name, "method": "lora", "model": "demo",
                   "total_steps": 3, "device": "cuda:0", "estimate_gb": 9.5, "estimate_torch_gb": 8.0})
        log.write(account)
        for step in (1, 2, 3):
            log.write(Log(t=1.0 + step, step=step, loss=2.0 / step))
            log.write(Memory(t=1.0 + step, step=step, source="cuda", allocated=3 * GB, reserved=4 * GB,
                             peak_allocated=(6 + step) * GB, peak_reserved=(7 + step) * GB, device_used=11 * GB,
                             device_total=24 * GB))
    return run_dir, account


async def test_the_monitor_shows_dropped_and_truncated_rows_and_the_memory_peaks(runs_dir: Path) -> None:
    run_dir, account = gpu_run(runs_dir)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        screen.open_run(run_dir)
        await wait_for(pilot, lambda: screen.monitor.history is not None and screen.monitor.history.memory)
        await pilot.pause(0.1)
        log = str(screen.monitor.query_one("#mon-log").render())
        assert "400 rows · 396 trained · 4 dropped" in log and "37 truncated at 64 tokens" in log
        assert account.describe() in log.replace("\n", "")
        plot = screen.monitor.query_one("#plot-mem", MetricPlot)
        lines = {line.label: line for line in plot._spec.lines}  # noqa: SLF001 - what was drawn
        assert plot.title == "GPU memory (GB) · peak per interval"
        assert lines["peak reserved"].ys == [8.0, 9.0, 10.0]  # the peaks, not the 4 GB left at step end
        assert lines["peak allocated"].ys == [7.0, 8.0, 9.0]
        assert lines["device used"].ys == [11.0] * 3
        assert lines["estimate (no CUDA ctx)"].ys == [8.0, 8.0]  # the torch-basis estimate, not 9.5
        assert "allocated" not in lines and "reserved" not in lines


def test_run_record_of_a_finished_run_keeps_the_accounting_readable(runs_dir: Path) -> None:
    # the monitor rebuilds from the log alone: the data event round-trips with every count
    run_dir, account = gpu_run(runs_dir)
    rows = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    data = next(r for r in rows if r["type"] == "data")
    assert DataAccounting(**{k: v for k, v in data.items() if k != "type"}) == account


async def test_the_form_offers_the_device_and_refuses_one_that_is_not(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        field = screen.form.query_one("#f-device")
        assert field.value == "auto"
        field.value = "gpu0"
        await wait_for(pilot, lambda: screen.form.query_one("#row-device").has_class("-invalid"))
        assert "is not a device; use auto" in screen.form.query_one("#row-device").help_text
        field.value = "cpu"
        await wait_for(pilot, lambda: not screen.form.query_one("#row-device").has_class("-invalid"))
        assert screen.form.config().device == "cpu"
