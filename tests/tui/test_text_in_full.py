"""Issue 13 (6): text that matters is never lost to width: a finding opens in full on Enter, the Train
form shows its first problem's fix whole, and run ids are shortened from their common prefix."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screens import data_backend
from ftui.tui.screens.train_runs import shorten_ids
from ftui.tui.widgets.findings_panel import FindingsPanel
from tests.tui.test_train_screen import shown

SIZE = (120, 40)
LONG = ("row uses 31,162 tokens: at max_seq_len 2048 it is cut, which drops the answer from training; "
        "the budget is 31,162 x 3 epochs; each epoch repeats the cut. Raise max_seq_len or split the row.")


def lint_finds(monkeypatch: pytest.MonkeyPatch, finding: dict) -> None:
    """The Data screen's lint reports ``finding`` alone (on any file, at once)."""
    errors = int(finding["severity"] == "error")

    def run_lint(path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None,  # noqa: ANN001
                 profile="trl"):  # noqa: ANN001
        on_findings([finding])
        return data_backend.LintOutcome(format="chat", rows=3, summary={"errors": errors, "warnings": 1 - errors},
                                        findings=[finding])

    monkeypatch.setattr(data_backend, "run_lint", run_lint)


@pytest.fixture
def long_finding(monkeypatch: pytest.MonkeyPatch) -> dict:
    finding = {"id": "W009", "severity": "warning", "row": 2, "offset": 0, "message": LONG,
               "hint": "split the conversation into turns under 2048 tokens"}
    lint_finds(monkeypatch, finding)
    return finding


async def test_enter_on_a_finding_shows_its_whole_message(tmp_path: Path, long_finding: dict) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for _ in range(3)))
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        panel = app.screen.query_one(FindingsPanel)
        for _ in range(200):
            if panel.group_ids():
                break
            await pilot.pause(0.02)
        panel.focus()
        panel.expand_group("W009")
        await pilot.pause()
        panel.move_cursor(panel.root.children[0].children[0])
        await pilot.press("enter")
        await pilot.pause()
        assert panel.last_shown is not None and LONG in panel.last_shown
        assert "split the conversation" in panel.last_shown
        assert any(LONG in str(n.message) for n in app._notifications)  # noqa: SLF001


async def test_the_first_problem_of_the_train_form_is_shown_whole(runs_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Static

    from ftui.tui.screens import train_form

    # the form's own checks must not replace the problem set below: the model check never starts, and the
    # cheap revalidation that the form's first values schedule has run (twice in a row seen idle)
    monkeypatch.setattr(train_form, "DEEP_CHECK_DELAY_S", 600.0)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        form = app.screen.form
        idle = 0
        for _ in range(6000):  # bounded: a form that never settles fails, not hangs
            idle = idle + 1 if form._revalidate_timer is None else 0  # noqa: SLF001
            if idle >= 2:
                break
            await pilot.pause(0.02)
        assert idle >= 2, "the form's revalidation never settled"
        fix = "Fix: run 'hf download Qwen/Qwen2.5-0.5B-Instruct' on a machine with internet, " * 3
        form.parse_errors = {"model": fix.strip()}
        form._update_problems()  # noqa: SLF001
        await pilot.pause()
        side = shown(form.query_one("#form-problems", Static))
        assert fix.strip().split(" ")[-1] in side.replace("\n", " ") and "…" not in side


async def test_the_focused_train_fields_help_is_shown_whole(runs_dir: Path) -> None:
    """At 120 columns a row's help had ~20 columns: its row grows to show all of it (focused or not, see
    test_text_wraps)."""
    from textual.geometry import Region

    from ftui.train.config_fields import SPECS
    from ftui.tui.widgets.form_row import FormRow

    specs = SPECS.values() if isinstance(SPECS, dict) else SPECS
    whole = next(s.help for s in specs if s.name == "method")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen.form
        row = form.query_one("#row-method", FormRow)
        form.query_one("#f-method").focus()
        for _ in range(500):  # until the row has grown (bounded: on a row that never grows, fail, not hang)
            if row.size.height > 1:
                break
            await pilot.pause(0.02)
        _, help_at = row.columns()
        lines = row.render_lines(Region(0, 0, *row.region.size))
        shown = " ".join(line.text[help_at:].strip() for line in lines)
        assert " ".join(whole.split()) in " ".join(shown.split()) and "…" not in shown


def test_ids_are_shortened_from_their_common_prefix() -> None:
    ids = ["20261202-101500-lora-support-tickets-lr2e-4", "20261202-101500-lora-support-tickets-lr5e-5"]
    shown = shorten_ids(ids, 28)
    assert shown[0] != shown[1] and shown[0].endswith("lr2e-4") and shown[1].endswith("lr5e-5")
    assert all(len(s) <= 28 for s in shown)
    assert shorten_ids(["short", "other"], 28) == ["short", "other"]


async def _generate_screen(app: FtuiApp, pilot):  # noqa: ANN001, ANN202
    from ftui.tui.screens.eval_generate import GenerateScreen

    await pilot.press("g")
    while not isinstance(app.screen, GenerateScreen):
        await pilot.pause(0.02)
    await pilot.pause()
    return app.screen


async def test_generate_shows_the_test_file_relative_to_here_and_a_long_one_by_its_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Input

    from ftui.paths import REPO_ROOT

    monkeypatch.chdir(REPO_ROOT)
    app = FtuiApp(start_mode="evaluate")  # the demo workspace: sample_data/support_tickets_test.jsonl
    async with app.run_test(size=(160, 48)) as pilot:
        field = (await _generate_screen(app, pilot)).query_one("#g-test", Input)
        assert field.value == "sample_data/support_tickets_test.jsonl"
        assert field.render_line(0).text.strip() == field.value  # whole: it fits
    deep = tmp_path.joinpath(*"a long way down to where the held out tickets are kept".split())
    deep.mkdir(parents=True)
    test_file = deep / "tickets_held_out.jsonl"
    test_file.write_text((REPO_ROOT / "sample_data/support_tickets_test.jsonl").read_text())
    app = FtuiApp(start_mode="evaluate")
    app.workspace.eval_path = test_file  # not under the current directory: the whole path, its end in view
    async with app.run_test(size=(160, 48)) as pilot:
        field = (await _generate_screen(app, pilot)).query_one("#g-test", Input)
        assert field.value == str(test_file)
        shown = field.render_line(0).text.strip()
        assert len(shown) < len(str(test_file)) and shown.endswith("kept/tickets_held_out.jsonl"), shown


async def test_generate_endpoint_placeholder_fits_its_field() -> None:
    from textual.widgets import Input

    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=(120, 40)) as pilot:
        field = (await _generate_screen(app, pilot)).query_one("#g-openai", Input)
        placeholder = str(field.placeholder)
        assert "@http" in placeholder and len(placeholder) < field.content_size.width
        assert field.render_line(0).text.strip() == placeholder  # one line, not cut


