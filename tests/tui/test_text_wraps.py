"""Issue 13 (6), text never lost to width, at 120 x 40: long lines wrap under their own text (a hanging
indent), not back at the panel's left edge, and what a list cuts to its column is shown in full."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.geometry import Region
from textual.widget import Widget

from ftui.tui.app import FtuiApp
from tests.tui.test_text_in_full import lint_finds

SIZE = (120, 40)


def _lines(widget: Widget) -> list[str]:
    """The widget's lines as the terminal shows them (padding included, a border's sides as blanks and its
    top and bottom dropped), trailing blanks dropped."""
    lines = [strip.text.replace("│", " ").rstrip() for strip in widget.render_lines(Region(0, 0, *widget.region.size))]
    lines = [line for line in lines if not line.lstrip().startswith(("╭", "╰"))]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


async def _until(pilot, predicate, what: str) -> None:  # noqa: ANN001
    """Wait on state, bounded: a screen that never gets there fails the test rather than hanging it."""
    for _ in range(3000):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _hangs(lines: list[str], first: int, column: int) -> None:
    """Line ``first`` wraps (at 120 columns it is too long for its panel) and its next line starts at ``column``."""
    following = lines[first + 1] if first + 1 < len(lines) else ""
    assert following.strip() and _indent(following) == column, (
        f"the wrapped line is not under its text (column {column}):\n{lines[first]}\n{following}")


async def test_the_plan_memory_verdict_wraps_under_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """' ?  no GPU size: … · no GPU' went on at the panel's edge with 'detected'."""
    from textual.widgets import Static

    import ftui.advisor.gpu

    monkeypatch.delenv("FTUI_GPU_GB", raising=False)
    monkeypatch.setattr(ftui.advisor.gpu, "detect_gpu", lambda: None)  # a CPU box, whatever runs the test
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: screen.gpu_label == "no GPU detected", "the GPU detection")
        breakdown = screen.query_one("#breakdown", Static)
        # the calculator's verdict comes after the detection (the estimate is computed, then shown)
        await _until(pilot, lambda: any("no GPU size" in line for line in _lines(breakdown)), "the verdict")
        await pilot.pause()  # laid out at its final size
        lines = _lines(breakdown)
        first = next(i for i, line in enumerate(lines) if "no GPU size" in line)
        _hangs(lines, first, lines[first].index("no GPU size"))
        assert "no GPU detected" in " ".join(" ".join(lines[first:]).split())


