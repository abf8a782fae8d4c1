"""Pilot tests of the Data screen: open, browse, filter, jump to findings, bad files."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screens import data_backend
from ftui.tui.screens.data import DataScreen
from ftui.tui.widgets.findings_panel import FindingsPanel
from ftui.tui.widgets.row_list import RowList, strip_text

SIZE = (120, 40)


def text_of(widget) -> str:
    """What a Static shows, as plain text (Rich renderables printed to a wide console)."""
    import io

    from rich.console import Console

    shown = widget.render()
    if hasattr(shown, "plain"):
        return shown.plain
    console = Console(width=300, file=io.StringIO(), record=True, color_system=None)
    console.print(getattr(shown, "_renderable", shown))
    return console.export_text()


def _chat(i: int, user: str | None = None, answer: str = "billing") -> dict:
    return {
        "messages": [
            {"role": "system", "content": "Classify the ticket."},
            {"role": "user", "content": user or f"ticket number {i}"},
            {"role": "assistant", "content": answer},
        ]
    }


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


@pytest.fixture
def fake_lint(monkeypatch: pytest.MonkeyPatch):
    """Stand-in linter: one E002 on row 3, W002 on rows 5 and 9 (the screen's behaviour is under test)."""
    findings = [
        {"id": "E002", "severity": "error", "row": 3, "offset": 0, "message": "invalid JSON"},
        {"id": "W002", "severity": "warning", "row": 5, "offset": 0, "message": "exact duplicate of row 4"},
        {"id": "W002", "severity": "warning", "row": 9, "offset": 0, "message": "exact duplicate of row 4"},
    ]

    def run_lint(path: Path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None, profile="trl"):
        on_progress(0.5)
        on_findings(findings)
        return data_backend.LintOutcome(format="chat", rows=12, summary={"errors": 1, "warnings": 2}, findings=findings)

    monkeypatch.setattr(data_backend, "run_lint", run_lint)
    return findings


def _state(app) -> str:  # noqa: ANN001
    """What a Data screen shows, for a stuck wait's message."""
    screen = app.screen
    rows = screen.query(RowList)
    row_list = rows.first() if rows else None
    return (f"screen={type(screen).__name__} focused={type(app.focused).__name__} "
            f"id_filter={getattr(screen, 'id_filter', None)!r} current_row={getattr(row_list, 'current_row', None)} "
            f"view={getattr(row_list, 'view', None)!r} detail_shown={getattr(screen, '_detail_shown', None)!r}")


async def _until(pilot, predicate, what: str, bound_s: float = 120.0) -> None:  # noqa: ANN001
    """Wait on state; the bound only ends a test that is already stuck (a loaded machine is slow, not wrong)."""
    deadline = time.monotonic() + bound_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {_state(pilot.app)}"
        # a plain sleep between checks: pilot.pause() also posts a callback to every widget of the screen and
        # forces a repaint: a few ms of the UI thread per check on a big screen
        await asyncio.sleep(0.02)


async def _settle(pilot, screen: DataScreen) -> None:
    """Until the lint and the index are done (or 120 s: some fakes never finish; the test's asserts say what it needs)."""
    deadline = time.monotonic() + 120.0
    while not (screen.lint_state != "running" and screen.index is not None and screen.index.done):
        if time.monotonic() > deadline:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.05)


async def test_opens_workspace_dataset_and_shows_first_row(tmp_path: Path, fake_lint) -> None:
    path = _write(tmp_path / "d.jsonl", [_chat(i) for i in range(12)])
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DataScreen)
        await _settle(pilot, screen)
        rows = screen.query_one(RowList)
        assert rows.row_count == 12
        assert "ticket number 0" in strip_text(rows.render_line(0))
        body = text_of(screen.query_one("#conversation-body"))
        assert "ticket number 0" in body
        await pilot.press("down", "down")
        assert rows.current_row == 2
        await _until(pilot, lambda: "ticket number 2" in text_of(screen.query_one("#conversation-body")),
                     "the detail, which follows once the cursor rests")
        assert "ticket number 2" in text_of(screen.query_one("#conversation-body"))
        await pilot.press("G")
        assert rows.current_row == 11
        await pilot.press("g")
        assert rows.current_row == 0


