"""The Train header names the file the form trains on, also after a dialog (the start question) closes."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select

from ftui.paths import SAMPLE_DATA_DIR
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen


async def _until(pilot, predicate, what: str) -> None:  # noqa: ANN001
    for _ in range(2400):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_header_keeps_the_forms_file_when_a_dialog_closes(runs_dir: Path) -> None:
    """By hand in tmux: Data opened preference_dirty.jsonl, the demo-dpo preset set the form to
    support_tickets_pairs.jsonl, and after the start question the header named preference_dirty again."""
    app = FtuiApp(data_path=SAMPLE_DATA_DIR / "preference_dirty.jsonl", start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await pilot.pause()
        assert "preference_dirty.jsonl" in screen.sub_title
        screen.query_one("#f-preset", Select).value = "demo-dpo"
        await _until(pilot, lambda: "support_tickets_pairs.jsonl" in screen.sub_title, "the preset's file in the header")
        dialog = ChoiceScreen("Start a dpo run?", [("y", "start the run", "start")])
        app.push_screen(dialog)
        await _until(pilot, lambda: app.screen is dialog, "the dialog")
        dialog.dismiss(None)  # as Esc does (keys within its first 300 ms are ignored, so the test does not type)
        await _until(pilot, lambda: app.screen is screen, "the dialog to close")
        await pilot.pause()
        assert "support_tickets_pairs.jsonl" in screen.sub_title, screen.sub_title
