"""Issue 13 (4): the Train form says where its dataset came from, and the header follows the path field."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from ftui.tui.app import FtuiApp
from tests.tui.test_train_screen import shown

SIZE = (160, 48)


async def _until(pilot, predicate) -> None:  # noqa: ANN001
    for _ in range(1200):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out; dataset panel: {shown(pilot.app.screen.query_one('#form-dataset'))}")


async def test_a_file_from_the_data_screen_is_marked_and_the_header_follows_the_field(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        dataset = screen.form.query_one("#form-dataset", Static)
        assert "from the Data screen" not in shown(dataset)
        await pilot.press("f2")
        app.workspace.data_path = Path("sample_data/dirty.jsonl").resolve()  # as the Data screen's Open does
        app.workspace.eval_path = None
        await pilot.press("f3")
        await _until(pilot, lambda: "from the Data screen" in shown(dataset))
        assert "dirty.jsonl" in screen.sub_title
        from ftui.data.lint import lint_file

        errors = lint_file(Path("sample_data/dirty.jsonl").resolve(), near_dups=False).summary["errors"]
        assert errors > 4  # more findings than the three messages (and "N more") validate reports
        await _until(pilot, lambda: f"{errors} error(s)" in shown(dataset))
        field = screen.form.query_one("#f-train_path", Input)
        field.value = "sample_data/support_tickets_train.jsonl"
        await _until(pilot, lambda: "support_tickets_train.jsonl" in screen.sub_title)
        assert "from the Data screen" not in shown(dataset)


async def test_the_form_counts_a_files_lint_findings_as_the_data_screen_does(runs_dir: Path) -> None:
    """The Train form's counts of the Data screen's file are the Data screen's own (near duplicates included:
    the form's lint left that pass out and said 28 warnings where the Data screen said 29)."""
    from ftui.tui.screens.data import DataScreen

    path = Path("sample_data/dirty.jsonl").resolve()
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        data = app.screen
        assert isinstance(data, DataScreen)
        await _until(pilot, lambda: data.lint_state == "done")
        counts = data.store.severity_counts
        errors, warnings = counts.get("error", 0), counts.get("warning", 0)
        assert errors and warnings
        await pilot.press("f3")
        await _until(pilot, lambda: app.current_mode == "train" and app.screen.is_mounted and app.screen.form.lint_counts is not None)
        form = app.screen.form
        assert (form.lint_counts["errors"], form.lint_counts["warnings"]) == (errors, warnings)
        side = shown(form.query_one("#form-dataset", Static))
        assert f"{errors} error(s) · {warnings} warning(s)" in side


async def test_a_file_opened_in_data_before_train_was_ever_shown_is_marked_too(runs_dir: Path) -> None:
    """Browsing the dirty sample and then opening Train for the first time: the form takes the Data screen's
    file, and says so (it said nothing, and the run would have trained on the dirty file unannounced)."""
    from ftui.tui.screens.data import DataScreen

    app = FtuiApp(start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        data = app.screen
        assert isinstance(data, DataScreen)
        await pilot.pause()
        data.open_path(Path("sample_data/dirty.jsonl").resolve())  # what the Open dialog's Enter does
        await pilot.press("f3")
        await _until(pilot, lambda: app.current_mode == "train" and app.screen.is_mounted)  # built by this switch
        screen = app.screen
        assert screen.form.raw_values()[0]["train_path"].endswith("dirty.jsonl")
        dataset = screen.form.query_one("#form-dataset", Static)
        await _until(pilot, lambda: "from the Data screen" in shown(dataset))


async def test_the_dataset_given_at_launch_is_not_marked_as_from_the_data_screen(runs_dir: Path) -> None:
    path = Path("sample_data/support_tickets_train.jsonl").resolve()
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await _until(pilot, lambda: app.current_mode == "train" and app.screen.is_mounted and app.screen.form.preflight is not None)
        assert "from the Data screen" not in shown(app.screen.form.query_one("#form-dataset", Static))