def _denied(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file the reader may not open: we run as root, so chmod 000 does not bite; the
    reader's ``open`` raises instead, as it would for another user."""
    from ftui.data import source

    path = _write(directory / "denied.jsonl", [_chat(0)])

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(source, "open", refuse, raising=False)
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d, _: d / "missing.jsonl", "does not exist"),
        (lambda d, _: d, "is a directory"),
        (lambda d, _: (d / "empty.jsonl").write_bytes(b"") and None or d / "empty.jsonl", "empty"),
        (lambda d, _: (d / "bin.jsonl").write_bytes(bytes(range(256)) * 40) and None or d / "bin.jsonl", "binary"),
        (_denied, "permission denied"),
    ],
    ids=["missing", "directory", "empty", "binary", "permission_denied"],
)
async def test_file_level_error_is_one_message_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make, expected: str) -> None:
    app = FtuiApp(data_path=make(tmp_path, monkeypatch), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.05)
        screen = app.screen
        assert screen.file_error is not None and expected in screen.file_error
        assert "\n" not in screen.file_error
        error = screen.query_one("#data-error")
        assert error.display and expected in text_of(error)
        panes = screen.query(".data-main")  # the rows and the side pane
        assert len(panes) == 2 and not any(pane.display for pane in panes)
        await pilot.press("n", "f", "l", "t", "G", "slash", "escape")  # keys on an error screen do nothing harmful
        assert screen.file_error is not None
        await pilot.press("o")
        assert app.screen.__class__.__name__ == "OpenFileScreen"


def _rows_bytes(n: int = 12) -> bytes:
    return b"".join(orjson.dumps(_chat(i)) + b"\n" for i in range(n))


def _bad_file(name: str, data: bytes) -> Any:
    return lambda d: (d / name).write_bytes(data) and None or d / name


def _fifty_mb_line(d: Path) -> Path:
    path = d / "big.jsonl"
    with open(path, "wb") as f:
        f.write(_rows_bytes())
        f.write(b'{"messages": [{"role": "user", "content": "' + b"word " * 10_000_000 + b'"}, {"role": "assistant", "content": "Ok."}]}\n')
    return path


