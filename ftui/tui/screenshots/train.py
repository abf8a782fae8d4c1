"""Train screenshots from synthetic run logs (``runs``): the launcher, a monitor, the runs list, a comparison."""

from __future__ import annotations

import os
from pathlib import Path

from ftui.tui.screens.train_runs import ComparePanel
from ftui.tui.screenshots.runs import write_fixture_run
from ftui.tui.screenshots.scenario import Scenario, wait_until


def _prepare_runs(home: Path) -> None:
    runs_dir = Path(os.environ.get("FTUI_RUNS_DIR") or home / "home" / "runs")
    write_fixture_run(runs_dir, "overfit", learning_rate=3e-4, num_epochs=3.0)
    write_fixture_run(runs_dir, "failed", micro_batch_size=16)
    write_fixture_run(runs_dir, "stopped")
    write_fixture_run(runs_dir, "compare_a", learning_rate=2e-4)
    write_fixture_run(runs_dir, "compare_b", learning_rate=5e-5, lora_r=8)


async def _launcher(pilot, home: Path) -> None:  # noqa: ANN001
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.form.checked)  # a busy machine: the deep check takes a while


async def _runs(pilot, home: Path) -> None:  # noqa: ANN001
    await pilot.press("r")
    await wait_until(pilot, lambda: pilot.app.screen.runs_panel.loaded > 0)
    await pilot.pause(0.1)


async def _monitor(pilot, home: Path) -> None:  # noqa: ANN001
    await _runs(pilot, home)
    screen = pilot.app.screen
    target = next(s.run_dir for s in screen.runs_panel.summaries if s.run_id.endswith("overfit"))
    screen.open_run(target)
    await wait_until(pilot, lambda: screen.monitor.history is not None)
    await pilot.pause(0.2)


def _prepare_dpo(home: Path) -> None:
    runs_dir = Path(os.environ.get("FTUI_RUNS_DIR") or home / "home" / "runs")
    write_fixture_run(runs_dir, "compare_a", learning_rate=2e-4)  # its SFT parent, in the list below
    write_fixture_run(runs_dir, "dpo", method="dpo", beta=0.1, learning_rate=2e-5,
                      train_path="sample_data/support_tickets_pairs.jsonl", eval_path=None)


async def _monitor_dpo(pilot, home: Path) -> None:  # noqa: ANN001
    await _runs(pilot, home)
    screen = pilot.app.screen
    screen.open_run(next(s.run_dir for s in screen.runs_panel.summaries if s.method == "dpo"))
    await wait_until(pilot, lambda: screen.monitor.history is not None and screen.monitor.history.is_preference)
    plots = [screen.monitor.query_one(f"#plot-{name}") for name in ("lr", "tps")]
    await wait_until(pilot, lambda: [p.title for p in plots] == ["rewards", "reward accuracy"])
    await pilot.pause(1.0)  # the 4 Hz tick redraws one chart at a time: let every chart catch up


async def _compare(pilot, home: Path) -> None:  # noqa: ANN001
    await _runs(pilot, home)
    screen = pilot.app.screen
    for summary in screen.runs_panel.summaries:
        if summary.run_id.endswith(("lr2e-4", "lr5e-5")):
            screen.runs_panel.marked.append(summary.run_dir)
    await pilot.press("c")
    await wait_until(pilot, lambda: bool(screen.query_one(ComparePanel).histories))
    await pilot.pause(0.2)


SCENARIOS = [
    Scenario("train-launcher", "train", _launcher),
    Scenario("train-monitor", "train", _monitor, prepare=_prepare_runs),
    Scenario("train-runs", "train", _runs, prepare=_prepare_runs),
    Scenario("train-monitor-dpo", "train", _monitor_dpo, prepare=_prepare_dpo),
    Scenario("train-compare", "train", _compare, prepare=_prepare_runs),
]

