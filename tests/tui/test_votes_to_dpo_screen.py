"""Results screen -> d -> the Train form holds a DPO run from the rated fine-tune -> F5 trains it (issue 16 item 6)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select

from ftui.evaluate.ab import BlindSession
from ftui.train.events import Finished, Message, read_events
from ftui.tui.app import FtuiApp
from ftui.tui.screens.eval_results import ResultsScreen
from ftui.tui.screens.train import TrainScreen
from tests.tui.test_train_screen import SIZE, press_start, wait_for
from tests.unit.test_train_from_votes import _sft_parent, _voted_session


async def test_d_on_the_results_prepares_and_f5_trains_dpo_from_the_votes(demo_model: Path, runs_dir: Path,
                                                                            tmp_path: Path) -> None:
    parent = _sft_parent(tmp_path)
    _voted_session(tmp_path / "session", parent)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(ResultsScreen(BlindSession(tmp_path / "session", "ana")))
        await wait_for(pilot, lambda: isinstance(app.screen, ResultsScreen), 10, "the results")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen)
                       and str(app.screen.form.query_one("#f-method", Select).value) == "dpo", 60, "the DPO form")
        screen = app.screen
        adapter = str((parent / "adapter").resolve())
        assert screen.form.query_one("#f-init_adapter", Input).value == adapter
        assert screen.form.query_one("#f-train_path", Input).value.endswith("ana-dpo_pairs.jsonl")
        await wait_for(pilot, lambda: screen.form.checked and not screen.form.all_problems, 60, "form checks")
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.ended, 120, "the DPO run to end")
        assert screen.ended[-1][1] == "finished", screen.monitor.history.terminal
        events = read_events(Path(screen.worker.run_dir) / "events.jsonl")
        assert isinstance(events[-1], Finished)
        assert any(isinstance(e, Message) and "training on from the adapter" in e.text for e in events)
