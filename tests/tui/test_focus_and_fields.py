"""Issue 13 (2, 3): a focused widget is plain to see, Tab moves between fields only, and every
text field behaves the same way (cursor at the end on focus, nothing selected)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.color import Color
from textual.widgets import Button, Checkbox, DataTable, Input, Select

from ftui.tui.app import FtuiApp
from ftui.tui.widgets.path_input import OpenFileScreen

SIZE = (160, 48)
TUI = Path(__file__).resolve().parents[2] / "ftui" / "tui"


def _look(widget) -> list[tuple[int, int, int]]:  # noqa: ANN001
    """The colours a user sees of ``widget`` (and its direct parts), blended over the screen."""
    base = widget.screen.styles.background
    seen = []
    for node in (widget, *widget.children):
        styles = node.styles
        background = base.blend(styles.background, styles.background.a)
        tint = styles.background_tint
        background = background.blend(Color(tint.r, tint.g, tint.b), tint.a)
        seen.append(background.rgb)
        for edge in (styles.border_top, styles.border_left):
            seen.append(edge[1].rgb if edge[0] else background.rgb)
    return seen


def _change(before: list[tuple[int, int, int]], after: list[tuple[int, int, int]]) -> int:
    return max(max(abs(a - b) for a, b in zip(x, y, strict=True)) for x, y in zip(before, after, strict=True))


async def _focus_change(pilot, widget) -> int:  # noqa: ANN001
    pilot.app.set_focus(None)
    await pilot.pause()
    before = _look(widget)
    widget.focus()
    await pilot.pause()
    assert pilot.app.focused is widget
    return _change(before, _look(widget))


async def test_every_kind_of_field_changes_plainly_when_focused(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = app.screen.form
        for widget in (form.query_one("#f-model", Input), form.query_one("#f-method", Select),
                       form.query_one("#f-packing", Checkbox), form.query_one("#form-start", Button)):
            change = await _focus_change(pilot, widget)
            assert change >= 40, f"{widget} changes by {change} when focused (one grey step is ~12)"
        await pilot.press("r")
        await pilot.pause()
        table = app.screen.query_one("#runs-table", DataTable)
        assert await _focus_change(pilot, table) >= 15
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        await pilot.pause()
        assert await _focus_change(pilot, app.screen.query_one("#f-gpu", Input)) >= 40


async def test_tab_moves_between_fields_and_never_switches_the_train_panels(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.set_focus(None)
        for _ in range(3):
            await pilot.press("tab")
            assert screen.panel == "launcher"
            assert app.focused is not None
        await pilot.press("escape", "r")  # Esc leaves the field; then r is a key, not a letter
        await pilot.pause()
        for _ in range(3):
            await pilot.press("tab")
            await pilot.press("shift+tab")
        assert screen.panel == "runs"
        shown = {b.key for _, b, _, _ in screen.active_bindings.values() if b.show}
        assert {"n", "m", "r", "c"} <= shown, "the panels' keys are in the footer"
        await pilot.press("question_mark")
        await pilot.pause()
        rows = app.screen.rows
        assert ("Tab", "Next field", "this screen") in rows and ("Shift+Tab", "Previous field", "this screen") in rows


def test_every_text_field_is_the_one_text_field() -> None:
    """No screen builds a bare Input: each would bring back Textual's select-on-focus."""
    offenders = []
    for path in TUI.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![A-Za-z_.])Input\(", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders


async def test_the_plan_gpu_field_keeps_its_text_on_focus_and_backspace_deletes_one_character() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        await pilot.pause()
        field = app.screen.query_one("#f-gpu", Input)
        field.focus()
        await pilot.press("2", "4")
        app.screen.focus_next()
        await pilot.pause()
        app.screen.focus_previous()
        await pilot.pause()
        assert app.focused is field and field.cursor_position == 2 and field.selection.is_empty
        await pilot.press("backspace")
        assert field.value == "2"
        await pilot.press("backspace", "8")
        assert field.value == "8"


async def test_the_open_dialog_keeps_its_prefilled_folder_when_typing(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    app = FtuiApp(start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(OpenFileScreen(str(tmp_path) + "/"))
        await pilot.pause()
        field = app.screen.query_one("#open-path", Input)
        assert app.focused is field and field.selection.is_empty
        await pilot.press("d")
        assert field.value == f"{tmp_path}/d"


async def test_a_focused_one_line_field_shows_what_is_typed_in_it(runs_dir) -> None:  # noqa: ANN001
    """The app-wide focus border (tall) on a one-line Train form field covered its only line: a newcomer typing a
    path there saw an accent bar and not one letter of it (hand check in tmux, issue 13)."""
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#f-learning_rate", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("5")
        await pilot.pause()
        assert field.has_focus and not field.styles.border_top[0]
        assert field.render_line(0).text.strip() == field.value.strip() and field.value.endswith("5")


async def test_a_focused_one_line_select_shows_its_value(runs_dir) -> None:  # noqa: ANN001
    """Same defect on the form's selects: focused, the preset and method selects showed an accent bar and hid the
    value just chosen (hand check in tmux)."""
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        select = app.screen.query_one("#f-method", Select)
        select.value = "dpo"
        select.focus()
        await pilot.pause()
        current = select.query_one("SelectCurrent")
        assert select.has_focus and not current.styles.border_top[0]
        label = current.query_one("#label")
        assert label.region.height == 1 and select.region.contains_region(label.region), (label.region, select.region)
        assert "dpo" in label.render_line(0).text


async def test_a_burst_of_keys_edits_a_field_in_the_order_typed() -> None:
    """Keys that arrive together (a fast typist; an SSH link batching keystrokes) are applied in order. By hand in
    tmux, "64" + Backspace Backspace 8 in one burst left "6": Textual ran the Backspace bindings after the 8."""
    from textual import events

    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        field = app.screen.query_one("#f-gpu", Input)
        field.focus()
        await pilot.pause()
        field.value = "64"
        field.cursor_position = 2
        burst = [("backspace", None), ("backspace", None), ("8", "8"), ("1", "1"), ("left", None), ("backspace", None),
                 ("2", "2"), ("end", None), ("0", "0")]
        for key, character in burst:  # posted at once, as the terminal driver does with one read of several bytes
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await pilot.pause()
        assert field.value == "210"


async def test_tab_inside_an_opened_train_section_restyles_only_the_rows_it_touches(runs_dir: Path) -> None:
    """Collapsible's ':focus-within' tint made every Tab in an opened section restyle the whole section
    (its ~20 rows and their fields); now a focus change restyles the two rows involved."""
    from ftui.tui.widgets.form_row import FormRow

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        section = screen.query_one("#sec-advanced")
        section.collapsed = False
        await pilot.pause()
        rows = list(section.query(FormRow))
        assert len(rows) >= 10
        rows[0].field.focus()
        await pilot.pause()
        restyled: list[int] = []
        update_nodes = app.stylesheet.update_nodes

        def counting(nodes, animate: bool = False) -> None:  # noqa: ANN001
            restyled.append(len(list(nodes)))
            update_nodes(nodes, animate=animate)

        app.stylesheet.update_nodes = counting
        for _ in range(3):
            await pilot.press("tab")
        await pilot.pause()
        assert app.focused is rows[3].field
        assert restyled and max(restyled) <= 12, restyled  # two FormRows and their fields, not the section
