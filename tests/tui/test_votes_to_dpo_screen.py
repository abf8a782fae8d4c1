"""The votes -> DPO -> new blind session loop, end to end by keys (issue 16 item 6): rate a blind session of
the base against a fine-tune, unblind, d on the Results trains DPO from the votes with the fine-tune as the
start, F5 runs it to the end, and b on the finished DPO run in the Runs view opens a new blind session that
puts it against its parent, on the parent's held-out prompts."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input, Select

from ftui import paths
from ftui.evaluate import parent_session
from ftui.evaluate.session_plan import load_plan
from ftui.train.events import Finished, Message, read_events
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.eval_common import TextPrompt
from ftui.tui.screens.eval_rate import RateScreen
from ftui.tui.screens.eval_results import ResultsScreen
from ftui.tui.screens.evaluate import EvaluateScreen
from ftui.tui.screens.train import TrainScreen
from tests.tui.test_train_screen import SIZE, press_start, wait_for
from tests.unit.test_train_from_votes import _sft_parent, _voted_session


async def test_rate_then_d_trains_dpo_from_the_votes_then_b_rates_it_blind_against_its_parent(
        demo_model: Path, runs_dir: Path, tmp_path: Path, monkeypatch) -> None:
    sessions = tmp_path / "sessions"
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(sessions))
    monkeypatch.setenv("USER", "ana")
    monkeypatch.setattr(EvaluateScreen, "rate_lock_s", 0.0)
    monkeypatch.setattr(parent_session, "DEFAULT_ITEMS", 4)  # a short second session; the loop is the point
    monkeypatch.setattr(parent_session, "DEFAULT_MAX_NEW_TOKENS", 8)
    test_file = str(paths.sample_data("support_tickets_test.jsonl"))
    parent = _sft_parent(tmp_path, eval_path=test_file)
    outputs = _voted_session(sessions / "votes", parent, vote=False)
    tuned = f"run:{parent.name}"
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # ---- rate blind: the fine-tune's exact label beats the base's chatter on every pair
        await wait_for(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.sessions, 30, "sessions")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt), 10, "the rater prompt")
        await pilot.press("enter")  # ana
        await wait_for(pilot, lambda: isinstance(app.screen, RateScreen), 30, "the rating screen")
        rate = app.screen
        while rate.pair is not None:
            await pilot.press("1" if rate.pair.output_left == outputs[tuned][rate.pair.item_id] else "2")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the unblind question")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ResultsScreen), 30, "the results")

        # ---- d: the Train form holds DPO on those votes, from the fine-tune's adapter; F5 trains it
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen)
                       and str(app.screen.form.query_one("#f-method", Select).value) == "dpo", 60, "the DPO form")
        screen = app.screen
        assert screen.form.query_one("#f-init_adapter", Input).value == str((parent / "adapter").resolve())
        assert screen.form.query_one("#f-train_path", Input).value.endswith("ana-dpo_pairs.jsonl")
        await wait_for(pilot, lambda: screen.form.checked and not screen.form.all_problems, 60, "form checks")
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.ended, 120, "the DPO run to end")
        assert screen.ended[-1][1] == "finished", screen.monitor.history.terminal
        dpo_run = Path(screen.worker.run_dir)
        events = read_events(dpo_run / "events.jsonl")
        assert isinstance(events[-1], Finished)
        assert any(isinstance(e, Message) and "training on from the adapter" in e.text for e in events)

        # ---- b on the finished DPO run: a new blind session, the DPO run against its parent
        await pilot.press("r")
        panel = screen.runs_panel
        await wait_for(pilot, lambda: panel.selected is not None and panel.selected.run_dir == dpo_run, 30, "the runs")
        palette = [c.title for c in app.screen_commands(app.screen)]
        assert "Blind vs parent…" in palette  # in the footer and the command palette
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt), 10, "the rater prompt")
        assert app.screen.query_one(Input).value == "ana"  # whose votes trained it
        await pilot.press("enter")
        try:
            await wait_for(pilot, lambda: isinstance(app.screen, RateScreen) and app.screen is not rate, 120,
                           "the new blind session")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the Runs view said: {panel.work_log}") from None
        new = app.screen.session
        plan = load_plan(new.directory)
        assert plan.systems == ["parent", "dpo"] and plan.base_system == "parent"
        assert plan.resolved["dpo"]["run_id"] == dpo_run.name and plan.resolved["parent"]["run_id"] == parent.name
        # held out: the parent's test file without the prompts the DPO run trained on
        trained = {json.dumps(json.loads(line)["prompt"]) for line in
                   (sessions / "votes" / "exports" / "ana-dpo_pairs.jsonl").read_text().splitlines()}
        assert len(plan.items) == 4 and "in-sample" not in plan.name
        assert not any(json.dumps(list(it.messages)) in trained for it in plan.items)
        # the rating screen of it, over the Evaluate home (pairs where both runs wrote the same answer are
        # settled as identical without a vote, so after 12 pairs of DPO it may have little left to rate)
        assert new.rater == "ana" and new.progress().total == 4 and len(app.screen_stack) == 2