# name -> (file, its rows, the row-level finding the CLI reports for it as (id, 1-based row) or
# None, text the detail pane shows for the last row)
ROW_LEVEL = {
    "non_utf8": (_bad_file("u.jsonl", _rows_bytes() + b'{"text": "caf\xe9"}\n'), 13, ("E001", 13), "not valid UTF-8"),
    "bom": (_bad_file("bom.jsonl", b"\xef\xbb\xbf" + _rows_bytes()), 12, ("W012", 1), "ticket number 11"),
    "crlf": (_bad_file("crlf.jsonl", _rows_bytes().replace(b"\n", b"\r\n")), 12, None, "ticket number 11"),
    "truncated_last_line": (_bad_file("t.jsonl", _rows_bytes() + b'{"messages": [{"role": "us'), 13, ("E002", 13), "cut off"),
    "50mb_line": (_fifty_mb_line, 13, ("E015", 13), "too long to parse"),
    "deeply_nested": (_bad_file("deep.jsonl", _rows_bytes() + b'{"messages": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"),
                      13, ("E002", 13), "nested too deeply"),
    "json_array": (_bad_file("a.json", orjson.dumps([_chat(i) for i in range(12)])), 12, None, "ticket number 11"),
}


@pytest.mark.parametrize("case", list(ROW_LEVEL))
async def test_row_level_bad_input_is_a_finding_and_the_last_row_renders(tmp_path: Path, case: str) -> None:
    """The real linter: the screen opens the file, shows the CLI's finding on its row (or no
    error at all), and G paints the last row; nothing is a file-level error."""
    pytest.importorskip("ftui.data.lint")
    make, n_rows, finding, last_text = ROW_LEVEL[case]
    app = FtuiApp(data_path=make(tmp_path), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: screen.lint_state != "running" and screen.index is not None and screen.index.done,
                     "the lint and the index (the 50 MB line takes the linter ~2 s on a quiet machine)")
        assert screen.file_error is None and screen.lint_state == "done"
        rows = screen.query_one(RowList)
        assert rows.row_count == n_rows
        assert "ticket number 0" in strip_text(rows.render_line(0))  # a BOM or CR does not spoil row 1
        got = {(f["id"], f["row"]) for f in screen.findings if f["row"] is not None}
        errors = {pair for pair in got if pair[0].startswith("E")}
        if finding is None:
            assert errors == set()
        else:
            assert finding in got and errors <= {finding}
            assert finding[0] in screen.query_one(FindingsPanel).group_ids()
            assert rows.mark_of(finding[1] - 1)[1].startswith(finding[0])
        await pilot.press("G")
        assert rows.current_row == n_rows - 1
        await _until(pilot, lambda: text_of(screen.query_one("#conversation-body")).startswith(f"Row {n_rows} "),
                     "the last row's detail, which follows once the cursor rests")
        line = strip_text(rows.render_line(rows.cursor - int(rows.scroll_y)))
        assert line.lstrip().startswith(f"{n_rows} ") and "\r" not in line
        body = text_of(screen.query_one("#conversation-body"))
        assert body.startswith(f"Row {n_rows} ") and last_text in body
        assert "\r" not in body and "\ufeff" not in body


async def test_open_dialog_completes_and_reports_errors(tmp_path: Path, fake_lint) -> None:
    first = _write(tmp_path / "first.jsonl", [_chat(i) for i in range(3)])
    _write(tmp_path / "second_dataset.jsonl", [_chat(i, user=f"second file row {i}") for i in range(7)])
    app = FtuiApp(data_path=first, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("o")
        dialog = app.screen
        box = dialog.query_one("#open-path")
        box.value = str(tmp_path / "nope.jsonl")
        await pilot.press("enter")
        assert app.screen is dialog
        assert "does not exist" in text_of(dialog.query_one("#open-error"))
        box.value = str(tmp_path / "sec")
        await pilot.pause(0.1)
        await pilot.press("end", "right")  # accept the completion
        assert box.value == str(tmp_path / "second_dataset.jsonl")
        await pilot.press("enter")
        await _settle(pilot, screen)
        assert app.screen is screen
        assert screen.path == tmp_path / "second_dataset.jsonl"
        assert screen.query_one(RowList).row_count == 7
        assert app.workspace.data_path == tmp_path / "second_dataset.jsonl"


async def test_opening_another_file_drops_the_held_out_file_of_the_one_before(tmp_path: Path, fake_lint) -> None:
    """By hand: the demo workspace's support_tickets_test.jsonl stayed the eval file after Data opened dirty.jsonl,
    so the Train form offered to evaluate one dataset on another's held-out rows."""
    first = _write(tmp_path / "first.jsonl", [_chat(i) for i in range(3)])
    held_out = _write(tmp_path / "first_test.jsonl", [_chat(i) for i in range(2)])
    second = _write(tmp_path / "second.jsonl", [_chat(i, user=f"second file row {i}") for i in range(4)])
    app = FtuiApp(data_path=first, start_mode="data")
    app.workspace.eval_path = held_out
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        assert app.workspace.eval_path == held_out  # opening the workspace's own file keeps its held-out file
        await pilot.press("o")
        app.screen.query_one("#open-path").value = str(second)
        await pilot.press("enter")
        await _settle(pilot, screen)
        assert screen.path == second and app.workspace.data_path == second
        assert app.workspace.eval_path is None
        await pilot.press("o")  # back to the first file: its held-out file comes back with it
        app.screen.query_one("#open-path").value = str(first)
        await pilot.press("enter")
        await _settle(pilot, screen)
        assert app.workspace.data_path == first and app.workspace.eval_path == held_out


async def test_filter_by_id_and_jump_to_findings(tmp_path: Path, fake_lint) -> None:
    path = _write(tmp_path / "d.jsonl", [_chat(i) for i in range(12)])
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        panel = screen.query_one(FindingsPanel)
        assert panel.group_ids() == ["E002", "W002"]
        rows = screen.query_one(RowList)
        assert rows.mark_of(2)[0] == "error" and rows.mark_of(4) == ("warning", "W002")
        # n / N walk the rows with findings
        await pilot.press("n")
        assert rows.current_row == 2
        await pilot.press("n")
        assert rows.current_row == 4
        await pilot.press("N")
        assert rows.current_row == 2
        # filter by the highlighted group's id
        panel.focus()
        panel.expand_group("W002")
        await pilot.pause()
        await pilot.press("f")
        assert screen.id_filter == "W002"
        assert list(rows.view) == [4, 8]
        assert "id W002" in text_of(screen.query_one("#filter-bar"))
        # a finding leaf jumps to its row
        panel.move_cursor(panel.root.children[1].children[1])
        await pilot.press("enter")
        assert rows.current_row == 8
        assert "exact duplicate" in text_of(screen.query_one("#conversation-body"))
        # Esc clears the filter, the cursor stays on the row
        await pilot.press("escape")
        assert rows.view is None and rows.current_row == 8
        # with the row list focused, f filters by the current row's finding
        rows.focus()
        rows.go_to_row(2)
        await pilot.press("f")
        assert screen.id_filter == "E002" and list(rows.view) == [2]
        await pilot.press("f")
        assert screen.id_filter is None and rows.view is None
        # severity filter cycles error -> warning -> info -> all
        await pilot.press("e")
        assert list(rows.view) == [2]
        await pilot.press("e")
        assert list(rows.view) == [4, 8]


async def test_text_search_filters_rows(tmp_path: Path, fake_lint) -> None:
    rows_data = [_chat(i, user="refund please" if i % 4 == 0 else f"other {i}") for i in range(20)]
    app = FtuiApp(data_path=_write(tmp_path / "d.jsonl", rows_data), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("slash")
        await pilot.press(*"REFUND", "enter")
        for _ in range(50):
            if screen.text_matches and len(screen.text_matches) == 5:
                break
            await pilot.pause(0.02)
        rows = screen.query_one(RowList)
        assert list(rows.view) == [0, 4, 8, 12, 16]
        assert rows.has_focus


async def test_markup_and_ansi_in_rows_show_literally(tmp_path: Path, fake_lint) -> None:
    nasty = "\x1b[31mred\x1b[0m [bold]not bold[/] [/ [link=https://evil.example]click[/link] \x1b]0;pwned\x07 end"
    path = _write(tmp_path / "nasty.jsonl", [_chat(0, user=nasty, answer="[red]x[/red]")])
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        line = strip_text(screen.query_one(RowList).render_line(0))
        assert "[bold]not bold" in line and "[red]x[/red]" in line and "\x1b" not in line and "␛[31m" in line
        body = text_of(screen.query_one("#conversation-body"))
        assert "[bold]not bold[/] [/ [link=https://evil.example]click[/link]" in body
        assert "[red]x[/red]" in body and "\x1b" not in body
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "pwned" in svg
        assert "[link=https://evil.example]" in svg.replace("&#160;", " ")


async def test_huge_line_is_shown_cut_with_a_marker(tmp_path: Path, fake_lint) -> None:
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(orjson.dumps(_chat(0)) + b"\n")
        f.write(b'{"messages": [{"role": "user", "content": "' + b"w" * (3 << 20) + b'"}]}\n')
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("down")
        await _until(pilot, lambda: "row is 3.0 MB" in text_of(screen.query_one("#conversation-body")), "row 2's detail")
        body = text_of(screen.query_one("#conversation-body"))
        assert "row is 3.0 MB" in body and "too long to parse" in body


async def test_lint_not_available_is_said_not_faked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args, **kwargs):
        raise data_backend.NotAvailable("the linter (ftui.data.lint) is not available in this build")

    monkeypatch.setattr(data_backend, "run_lint", missing)
    app = FtuiApp(data_path=_write(tmp_path / "d.jsonl", [_chat(0)]), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        assert screen.lint_state == "not available"
        assert screen.findings == []
        assert "not available" in text_of(screen.query_one("#data-file"))


async def _wait_fix(pilot, screen: DataScreen) -> None:
    for _ in range(250):
        if screen.last_fix is not None:
            return
        await pilot.pause(0.02)


async def test_split_confirms_then_writes_files(tmp_path: Path, fake_lint) -> None:
    pytest.importorskip("ftui.data.fix")
    labels = ["billing", "technical", "account", "other"]
    path = _write(tmp_path / "tickets.jsonl", [_chat(i, user=f"ticket {i} about thing {i * 7}", answer=labels[i % 4]) for i in range(60)])
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("s")
        question = app.screen
        assert question.__class__.__name__ == "ChoiceScreen"
        assert "tickets_split/train.jsonl" in question.question and "not changed" in question.question
        await pilot.press("n")  # cancel writes nothing
        assert app.screen is screen and not (tmp_path / "tickets_split").exists()
        await pilot.press("s")
        await pilot.press("y")
        await _wait_fix(pilot, screen)
        plan, lines = screen.last_fix
        assert lines, "split failed"
        written = {p.name: sum(1 for _ in p.open()) for p in (tmp_path / "tickets_split").glob("*.jsonl")}
        assert set(written) == {"train.jsonl", "val.jsonl", "test.jsonl"}
        assert sum(written.values()) == 60 and written["train.jsonl"] >= 40 and written["val.jsonl"] > 0 and written["test.jsonl"] > 0
        assert path.read_bytes().count(b"\n") == 60  # the input is untouched


async def test_convert_to_openai_after_choosing(tmp_path: Path, fake_lint) -> None:
    pytest.importorskip("ftui.data.fix")
    path = _write(tmp_path / "alp.jsonl", [{"instruction": f"Say {i}", "input": "", "output": f"{i}"} for i in range(12)])
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("v")
        assert "alp.openai.jsonl" in app.screen.question
        await pilot.press("2")
        await _wait_fix(pilot, screen)
        out = tmp_path / "alp.openai.jsonl"
        rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        assert len(rows) == 12 and rows[0]["messages"][-1] == {"role": "assistant", "content": "0"}


async def test_real_linter_findings_jump_to_rows(tmp_path: Path) -> None:
    """The real ftui.data.lint on a file with planted defects: groups appear, n walks to the bad rows."""
    pytest.importorskip("ftui.data.lint")
    rows = [orjson.dumps(_chat(i, user=f"distinct ticket {i} text {i * 13}", answer=["billing", "other"][i % 2])) for i in range(30)]
    rows[4] = b'{"messages": [{"role": "user", "content": "cut'  # E002 invalid JSON on row 5
    rows[9] = orjson.dumps(_chat(9, user="Where is my refund?", answer=""))  # E006 empty target on row 10
    path = tmp_path / "planted.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        rows_list = screen.query_one(RowList)
        # the findings and the rows' marks come in on the screen's batch tick after the lint is done: wait on them
        await _until(pilot, lambda: screen.lint_state == "done" and {"E002", "E006"} <= set(
            screen.query_one(FindingsPanel).group_ids()) and rows_list.mark_of(9)[0] == "error", "the findings")
        ids = screen.query_one(FindingsPanel).group_ids()
        assert ids.index("E002") < ids.index("E006")  # errors first, by id
        assert rows_list.mark_of(4)[0] == "error"
        screen.set_id_filter("E006")
        await _until(pilot, lambda: list(rows_list.view) == [9], "the E006 filter")
        await pilot.press("escape", "g", "n")
        await _until(pilot, lambda: rows_list.current_row == 4
                     and "not valid JSON" in text_of(screen.query_one("#conversation-body")), "row 5 shown")
        assert "E002" in text_of(screen.query_one("#conversation-body"))


async def test_findings_stream_while_ui_stays_responsive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow linter in its worker: findings arrive in batches, keys keep working meanwhile."""
    release = threading.Event()
    first_batch_sent = threading.Event()

    def slow_lint(path: Path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None, profile="trl"):
        on_findings([{"id": "W002", "severity": "warning", "row": 2, "offset": 0, "message": "dup"}])
        on_progress(0.3)
        first_batch_sent.set()
        release.wait(10)
        on_findings([{"id": "E002", "severity": "error", "row": 6, "offset": 0, "message": "bad"}])
        return data_backend.LintOutcome(format="chat", rows=40)

    monkeypatch.setattr(data_backend, "run_lint", slow_lint)
    monkeypatch.setattr("ftui.tui.screens.data.BATCH_SECONDS", 0.0)
    app = FtuiApp(data_path=_write(tmp_path / "d.jsonl", [_chat(i) for i in range(40)]), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: bool(screen.findings), "the first finding")
        assert screen.lint_state == "running" and len(screen.findings) == 1
        assert screen.query_one("#data-progress").display
        rows = screen.query_one(RowList)
        await pilot.press("down", "down", "down")
        assert rows.current_row == 3  # the UI answers while the linter is still working
        await pilot.press("n")
        assert rows.current_row == 1  # wraps to the only finding so far (row 2)
        release.set()
        await _until(pilot, lambda: screen.lint_state == "done", "the lint's end")
        assert screen.lint_state == "done" and len(screen.findings) == 2
        assert not screen.query_one("#data-progress").display


async def test_palette_lists_data_commands(tmp_path: Path, fake_lint) -> None:
    from ftui.tui.screens.data import DataCommands

    app = FtuiApp(data_path=_write(tmp_path / "d.jsonl", [_chat(0)]), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app.screen)
        provider = DataCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert "Data: Split" in names and "Data: Filter id" in names and "Data: Last row" in names


async def test_profile_toggle_relints_with_openai_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = []

    def run_lint(path, on_findings, on_progress, stop, eval_path=None, on_rows=None, profile="trl"):
        profiles.append(profile)
        return data_backend.LintOutcome(format="chat", rows=1)

    monkeypatch.setattr(data_backend, "run_lint", run_lint)
    app = FtuiApp(data_path=_write(tmp_path / "d.jsonl", [_chat(0)]), start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        await pilot.press("p")
        await _settle(pilot, screen)
        assert profiles == ["trl", "openai"]
        assert "lint (openai)" in text_of(screen.query_one("#data-file"))


async def test_leaving_during_a_lint_ends_the_lint_process(tmp_path: Path) -> None:
    """The linter runs in a child process; closing the app while it works must not leave it behind."""
    pytest.importorskip("ftui.data.lint")
    psutil = pytest.importorskip("psutil")
    rows = [_chat(i, user=f"ticket {i} " + "word " * (i % 90), answer="billing") for i in range(60_000)]
    path = _write(tmp_path / "big.jsonl", rows)

    def lint_children() -> list:
        found = []
        for child in psutil.Process().children(recursive=True):
            try:
                if "ftui.data.lint" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                pass
        return found

    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: bool(lint_children()), "the lint child")
        assert screen.lint_state == "running" and lint_children()
        await pilot.press("l")  # re-lint: the old child is killed, a new one starts
        await _until(pilot, lambda: len(lint_children()) <= 1, "the old lint child to go")
    deadline = time.monotonic() + 120.0
    while lint_children() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert lint_children() == []