async def test_generate_offers_the_held_out_file_of_the_runs_dataset_when_the_workspace_has_moved_on(
        runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newcomer's way: lint the dirty sample in Data (the workspace now has no held-out file), train on the
    tickets with eval held out from train, then Generate & compare: the test file was empty (hand journey in
    tmux). It is the tickets' test split, said so; a file the user typed stays when they choose another run."""
    from textual.widgets import Input, Select, Static

    from ftui.paths import REPO_ROOT
    from ftui.tui.screenshots.runs import write_fixture_run

    monkeypatch.chdir(REPO_ROOT)
    run = write_fixture_run(runs_dir, "compare_a", eval_path=None)
    app = FtuiApp(start_mode="evaluate")  # the demo workspace: the tickets and their test split
    app.workspace.open_data(REPO_ROOT / "sample_data/dirty.jsonl")
    assert app.workspace.eval_path is None
    async with app.run_test(size=(160, 48)) as pilot:
        gen = await _generate_screen(app, pilot)
        field = gen.query_one("#g-test", Input)
        label = gen.query_one("#g-test-label", Static)
        assert gen.query_one("#g-run", Select).value == run.name
        assert field.value == "sample_data/support_tickets_test.jsonl"
        assert "the held-out file of support_tickets_train.jsonl" in str(label.render())
        gen.query_one("#g-run", Select).value = "none"  # no run: the workspace's (none)
        await pilot.pause()
        assert field.value == "" and "held-out file of" not in str(label.render())
        field.value = "my/own/test.jsonl"
        gen.query_one("#g-run", Select).value = run.name
        await pilot.pause()
        assert field.value == "my/own/test.jsonl"  # typed by the user: kept


async def test_generate_offers_the_runs_eval_file_where_its_dataset_has_no_held_out_file(
        runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace opened on another dataset at launch knows no held-out file of the run's: the run's own eval
    file is offered, and said to be it."""
    from textual.widgets import Input, Static

    from ftui.paths import REPO_ROOT
    from ftui.tui.screenshots.runs import write_fixture_run

    monkeypatch.chdir(REPO_ROOT)
    run = write_fixture_run(runs_dir, "compare_a", train_path="sample_data/alpaca_small.jsonl",
                            eval_path=str(REPO_ROOT / "sample_data/support_tickets_edge.jsonl"))
    app = FtuiApp(data_path=REPO_ROOT / "sample_data/dirty.jsonl", start_mode="evaluate")
    async with app.run_test(size=(160, 48)) as pilot:
        gen = await _generate_screen(app, pilot)
        assert gen.query_one("#g-test", Input).value == "sample_data/support_tickets_edge.jsonl"
        assert f"the eval file of {run.name}" in str(gen.query_one("#g-test-label", Static).render())


async def test_generate_offers_the_test_split_beside_the_runs_dataset_after_a_relaunch(
        runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaunched on the dirty sample (the session remembers the dataset, not which test split went with the
    tickets), a run trained on support_tickets_train.jsonl with eval held out from train is offered
    support_tickets_test.jsonl, the split beside its dataset, not an empty field."""
    from textual.widgets import Input, Static

    from ftui.paths import REPO_ROOT
    from ftui.tui.screenshots.runs import write_fixture_run

    monkeypatch.chdir(REPO_ROOT)
    write_fixture_run(runs_dir, "compare_a", eval_path=None)
    app = FtuiApp(data_path=REPO_ROOT / "sample_data/dirty.jsonl", start_mode="evaluate")
    assert not app.workspace.held_out
    async with app.run_test(size=(160, 48)) as pilot:
        gen = await _generate_screen(app, pilot)
        assert gen.query_one("#g-test", Input).value == "sample_data/support_tickets_test.jsonl"
        assert "the test split beside support_tickets_train.jsonl" in str(gen.query_one("#g-test-label", Static).render())
