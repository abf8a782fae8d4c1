"""The Train screen trains DPO, ORPO and KTO: each demo preset from the form to the end, with the reward plots.

A few steps of each: the presets trained to their full length (the rewards they separate) are
tests/unit/test_train_demo_presets.py's; here the point is the form, the run and the plots."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Select

from ftui.train.config_fields import DEMOS
from ftui.train.events import Log, read_events
from ftui.tui.app import FtuiApp
from ftui.tui.widgets.metric_plot import MetricPlot
from tests.tui.test_train_screen import SIZE, open_train, press_start, set_field, wait_for

# the fourth chart: DPO and ORPO rank pairs (reward accuracy); KTO has no pairs and logs its KL estimate
FOURTH_PLOT = {"demo-dpo": "reward accuracy", "demo-orpo": "reward accuracy", "demo-kto": "KL (policy ‖ reference)"}
STEPS = 4


@pytest.mark.parametrize("preset", list(FOURTH_PLOT))
async def test_each_preference_demo_preset_trains_from_the_tui_with_its_reward_plots(
        preset: str, demo_model: Path, runs_dir: Path) -> None:
    method = DEMOS[preset]["method"]
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await wait_for(pilot, lambda: screen.form.checked, 60, "form checks")
        screen.form.query_one("#f-preset", Select).value = preset
        await wait_for(pilot, lambda: str(screen.form.query_one("#f-method").value) == method, 10, "the preset")
        assert str(screen.form.query_one("#f-max_steps").value) == str(DEMOS[preset]["max_steps"])
        set_field(screen, "max_steps", str(STEPS))
        await wait_for(pilot, lambda: screen.form.checked and not screen.form.all_problems, 60, "form checks")
        started = time.monotonic()
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.ended, 120, f"the {method} demo run to end")
        elapsed = time.monotonic() - started
        assert screen.ended[-1][1] == "finished", screen.monitor.history.terminal
        events = read_events(Path(screen.worker.run_dir) / "events.jsonl")
        logs = [e for e in events if isinstance(e, Log)]
        assert events[-1].type == "finished" and logs[-1].step == STEPS
        assert logs[-1].rewards_margin is not None
        await wait_for(pilot, lambda: screen.monitor.query_one("#plot-lr", MetricPlot).title == "rewards", 10, "plots")
        await wait_for(pilot, lambda: screen.monitor.query_one("#plot-tps", MetricPlot).title == FOURTH_PLOT[preset],
                       10, "the fourth plot")
        print(f"{preset} from the TUI (F5 to finished): {elapsed:.1f} s")
