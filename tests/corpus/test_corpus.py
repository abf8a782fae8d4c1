"""The bad-input corpus (issue 18) through ``ftui lint``, ``ftui data stats``, ``ftui train --check``
and the Data screen: one clear message each, exit 2 for unusable input, no traceback, no hang,
nothing left behind.

The corpus is generated (tests/corpus/make_corpus.py) into a temporary directory; the three
commands run over it in ONE subprocess (tests/corpus/drive.py: ``ftui.cli.main`` per entry, a
SIGALRM per entry, and this test's subprocess timeout as the hard limit), so a hang is reported
as a hang of its entry and the whole corpus costs one interpreter start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus.make_corpus import make

ROOT = Path(__file__).resolve().parents[2]
HARD_LIMIT_S = 300  # the whole corpus, three commands; it takes ~15 s


def _tree(path: Path) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), path))
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, demo_model) -> dict:
    corpus = tmp_path_factory.mktemp("corpus")
    home = tmp_path_factory.mktemp("corpus-home")
    env = dict(os.environ, FTUI_HOME=str(home), FTUI_RUNS_DIR=str(home / "runs"))
    make(corpus)
    before = _tree(corpus)
    proc = subprocess.run([sys.executable, "-m", "tests.corpus.drive", "all", str(corpus)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=HARD_LIMIT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    after = _tree(corpus)
    return {"rows": rows, "left": sorted(p for p in after - before if not p.startswith("_configs")),
            "home": sorted(_tree(home)), "corpus": corpus}


def test_every_entry_ran_through_every_command(results) -> None:
    entries = make(Path(results["corpus"]) / "_again", big=False)
    names = {e.name for e in entries} | {"line_60mb.jsonl"}
    got = {(r["name"], r["command"]) for r in results["rows"]}
    for name in names:
        kinds = next((e.kinds for e in entries if e.name == name), {"lint", "stats", "check"})
        assert {(name, c) for c in kinds} <= got, name


def test_no_traceback_and_no_hang(results) -> None:
    bad = [(r["name"], r["command"], r.get("traceback", "hang")) for r in results["rows"]
           if r.get("traceback") or r.get("hang")]
    assert not bad, bad
    assert "Traceback" not in "".join(r["err"] + r["out"] for r in results["rows"])


def test_unusable_input_exits_2_with_its_own_message(results) -> None:
    for r in results["rows"]:
        text = (r["err"] + r["out"]).lower()
        if r["expect"] == "unusable":
            allowed = (1, 2) if r["command"] == "lint" else (2,)  # lint: 1 when it names the bad rows one by one
            assert r["rc"] in allowed, (r["name"], r["command"], r["rc"], text[-500:])
            assert any(w.lower() in text for w in r["words"]), (r["name"], r["command"], text[-500:])
            if r["rc"] == 2:  # one readable message, not a screenful
                assert len([ln for ln in r["err"].splitlines() if ln.startswith("ftui:")]) <= 4, r["err"]
        else:
            assert r["rc"] in ((0, 1) if r["command"] == "lint" else (0,) if r["command"] == "stats" else (0, 2)), \
                (r["name"], r["command"], r["rc"], text[-500:])


def test_specific_messages(results) -> None:
    by = {(r["name"], r["command"]): (r["err"] + r["out"]) for r in results["rows"]}
    for command in ("lint", "stats", "check"):
        assert "symbolic link loop" in by[("loop.jsonl", command)]
        assert "dangling symbolic link" in by[("dangling.jsonl", command)]
        assert "CR-only line endings" in by[("cr_only.jsonl", command)]
        assert "pretty-printed JSON object" in by[("pretty_object.json", command)]
        assert "named pipe" in by[("fifo.jsonl", command)]
        assert "is a device" in by[("dev_zero", command)]
        assert "did you mean" not in by[("loop.jsonl", command)]
    assert "splits train" in by[("dd_str", "lint")] and "t, r, a" not in by[("dd_str", "lint")]
    assert "Parquet file size" in by[("corrupt.parquet", "check")]  # the real cause, not "not UTF-8"
    for name in ("blank_64k_then_rows.jsonl", "line_60mb.jsonl", "turns_100k.jsonl"):
        assert "chat messages" in by[(name, "lint")], by[(name, "lint")][:300]  # the format is still found
    assert "contains only whitespace" not in by[("blank_64k_then_rows.jsonl", "check")]


def test_nothing_left_behind(results) -> None:
    assert results["left"] == []  # no converted copies or temp files next to the inputs
    assert not [p for p in results["home"] if p.startswith("runs")]  # no failed run directory from --check


def test_an_unreadable_file_is_one_message(tmp_path: Path, capsys, monkeypatch) -> None:
    """We run as root (chmod 000 does not bite), so the reader's open() refuses as it would for another user."""
    from ftui.cli import main
    from ftui.data import source

    path = tmp_path / "denied.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n')

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(source, "open", refuse, raising=False)
    for argv in (["lint", str(path)], ["data", "stats", str(path)]):
        assert main(argv) == 2
        assert "permission denied" in capsys.readouterr().err


# --- the Data screen on a subset -------------------------------------------------------------------

SCREEN_CASES = {
    "fifo.jsonl": "named pipe",
    "dangling.jsonl": "dangling symbolic link",
    "loop.jsonl": "symbolic link loop",
    "cr_only.jsonl": "CR-only",
    "pretty_object.json": "pretty-printed",
    "dd_list": "dataset_dict.json",
    "gzipped.jsonl": "gzip",
}


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return {e.name: e.path for e in make(tmp_path_factory.mktemp("screen-corpus"), big=False)}


@pytest.mark.parametrize("name", sorted(SCREEN_CASES))
async def test_data_screen_shows_one_message(small_corpus: dict, name: str) -> None:
    from ftui.tui.app import FtuiApp

    app = FtuiApp(data_path=small_corpus[name], start_mode="data")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.05)
        screen = app.screen
        assert screen.file_error is not None and SCREEN_CASES[name] in screen.file_error
        assert "\n" not in screen.file_error


@pytest.mark.parametrize("name", ["blank_64k_then_rows.jsonl", "markup_escapes.jsonl", "turns_100k.jsonl"])
async def test_data_screen_opens_odd_but_readable_files(small_corpus: dict, name: str) -> None:
    from ftui.tui.app import FtuiApp

    app = FtuiApp(data_path=small_corpus[name], start_mode="data")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.05)
        assert app.screen.file_error is None
        await pilot.press("G")
