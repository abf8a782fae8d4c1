"""ftui lint / ftui data: exit codes, the --json schema, literal printing of untrusted text, bad inputs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ftui import paths
from ftui.cli import main
from ftui.data.checks.catalogue import CHECKS

ROW = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Hello there?"},
                    {"role": "assistant", "content": "Hi, how can I help?"}]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _rows(n: int = 12) -> bytes:
    return b"".join(json.dumps({"messages": [{"role": "user", "content": f"Question number {i} about things?"},
                                             {"role": "assistant", "content": f"Answer number {i} is here."}]}).encode() + b"\n"
                    for i in range(n))


def test_exit_0_1_and_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = _write(tmp_path / "ok.jsonl", _rows())
    code, out, _ = run(capsys, "lint", str(ok), "--json")
    assert code == 0
    doc = json.loads(out)
    assert {"format", "rows", "summary", "findings", "stats"} <= set(doc)
    assert {"errors", "warnings", "info"} <= set(doc["summary"])
    assert doc["format"] == "chat" and doc["rows"] == 12
    for f in doc["findings"]:
        assert set(f) == {"id", "severity", "row", "offset", "message", "hint"}
        assert f["id"] in CHECKS
    bad = _write(tmp_path / "bad.jsonl", _rows() + b"{broken\n")
    code, out, _ = run(capsys, "lint", str(bad), "--json")
    assert code == 1
    e = [f for f in json.loads(out)["findings"] if f["id"] == "E002"]
    assert e[0]["row"] == 13 and e[0]["offset"] == len(_rows())


def test_human_output_groups_by_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", str(paths.sample_data("dirty.jsonl")), "--show", "2")
    assert code == 1
    assert "E002 invalid JSON  x4  rows " in out and "(+2 more)" in out
    assert "fix: " in out and "errors," in out


PLANTED_HEADING = "## dirty.jsonl: which rows plant which lint id"


def planted_table() -> tuple[dict[str, set[int] | None], str]:
    """sample_data/README.md's planted list: id -> 1-based rows (None for a file-level check),
    and the paragraph after it (the ids that need other options or files).

    The list is items split by ``·``: ``E001 rows 50, 51``, ``W012 1 (BOM), 79``,
    ``W010 rows 41–49 (file level)``, ``I001, I002, I003, I005 (file level)``.
    """
    text = paths.sample_data("README.md").read_text(encoding="utf-8")
    section = text.split(PLANTED_HEADING, 1)[1]
    paragraphs = [p for p in section.split("\n\n") if p.strip()]
    listing = paragraphs[0].split(":", 1)[1]  # after "details per row in `DIRTY.md`:"
    planted: dict[str, set[int] | None] = {}
    for item in listing.replace("\n", " ").rstrip(" .").split("·"):
        ids = re.findall(r"\b[EWI]\d{3}\b", item)
        assert ids, f"no check id in README item {item!r}"
        if "(file level)" in item:
            planted.update(dict.fromkeys(ids, None))
            continue
        assert len(ids) == 1, f"row-level README item with several ids: {item!r}"
        rest = re.sub(r"\([^)]*\)", "", item.split(ids[0], 1)[1])  # drop notes like "(BOM)"
        planted[ids[0]] = {int(n) for n in re.findall(r"\d+", rest)}
    return planted, paragraphs[1]


def _lint_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "lint", *argv, "--json")
    return code, json.loads(out)


def _pairs(doc: dict, check_id: str | None = None) -> set[tuple[str, int | None]]:
    return {(f["id"], f["row"]) for f in doc["findings"] if check_id in (None, f["id"])}


def test_dirty_sample_reports_exactly_the_readme_planted_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """Every (id, row) sample_data/README.md says is planted is reported, and every finding
    the default lint reports is listed there: the README cannot drift from the file."""
    planted, elsewhere = planted_table()
    code, doc = _lint_json(capsys, str(paths.sample_data("dirty.jsonl")))
    assert code == 1
    listed = {(cid, row) for cid, rows in planted.items() for row in (rows or [None])}
    assert listed == _pairs(doc)
    # every catalogue id is planted here or named in the "only with other options or files" note
    assert set(CHECKS) - set(planted) == set(re.findall(r"\b[EWI]\d{3}\b", elsewhere))


def test_dirty_sample_options_plant_what_the_readme_says(capsys: pytest.CaptureFixture[str]) -> None:
    _, elsewhere = planted_table()
    leaks = {int(n) for n in re.search(r"W005 rows ([\d, ]+) with `--eval", elsewhere).group(1).split(",")}
    openai_row = int(re.search(r"E013 row (\d+) with `--profile openai`", elsewhere).group(1))
    dirty, evalf = paths.sample_data("dirty.jsonl"), paths.sample_data("dirty_eval.jsonl")
    _, doc = _lint_json(capsys, str(dirty), "--eval", str(evalf))
    assert {row for _, row in _pairs(doc, "W005")} == leaks == {72, 73}
    _, doc = _lint_json(capsys, str(dirty), "--profile", "openai")
    assert ("E013", openai_row) in _pairs(doc)


@pytest.mark.parametrize("name", ["support_tickets_train.jsonl", "support_tickets_test.jsonl", "extraction_train.jsonl",
                                  "extraction_test.jsonl", "alpaca_small.jsonl", "sharegpt_small.jsonl",
                                  "support_tickets_edge.jsonl", "general_prompts.jsonl", "dirty_eval.jsonl"])
def test_clean_samples_have_no_errors(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _lint_json(capsys, str(paths.sample_data(name)))
    assert code == 0, [f for f in doc["findings"] if f["severity"] == "error"][:3]


def test_price_date_reads_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """I003 names the cheapest model's cost and the price table's date, without nested brackets."""
    from ftui.data import stats

    src = _write(tmp_path / "d.jsonl", _rows())
    _, doc = _lint_json(capsys, str(src))
    (message,) = [f["message"] for f in doc["findings"] if f["id"] == "I003"]
    as_of = stats.load_prices()["as_of"]
    assert re.search(rf"; e\.g\. \S+ \$\d+\.\d\d \(prices checked {re.escape(as_of)}\); ", message), message
    assert "((" not in message and "))" not in message
    monkeypatch.setattr(stats, "load_prices", lambda: {"as_of": "unknown", "models": {"m": 1.0}, "source": "x"})
    _, doc = _lint_json(capsys, str(src))
    (message,) = [f["message"] for f in doc["findings"] if f["id"] == "I003"]
    assert "(price table undated)" in message and "unknown" not in message


def test_markup_and_ansi_in_rows_print_literally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows() + json.dumps({"[bold]x[/bold]": 1, "[link=http://e.x]y": 2, "\x1b[31mred": 3}).encode() + b"\n"
    rows += json.dumps({"messages": [{"role": "user", "content": "see [bold]this[/] and \x1b]0;title\x07"},
                                     {"role": "assistant", "content": "ok [/"}]}).encode() + b"\n"
    path = _write(tmp_path / "m.jsonl", rows)
    code, out, err = run(capsys, "lint", str(path))
    assert code == 1
    assert "[bold]x[/bold]" in out and "[link=http://e.x]y" in out
    assert "\x1b" not in out and "\x07" not in out and "\x1b" not in err
    assert "␛[31mred" in out


def test_fix_commands_print_what_they_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "d.jsonl", _rows(30))
    code, out, _ = run(capsys, "data", "clean", str(src))
    assert code == 0 and "wrote 30 rows to" in out and (tmp_path / "d.clean.jsonl").exists()
    code, out, _ = run(capsys, "data", "split", str(src), "--out-dir", str(tmp_path / "s"), "--json")
    doc = json.loads(out)
    assert code == 0 and sum(w["rows"] for w in doc["written"]) == 30
    code, out, _ = run(capsys, "data", "convert", str(src), "--to", "openai")
    assert code == 0 and (tmp_path / "d.openai.jsonl").exists()
    code, out, _ = run(capsys, "data", "stats", str(src), "--json")
    assert code == 0 and json.loads(out)["tokens"]["estimated"] is True
    code, _, err = run(capsys, "data", "clean", str(src))  # exists: one line, exit 2
    assert code == 2 and err.count("\n") == 1 and "--force" in err


# --- bad input: file level -> one line on stderr, exit 2; row level -> a finding -------------


def _deep(path: Path) -> Path:
    return _write(path / "deep.jsonl", _rows() + b'{"messages": ' + b"[" * 5000 + b"]" * 5000 + b"}\n")


FILE_LEVEL = {
    "missing": lambda p: p / "nope.jsonl",
    "directory": lambda p: p,
    "empty": lambda p: _write(p / "e.jsonl", b""),
    "binary": lambda p: _write(p / "b.jsonl", bytes(range(256)) * 40),
}
ROW_LEVEL = {  # name -> (file, expected exit code, id expected or None)
    "non_utf8": (lambda p: _write(p / "u.jsonl", _rows() + b'{"text": "caf\xe9"}\n'), 1, "E001"),
    "bom": (lambda p: _write(p / "bom.jsonl", b"\xef\xbb\xbf" + _rows()), 0, "W012"),
    "crlf": (lambda p: _write(p / "crlf.jsonl", _rows().replace(b"\n", b"\r\n")), 0, None),
    "truncated_last_line": (lambda p: _write(p / "t.jsonl", _rows() + b'{"messages": [{"role": "us'), 1, "E002"),
    "deeply_nested": (_deep, 1, "E002"),
    "json_array": (lambda p: _write(p / "a.json", json.dumps([ROW] * 12).encode()), 0, None),
}


@pytest.mark.parametrize("case", sorted(FILE_LEVEL))
def test_file_level_bad_input_one_line_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = FILE_LEVEL[case](tmp_path)
    code, out, err = run(capsys, "lint", str(path))
    assert code == 2
    assert err.startswith("ftui: ") and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_permission_denied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "p.jsonl", _rows())
    path.chmod(0)
    code, _, err = run(capsys, "lint", str(path))
    assert code == 2 and "permission" in err


@pytest.mark.parametrize("case", sorted(ROW_LEVEL))
def test_row_level_bad_input_is_a_finding(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, want_code, want_id = ROW_LEVEL[case]
    code, out, err = run(capsys, "lint", str(make(tmp_path)), "--json")
    doc = json.loads(out)
    assert code == want_code, doc["summary"]
    if want_id:
        assert want_id in doc["summary"]["by_id"]
    assert doc["rows"] >= 12 and err == ""


def test_50mb_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the bytes json.dumps writes for this row, put together as bytes (its encoder took ~2 CPU-s for 50 MB)
    big = b'{"messages": [{"role": "user", "content": "' + b"word " * 10_000_000 + b'"}, {"role": "assistant", "content": "Ok."}]}'
    path = _write(tmp_path / "big.jsonl", _rows() + big + b"\n")
    code, out, _ = run(capsys, "lint", str(path), "--json")
    doc = json.loads(out)
    assert code == 1 and "E015" in doc["summary"]["by_id"]  # the prompt alone is far over max_length
    code, out, _ = run(capsys, "lint", str(path), "--json", "--profile", "openai")
    assert "E013" in json.loads(out)["summary"]["by_id"]


def test_bad_options_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "d.jsonl", _rows())
    code, _, err = run(capsys, "lint", str(src), "--max-seq-len", "0")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "lint", str(src), "--eval", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "--eval" in err
    code, _, err = run(capsys, "lint", str(src), "--tokenizer", str(tmp_path / "no-such-model"))
    assert code == 2 and "tokenizer" in err and err.count("\n") == 1


def test_permission_denied_even_as_root(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Root can read a chmod 000 file, so the denial is simulated where the file is opened."""
    from ftui.data import source

    path = _write(tmp_path / "p.jsonl", _rows())

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(source, "open", denied, raising=False)
    code, out, err = run(capsys, "lint", str(path))
    assert code == 2 and "permission denied" in err and err.count("\n") == 1 and out == ""
