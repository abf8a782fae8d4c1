"""Issue 13 (7): the palette holds every action of the screen; Plan carries epochs without a step limit;
Plan's help lists only the answers there are; a dialog's answers never wrap."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from ftui.tui.app import _HIDDEN_IN_HELP, _NAVIGATION_PREFIXES, FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.help import HelpScreen

SIZE = (160, 48)


def _bound_actions(screen) -> set[str]:  # noqa: ANN001
    out = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action in _HIDDEN_IN_HELP:
            continue
        if type(active.node).__module__.startswith("textual.") and binding.action.startswith(_NAVIGATION_PREFIXES):
            continue
        help_shows = getattr(active.node, "help_shows", None)
        if help_shows is not None and not help_shows(binding.action):
            continue  # e.g. an answer key the current question does not have
        out.add(binding.description)
    return out


@pytest.mark.parametrize(("mode", "keys"), [("plan", ()), ("data", ()), ("train", ()), ("train", ("r",)),
                                            ("evaluate", ())])
async def test_the_palette_holds_every_action_of_the_screen(mode: str, keys: tuple[str, ...], runs_dir: Path) -> None:
    app = FtuiApp(start_mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        screen = app.screen
        titles = {command.title for command in app.get_system_commands(screen)}
        # the modes are "Go to Plan" ..., help and quit Textual's own entries
        titles |= {"Plan", "Data", "Train", "Evaluate", "Help", "Quit"} if "Go to Plan" in titles else set()
        missing = {d for d in _bound_actions(screen) if d not in titles}
        assert not missing, f"{mode}: not in the palette: {sorted(missing)}"
        if mode == "train" and keys == ("r",):
            assert any(title.startswith("Resume") for title in titles)


async def test_a_palette_command_runs_the_screens_action(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        (runs,) = [c for c in app.get_system_commands(screen) if c.title == "Runs"]
        await runs.callback()
        await pilot.pause()
        assert screen.panel == "runs"


def test_use_this_plan_lifts_the_step_limit_when_it_sets_epochs() -> None:
    from ftui.advisor.overrides import plan_overrides
    from ftui.advisor.tree import Walker, load_tree

    walker = Walker(load_tree())
    while walker.outcome is None:  # the first answer every time: a path to an outcome that trains
        walker.answer(walker.question.options[0].key)
    overrides = plan_overrides(walker.outcome)
    if "num_epochs" in overrides:
        assert overrides["max_steps"] == -1


async def test_plan_help_lists_only_the_answer_keys_of_the_question() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        question = app.screen.walker.question
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {key for key, description, _ in app.screen.rows if description.startswith("Answer")}
        options = {o.key for o in question.options}
        assert "4" not in listed and "5" not in listed
        assert listed - {"1-3 y/n"} <= options


async def test_the_clean_question_does_not_wrap_an_answer() -> None:
    from ftui.tui.screens.data_backend import fix_question

    source = Path("sample_data/dirty.jsonl").resolve()
    ask = fix_question("clean", source)
    app = FtuiApp(start_mode="data")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.push_screen(ChoiceScreen(ask.question, ask.choices))
        await pilot.pause()
        choices = app.screen.query_one(".choices", Static)
        lines = choices.render().plain.split("\n")
        assert any("n" in line and "cancel" in line for line in lines)
        assert max(len(line) for line in lines) <= choices.content_size.width
