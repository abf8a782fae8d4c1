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


async def _form_with_one_long_row(pilot, tmp_path: Path) -> TrainScreen:  # noqa: ANN001 - textual's Pilot
    """The Train form on a file with one over-long row, once its checks offer to skip that row."""
    from tests.tui.test_train_screen import set_field
    from tests.unit.test_train_bad_rows import file_with_one_long_row

    data = file_with_one_long_row(tmp_path / "long.jsonl")
    screen = await open_train(pilot)
    set_field(screen, "train_path", str(data))
    set_field(screen, "eval_path", "")
    await pilot.pause()
    await wait_for(pilot, lambda: screen.form.checked and screen.form.skippable == (1, 30), 60, "the skippable row")
    return screen


async def test_the_form_offers_to_skip_the_bad_rows_behind_a_confirmation(runs_dir: Path, tmp_path: Path, demo_model: Path) -> None:
    """One over-long row: the form says 'b: skip 1 row'; b asks (y confirms, b again and Enter do nothing);
    y sets on_bad_rows: skip and the data checks pass. The start refusal offers the same choice."""
    from textual.widgets import Static

    from tests.tui.test_train_screen import press_start, shown

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _form_with_one_long_row(pilot, tmp_path)
        side = shown(screen.form.query_one("#form-dataset", Static))
        assert "b: skip 1 row, train on the other 30" in side
        await press_start(pilot)  # refused: the offer names the skip as a choice of its own key
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the refusal's offer")
        assert [v for _, _, v in app.screen.choices] == ["data", "skip"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceScreen), 10)
        await pilot.press("escape")  # the refusal focused the field at fault: a letter there is typing, not a key
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the skip question")
        dialog = app.screen
        assert [k for k, _, _ in dialog.choices] == ["y"] and dialog.default is None  # not b, and Enter is no
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceScreen), 10)
        assert screen.form.raw_values()[0]["on_bad_rows"] == "refuse"
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the skip question again")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.form.raw_values()[0]["on_bad_rows"] == "skip", 10)
        await wait_for(pilot, lambda: screen.form.checked and not screen.form.has_data_problems, 60, "the checks with skip")
        assert "1 row(s) with errors will be skipped" in shown(screen.form.query_one("#form-dataset", Static))
        assert screen.worker is None  # setting the policy starts nothing


async def test_b_is_one_action_at_a_time_skip_on_the_form_blind_vs_parent_on_runs(runs_dir: Path, tmp_path: Path,
                                                                                 demo_model: Path) -> None:
    """The form's 'Skip bad rows…' and the Runs view's 'Blind vs parent…' share b: only the shown panel's is
    active, and the footer, ? help and the palette name that one only; b does that one only, both ways."""
    def b_everywhere(app: FtuiApp) -> tuple[str | None, list[str], list[str]]:
        active = app.screen.active_bindings.get("b")
        helps = [what for key, what, _ in app.help_rows() if key == "b"]
        palette = [c.title for c in app.screen_commands(app.screen) if c.title in ("Skip bad rows…", "Blind vs parent…")]
        return (active.binding.action if active and active.enabled else None), helps, palette

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _form_with_one_long_row(pilot, tmp_path)
        await pilot.press("escape")  # out of the field: a letter is a key
        assert b_everywhere(app) == ("skip_bad_rows", ["Skip bad rows…"], ["Skip bad rows…"])

        await pilot.press("r")
        await wait_for(pilot, lambda: screen.panel == "runs" and screen.runs_panel.loaded > 0, 30, "the runs view")
        await wait_for(pilot, lambda: app.screen.focused is not None and screen.runs_panel in app.screen.focused.ancestors_with_self,
                       10, "focus in the runs view")
        assert screen.form.skippable[0] > 0  # the form still has its skippable row: its b must not leak here
        assert b_everywhere(app) == ("compare_parent", ["Blind vs parent…"], ["Blind vs parent…"])
        await pilot.press("b")  # no run: the Runs view's own answer, never the skip question
        await wait_for(pilot, lambda: any(n.message == "No run selected." for n in app._notifications), 10)  # noqa: SLF001
        assert not isinstance(app.screen, ChoiceScreen)
        assert screen.form.raw_values()[0]["on_bad_rows"] == "refuse"

        await pilot.press("n")
        await wait_for(pilot, lambda: screen.panel == "launcher", 10, "back to the form")
        await pilot.press("escape")
        assert b_everywhere(app) == ("skip_bad_rows", ["Skip bad rows…"], ["Skip bad rows…"])
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10, "the skip question")