@pytest.mark.parametrize(("mode", "widget", "start"), [
    ("plan", "#wizard", "It lacks knowledge"),  # a wizard answer, right of its key
    ("evaluate", "#eval-guide", "choose systems"),  # the Evaluate home's step, 3 columns in
])
async def test_a_list_item_wraps_under_itself(mode: str, widget: str, start: str) -> None:
    from textual.widgets import Static

    app = FtuiApp(start_mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = _lines(app.screen.query_one(widget, Static))
        first = next(i for i, line in enumerate(lines) if start in line)
        _hangs(lines, first, lines[first].index(start))


async def test_the_train_launchers_memory_line_wraps_under_itself(runs_dir: Path) -> None:
    """'memory   ▲ needs about 0.8 GB of GPU' went on with 'memory (bf16 base …' at the panel's edge."""
    from textual.widgets import Static

    from ftui.train.preflight.verdict import Preflight

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen.form
        # the deep check's verdict on a CPU box, without waiting seconds for it (its thread may still land: it
        # says the same)
        form.preflight = Preflight("no-gpu", (
            "needs about 0.8 GB of GPU memory (bf16 base + fp32 adapters); no GPU here, so it trains on the CPU "
            "(slow beyond tiny models)."))
        form._update_preflight()  # noqa: SLF001
        await pilot.pause()
        lines = _lines(form.query_one("#form-preflight", Static))
        first = next(i for i, line in enumerate(lines) if "memory" in line)
        _hangs(lines, first, lines[first].index("memory") + len("memory   "))


async def test_every_train_fields_help_is_shown_whole_unfocused(runs_dir: Path) -> None:
    """At 120 columns a row's help had ~20 columns and was cut ('lora: adapters on a…') unless focused."""
    from ftui.train.config_fields import SPECS
    from ftui.tui.widgets.form_row import FormRow

    for size in (SIZE, (160, 48)):
        app = FtuiApp(start_mode="train")
        async with app.run_test(size=size) as pilot:
            form = app.screen.form
            form.query_one("#f-model").focus()
            await pilot.pause()
            for spec in SPECS.values():
                if spec.section != "basic" or not spec.help or spec.name in form.parse_errors:
                    continue
                row = form.query_one(f"#row-{spec.name}", FormRow)
                _, help_at = row.columns()
                shown = " ".join(" ".join(line[help_at:] for line in _lines(row)).split())
                assert shown == " ".join(spec.help.split()), (size, spec.name, shown)


async def test_the_results_mcnemar_line_wraps_under_its_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'McNemar   p = 1.000  (0 only base right, 0 only' went on with 'run:lora-tickets right)' at the edge."""
    from textual.widgets import Static

    from ftui import paths
    from ftui.tui.screens.eval_results import ResultsScreen
    from ftui.tui.screenshots.eval_session import make_demo_session, rate_demo_session

    directory = make_demo_session(paths.sessions_dir() / "tickets-base-vs-lora")
    rate_demo_session(directory, "ana", unblind=True)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.open_session(directory, "ana", results=True)
        await _until(pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.results is not None,
                     "the results")
        await pilot.pause()
        lines = _lines(app.screen.query_one("#res-compare", Static))
        first = next(i for i, line in enumerate(lines) if "McNemar" in line)
        _hangs(lines, first, lines[first].index("p = "))


async def test_a_failed_runs_reason_and_fix_are_shown_whole_in_the_runs_list(runs_dir: Path) -> None:
    """The note column cut 'CUDA out of memory while al'; the selected run's failure shows in full under the table."""
    from textual.widgets import Static

    from ftui.tui.screenshots.runs import write_fixture_run

    message = ("CUDA out of memory while allocating 2.00 GiB for the optimizer state at step 12 (device has 23.6 GiB "
               "total, 21.9 GiB already allocated by this process)")
    hint = ("lower per_device_train_batch_size to 2 and raise gradient_accumulation_steps to 8, or switch to qlora; "
            "see the memory chart in the monitor for the peak")
    run_dir = write_fixture_run(runs_dir, "failed")
    log = run_dir / "events.jsonl"
    lines = log.read_text().splitlines()
    last = orjson.loads(lines[-1])
    assert last["type"] == "failed"
    lines[-1] = orjson.dumps({**last, "message": message, "hint": hint}).decode()
    log.write_text("\n".join(lines) + "\n")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        panel = app.screen.runs_panel
        await _until(pilot, lambda: panel.loaded > 0 and panel.selected is not None, "the runs list")
        await pilot.pause()
        note = panel.query_one("#runs-note", Static)
        assert note.display
        shown = " ".join(" ".join(_lines(note)).split())
        assert message in shown and hint in shown and "…" not in shown


async def test_a_findings_check_name_is_shown_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree cut 'format undetectable or different from the file's ma…'; under the cursor it shows whole."""
    from textual.widgets import Static

    from ftui.tui.screens import data_backend
    from ftui.tui.widgets.findings_panel import FindingsPanel

    title = data_backend.check_titles()["E004"]
    finding = {"id": "E004", "severity": "error", "row": 2, "offset": 0,
               "message": "row 2 is completion, the file's majority is chat messages", "hint": "convert it"}

    lint_finds(monkeypatch, finding)
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for _ in range(3)))
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.screen.query_one(FindingsPanel)
        await _until(pilot, lambda: bool(panel.group_ids()), "the findings")
        panel.focus()
        panel.move_cursor(panel.root.children[0])
        await pilot.pause()
        assert title not in " ".join(line.strip() for line in _lines(panel))  # the tree's line is cut...
        note = app.screen.query_one("#findings-note", Static)
        assert note.display and title in " ".join(" ".join(_lines(note)).split())  # ...and shown whole under it


