"""The start worker tells the Train screen why nothing started in typed messages, never by the message's wording."""

from __future__ import annotations

from pathlib import Path

from ftui.config import ConfigProblem
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.train import Refusal, StartRefused, TrainScreen
from tests.tui.test_train_screen import SIZE, open_train, wait_for


def test_a_refusal_is_about_the_data_only_when_the_check_says_so() -> None:
    lint = ConfigProblem("train_path", "data.jsonl: row 3: no assistant turn", "Fix the rows", kind="data")
    missing = ConfigProblem("train_path", "data.jsonl does not exist", "Fix the path")
    worded_like_lint = ConfigProblem("model", "org/model: not found: 404", "Check the id")  # colons, not data
    assert Refusal.from_problem(lint).data
    assert not Refusal.from_problem(missing).data
    assert not Refusal.from_problem(worded_like_lint).data
    assert StartRefused([Refusal.from_problem(missing), Refusal.from_problem(lint)]).data_at_fault
    assert not StartRefused([Refusal.from_problem(worded_like_lint)]).data_at_fault


async def _offered_data_screen(refusals: list[Refusal]) -> bool:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        assert isinstance(screen, TrainScreen)
        screen.post_message(StartRefused(refusals))
        await wait_for(pilot, lambda: any(n.title == "Nothing started" for n in app._notifications), 10)  # noqa: SLF001
        await pilot.pause()
        return isinstance(app.screen, ChoiceScreen)


async def test_the_data_screen_is_offered_for_a_data_refusal_only(runs_dir: Path) -> None:
    assert await _offered_data_screen([Refusal("train_path", "d.jsonl: row 2: not JSON. Fix the rows", data=True)])
    assert not await _offered_data_screen([Refusal("model", "org/m: not found: 404. Check the id")])
