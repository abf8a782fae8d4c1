"""After-training screenshots on a real 6-step LoRA run of the demo model: the checkpoints panel and Try it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftui.tui.screenshots.scenario import Scenario, wait_until


def _prepare_trained_run(home: Any) -> None:
    """Train a real 6-step LoRA run on the demo model (eval every 2 steps) into the screenshot runs dir."""
    import os

    from ftui import paths
    from ftui.config import RunConfig
    from ftui.train.config_fields import DEMO_QUICK
    from ftui.train.worker import start_run

    runs_dir = Path(os.environ.get("FTUI_RUNS_DIR") or Path(home) / "home" / "runs")
    values = {**DEMO_QUICK, "max_steps": 6, "eval_steps": 2, "save_steps": 2, "eval_fraction": 0.05}
    config = RunConfig(model="demo", train_path=str(paths.sample_data("support_tickets_train.jsonl")), **values)
    worker = start_run(config, run_dir=runs_dir / "20260101-093000-lora-demo-tickets")
    worker.join(timeout=600)


async def _checkpoints(pilot: Any, home: Any) -> None:  # noqa: ARG001
    await pilot.press("r")
    panel = pilot.app.screen.runs_panel
    await wait_until(pilot, lambda: bool(panel.checkpoints))
    await pilot.press("k")
    await pilot.pause(0.1)


async def _chat(pilot: Any, home: Any) -> None:  # noqa: ARG001
    await _checkpoints(pilot, home)
    await pilot.press("k", "t")
    chat = pilot.app.screen
    await wait_until(pilot, lambda: getattr(chat, "session", None) is not None)
    for turn in ("My invoice shows a charge twice.", "Can you refund it?"):
        done = chat.turns_done + 1  # counted before the turn: a reply can be done before press() returns
        await pilot.press(*turn, "enter")
        await wait_until(pilot, lambda done=done: chat.turns_done >= done)


SCENARIOS = [
    Scenario("train-checkpoints", "train", _checkpoints, prepare=_prepare_trained_run),
    Scenario("train-chat", "train", _chat, prepare=_prepare_trained_run),
]