async def test_the_monitors_fix_for_a_failed_run_wraps_under_itself(runs_dir: Path) -> None:
    """'  fix: Lower micro_batch_size … or turn on' went on with 'gradient checkpointing.' at the panel's edge."""
    from textual.widgets import Static

    from ftui.tui.screenshots.runs import write_fixture_run

    run_dir = write_fixture_run(runs_dir, "failed")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.open_run(run_dir)
        await _until(pilot, lambda: screen.monitor.history is not None and screen.monitor.history.terminal is not None,
                     "the failed run in the monitor")
        await pilot.pause()
        lines = _lines(screen.monitor.query_one("#mon-diag", Static))
        first = next(i for i, line in enumerate(lines) if "fix:" in line)
        _hangs(lines, first, lines[first].index("Lower"))


async def test_at_160_columns_the_findings_tree_shows_each_check_name_whole() -> None:
    """The dirty sample at 160 x 48 cut E004 at 'different from the file's ma': the count column took six
    cells for a count of 2 and the name was longer than it needs to be."""
    from ftui.tui.screens import data_backend
    from ftui.tui.widgets.findings_panel import FindingsPanel

    titles = data_backend.check_titles()
    path = Path(__file__).resolve().parents[2] / "sample_data" / "dirty.jsonl"
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        panel = screen.query_one(FindingsPanel)
        await _until(pilot, lambda: screen.lint_state == "done" and "E004" in panel.group_ids(), "the dirty sample's lint")
        await pilot.pause()
        shown = _lines(panel)
        visible = [cid for cid in panel.group_ids() if any(f" {cid} " in line for line in shown)]
        assert "E004" in visible
        for check_id in visible:
            line = next(line for line in shown if f" {check_id} " in line)
            assert titles[check_id] in line, f"{check_id}'s name is cut: {line!r}"


async def test_the_monitors_progress_figures_wrap_whole_under_the_first_one(runs_dir: Path) -> None:
    """At 120 columns the progress line was cut ('· eval took 0.3s · 2,679…'): every figure is shown now,
    none split across lines, the ones that do not fit on the bar's line starting under the first figure."""
    import json

    from textual.widgets import Static

    from ftui.tui.screenshots.runs import write_fixture_run

    run_dir = write_fixture_run(runs_dir, "healthy")
    log = run_dir / "events.jsonl"
    lines = [line for line in log.read_text().splitlines(keepends=True) if '"finished"' not in line]  # mid-run
    timed_eval = {"type": "eval", "t": 1700000062.5, "step": 120, "eval_loss": 0.6, "runtime_s": 3.46}
    log.write_text("".join(lines) + json.dumps(timed_eval) + "\n")  # with its duration: one more figure
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.open_run(run_dir)
        await _until(pilot, lambda: screen.monitor.history is not None, "the run in the monitor")
        await pilot.pause()
        widget = screen.monitor.query_one("#mon-progress", Static)
        lines = _lines(widget)
        figures = [f.strip() for line in lines for f in line.split("%", 1)[-1].split("  ·  ") if f.strip()]
        assert len(lines) >= 2, lines  # it did not fit on one line at 120 columns
        assert "…" not in "".join(lines)
        assert any(f.startswith("eval took 3.5s") for f in figures) and any(f.endswith("tok/s") for f in figures)
        assert all(f.startswith(("step", "epoch", "elapsed", "ETA", "loss", "best eval", "eval took")) or
                   f.endswith("tok/s") for f in figures), figures  # each figure whole on one line
        first = lines[0].index("step")
        assert all(_indent(line) == first for line in lines[1:]), lines
