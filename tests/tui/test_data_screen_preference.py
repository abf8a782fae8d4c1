"""The Data screen on preference data: the two sides of a pair next to each other, the preference findings beside them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console

from ftui import paths
from ftui.data.index import DisplayRow
from ftui.tui.app import FtuiApp
from ftui.tui.screens.data import DataScreen
from ftui.tui.widgets.conversation_view import render_row
from ftui.tui.widgets.row_list import RowList

SIZE = (120, 40)


def shown(renderable) -> str:
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def body_text(screen: DataScreen) -> str:
    widget = screen.query_one("#conversation-body")
    return shown(getattr(widget.render(), "_renderable", widget.render()))


async def _until(pilot, condition, what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"timed out waiting for {what}")


def test_a_pair_shows_the_prompt_then_both_sides_in_columns() -> None:
    row = DisplayRow(1, 0, 10, "", {"prompt": "Capital of Peru?", "chosen": "Lima.", "rejected": "[bold]Cusco[/bold]."})
    text = shown(render_row(row))
    assert "PROMPT" in text and "Capital of Peru?" in text
    side_line = next(line for line in text.splitlines() if "CHOSEN" in line)
    assert "REJECTED" in side_line  # next to each other, not one after the other
    answers = next(line for line in text.splitlines() if "Lima." in line)
    assert "[bold]Cusco[/bold]." in answers  # untrusted text shown literally


def test_implicit_prompt_and_unpaired_rows() -> None:
    conv = [{"role": "user", "content": "Capital of Peru?"}]
    implicit = {"chosen": conv + [{"role": "assistant", "content": "Lima."}], "rejected": conv + [{"role": "assistant", "content": "Quito."}]}
    text = shown(render_row(DisplayRow(1, 0, 10, "", implicit)))
    assert text.count("Capital of Peru?") == 1 and "USER" in text  # the shared turn shown once, as the prompt
    lf = {"conversations": [{"from": "human", "value": "Capital of Peru?"}], "chosen": {"from": "gpt", "value": "Lima."},
          "rejected": {"from": "gpt", "value": "Quito."}}
    text = shown(render_row(DisplayRow(1, 0, 10, "", lf)))
    assert "HUMAN" in text and "Lima." in text and '"from"' not in text  # LLaMA-Factory: one message per side
    kto = {"prompt": "Capital of Peru?", "completion": "Quito.", "label": False}
    text = shown(render_row(DisplayRow(1, 0, 10, "", kto)))
    assert "UNDESIRABLE" in text and "Quito." in text


def _copy(sample: str, tmp_path: Path) -> FtuiApp:
    """The Data screen on a copy of ``sample`` (fixes write next to it)."""
    path = tmp_path / "pairs.jsonl"
    shutil.copy(paths.sample_data(sample), path)
    return FtuiApp(data_path=path, start_mode="data")


async def _linted(pilot) -> DataScreen:  # noqa: ANN001
    screen = pilot.app.screen
    assert isinstance(screen, DataScreen)
    await _until(pilot, lambda: screen.lint_state == "done" and screen.index is not None and screen.index.done, "the lint")
    return screen


async def test_data_screen_shows_the_sides_and_the_preference_findings(tmp_path: Path) -> None:
    app = _copy("preference_dirty.jsonl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _linted(pilot)
        await _until(pilot, lambda: "CHOSEN" in body_text(screen), "the first pair")
        body = body_text(screen)
        assert "REJECTED" in body and "Explain what a hash map is" in body
        await pilot.press("G")  # the last row: chosen and rejected share no prompt
        rows = screen.query_one(RowList)
        await _until(pilot, lambda: rows.current_row == 18 and "Tell me a riddle." in body_text(screen), "the last row")
        assert "E016" in body_text(screen)
        bar = screen.query_one("#data-file").render_line(0).text  # 120 columns: the long format name is cut, not the counts
        assert "2 errors, 3 warnings" in bar, bar


async def test_convert_a_preference_file_from_the_screen_offers_trl_and_openai(tmp_path: Path) -> None:
    app = _copy("preference_paired.jsonl", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _linted(pilot)
        await pilot.press("v")
        await _until(pilot, lambda: app.screen.__class__.__name__ == "ChoiceScreen", "the question")
        assert "pairs.trl.jsonl" in app.screen.question and "OpenAI preference" in app.screen.question
        await pilot.press("1")
        await _until(pilot, lambda: screen.last_fix is not None, "the conversion")
        assert (tmp_path / "pairs.trl.jsonl").read_text().count("\n") == 16
