"""The choice field (issue 13, first switch): its option list is built on first open, and it then works
as Textual's Select does — keys, new options, Changed."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from ftui.tui.widgets.choice import Choice


class _ChoiceApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[object] = []

    def compose(self) -> ComposeResult:
        yield Choice([("lora", "lora"), ("qlora", "qlora"), ("full", "full")], value="qlora", allow_blank=False,
                     compact=True, id="method")

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changes.append(event.value)


async def test_the_list_is_built_on_first_open_and_chooses_by_key() -> None:
    app = _ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one(Choice)
        await pilot.pause()
        assert not choice.query(SelectOverlay), "the option list is built before anyone opened it"
        assert choice.value == "qlora" and "qlora" in str(choice.query_one("#label").render())
        choice.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = choice.query_one(SelectOverlay)
        assert choice.expanded and overlay.option_count == 3
        assert overlay.highlighted == 1  # the chosen value, as Select highlights it
        await pilot.press("down", "enter")
        await pilot.pause()
        assert choice.value == "full" and not choice.expanded
        assert "full" in str(choice.query_one("#label").render())
        assert app.changes[-1] == "full"


async def test_options_set_before_the_first_open_are_the_ones_listed() -> None:
    app = _ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one(Choice)
        choice.set_options([("a", "a"), ("b", "b")])
        await pilot.pause()
        assert choice.value == "a"
        choice.value = "b"
        await pilot.pause()
        assert "b" in str(choice.query_one("#label").render())
        choice.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = choice.query_one(SelectOverlay)
        assert overlay.option_count == 2 and overlay.highlighted == 1
        await pilot.press("up", "enter")
        await pilot.pause()
        assert choice.value == "a" and app.changes[-1] == "a"


async def test_a_value_set_before_the_shown_label_is_composed_appears_once_it_is(monkeypatch) -> None:  # noqa: ANN001
    """A Choice mounted with its row into an already mounted section ran its on_mount before its label was composed
    (stress run: NoMatches '#label' ended the app while the Train form built its Advanced section)."""
    from textual.css.query import NoMatches
    from textual.widgets._select import SelectCurrent

    plain = SelectCurrent.update
    calls: list[object] = []

    def not_composed_the_first_time(current: SelectCurrent, label: object) -> None:
        calls.append(label)
        if len(calls) == 1:
            raise NoMatches("No nodes match '#label'")  # what an uncomposed SelectCurrent raises
        plain(current, label)

    app = _ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one(Choice)
        await pilot.pause()
        monkeypatch.setattr(SelectCurrent, "update", not_composed_the_first_time)
        choice.value = "full"
        await pilot.pause()
        assert calls == ["full", "full"]
        assert "full" in str(choice.query_one("#label").render())
        assert app.changes[-1] == "full"
