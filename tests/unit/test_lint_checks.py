"""Every lint check id: one file that triggers it and one that does not."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ftui.data.checks.catalogue import CHECKS
from ftui.data.lint import drive, lint_file, parallel
from ftui.data.lint import state as lint_state

SYS = "You are a helpful assistant."
_WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
          "quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ember fern").split()


def _sentence(rng: random.Random, n: int = 10) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def chat(user: str, answer: str, system: str | None = SYS, **extra: Any) -> dict[str, Any]:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return {"messages": msgs, **extra}


def good(n: int = 12, seed: int = 0) -> list[dict[str, Any]]:
    """Distinct, clean chat rows with prose answers."""
    rng = random.Random(seed)
    return [chat(f"Question {i}: " + _sentence(rng), _sentence(rng, 12) + " " + _sentence(rng, 12)) for i in range(n)]


def write(tmp_path: Path, rows: list[Any], name: str = "d.jsonl") -> Path:
    path = tmp_path / name
    with open(path, "wb") as f:
        for r in rows:
            f.write(r if isinstance(r, bytes) else json.dumps(r).encode())
            f.write(b"\n")
    return path


def ids(tmp_path: Path, rows: list[Any], **kw: Any) -> set[str]:
    kw.setdefault("near_dups", True)
    return {f.id for f in lint_file(write(tmp_path, rows), **kw).findings}


def msgs(*pairs: tuple[str, Any], **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in pairs], **extra}


LONG = " ".join(["word"] * 1200)  # ~6,000 characters: ~1,500 estimated tokens
G = good()
# preference pairs, the chosen side longer in half of them
P = [{"prompt": f"Question {i}?", "chosen": f"Answer {i}." + (" With the reason why." if i % 2 else ""),
      "rejected": f"Wrong {i}." + ("" if i % 2 else " With a made-up reason.")} for i in range(12)]

# id -> (rows that trigger it, rows that do not, lint options)
CASES: dict[str, tuple[list[Any], list[Any], dict[str, Any]]] = {
    "E001": (G + [b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "ok."}]}'],
             G + [chat("caf\u00e9 au lait", "Served hot.")], {}),
    "E002": (G + [b'{"messages": [{"role": "user", "content": "a", "content": "b"}, {"role": "assistant", "content": "c."}]}'],
             G + [chat('Say "a": "b" please', 'I said "a": "b" for you.')], {}),
    "E003": (G + [[1, 2, 3]], G, {}),
    "E004": (G + [{"instruction": "Do it.", "output": "Done."}], G + [chat("x y z", "Done with it now.")], {}),
    "E005": (G + [{"messages": [{"role": "user"}, {"role": "assistant", "content": "Hello there."}]}], G, {}),
    "E006": (G + [chat("Tell me.", "   ")], G, {}),
    "E007": (G + [msgs(("user", "hi"), ("robot", "hello"))], G, {}),
    "E008": (G + [msgs(("system", SYS), ("user", "Anyone?"))], G, {}),
    "E009": (G + [msgs(("user", "a"), ("user", "b"), ("assistant", "Both noted."))], G, {}),
    "E010": (G + [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "Answer.", "weight": 0.5}]}],
             G + [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "Answer.", "weight": 1}]}],
             {"profile": "openai"}),
    "E011": (G + [{"messages": [{"role": "user", "content": "w?"},
                                {"role": "assistant", "content": None, "tool_calls": [
                                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]},
                                {"role": "tool", "tool_call_id": "c1", "content": "18"},
                                {"role": "assistant", "content": "It is 18 degrees."}]}],
             G + [{"messages": [{"role": "user", "content": "w?"},
                                {"role": "assistant", "content": None, "tool_calls": [
                                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
                                {"role": "tool", "tool_call_id": "c1", "content": "18"},
                                {"role": "assistant", "content": "It is 18 degrees."}]}], {}),
    "E012": (good(5), good(10), {"profile": "openai"}),
    "E013": (G + [chat("q", " ".join(["word"] * 60_000))], G + [chat("q", LONG)], {"profile": "openai"}),
    "E015": (G + [chat(LONG, "Short answer.")], G + [chat("Short question?", "Short answer.")], {}),
    "W001": (G + [chat("q", LONG)], G + [chat("q", LONG)], {}),  # good side linted with --max-seq-len 4096 below
    "W002": (G + [G[0]], G, {}),
    "W003": (G + [chat(G[0]["messages"][1]["content"], G[0]["messages"][2]["content"].rsplit(" ", 1)[0] + " zulu.")], G, {}),
    "W004": (G + [chat(G[1]["messages"][1]["content"], "A completely different answer here.")], G, {}),
    "W006": (G + [chat("New question here?", "A fine answer to it.", system="You are a rude assistant.")], G, {}),
    "W007": (G + [msgs(("system", SYS), ("user", "a"), ("assistant", "b is it."), ("user", "c?"))], G, {}),
    "W008": (G + [chat("No system here?", "Right, none at all.", system=None)], G, {}),
    "W009": (good(40) + [chat("q", " ".join(_WORDS) * 30)], good(40), {}),
    "W010": (good(30) + [chat(f"Other question {i}?", "Please contact support for help.") for i in range(6)],
             good(30) + [chat("Other question?", "Please contact support for help.")], {}),
    "W011": (G + [chat("Mail me at jane@example.com", "Noted, thanks.")], G + [chat("Mail me at the office", "Noted, thanks.")], {}),
    "W012": (G + [chat("Look: \x1b[31mred\x1b[0m", "I see it now.")], G + [chat("Look: red", "I see it now.")], {}),
    "W013": (G + [chat("q", "An answer.", source="web")], G, {}),
    "W014": (G + [chat("q", "Dear {{name}}, thanks.")], G + [chat("q", "Dear Anna, thanks.")], {}),
    "W015": (G + [chat("q", "Bye.<|im_end|>")], G + [chat("q", "Bye for now.")], {}),
    "W016": (G + [chat("q", "First open the console, then go to the settings page and click the")],
             G + [chat("q", "First open the console, then go to the settings page and click Save.")], {}),
    "W017": (G + [chat("q", '{"status": "open"}')], G, {}),
    "I001": (G, None, {}),
    "I002": (G, None, {}),
    "I003": (G, None, {}),
    "I004": ([chat(f"Ticket {i}: " + _sentence(random.Random(i)), lab) for i, lab in enumerate(["billing", "technical"] * 12)],
             G, {}),
    "I005": (G, None, {}),
    # preference data (ftui/data/checks/preference.py) and multimodal rows
    "E016": (P + [{"chosen": [{"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "A pun."}],
                   "rejected": [{"role": "user", "content": "Tell me a riddle."}, {"role": "assistant", "content": "A piano."}]}],
             P + [{"chosen": [{"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "A pun."}],
                   "rejected": [{"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "No."}]}], {}),
    "W018": ([{"prompt": f"Question {i}?", "chosen": f"A long and careful answer number {i}.", "rejected": f"No {i}."}
              for i in range(12)], P, {}),
    "W019": ([{"prompt": f"Question {i}?", "completion": f"Answer {i}.", "label": i != 0} for i in range(12)],
             [{"prompt": f"Question {i}?", "completion": f"Answer {i}.", "label": i % 2 == 0} for i in range(12)], {}),
    "W020": (G + [chat("<image>\nWhat is in the picture?", "A red bicycle.")], G, {}),
    "I006": (P, None, {}),
}


def test_every_catalogue_id_has_a_case() -> None:
    missing = set(CHECKS) - set(CASES) - {"E014", "W005"}  # E014 and W005 have their own tests below
    assert not missing


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_triggers_and_not(tmp_path: Path, check_id: str) -> None:
    bad, ok, kw = CASES[check_id]
    (tmp_path / "bad").mkdir()
    assert check_id in ids(tmp_path / "bad", bad, **kw), f"{check_id} not reported"
    if ok is None:
        return  # file-level info: always reported
    (tmp_path / "ok").mkdir()
    if check_id == "W001":
        kw = {**kw, "max_seq_len": 4096}
    assert check_id not in ids(tmp_path / "ok", ok, **kw), f"{check_id} reported on a clean file"


def test_w005_leakage_exact_and_near(tmp_path: Path) -> None:
    train = good(12)
    leak_exact = G[2]
    near_answer = G[3]["messages"][2]["content"].rsplit(" ", 1)[0] + " zulu."
    evalp = write(tmp_path, [leak_exact, chat(G[3]["messages"][1]["content"], near_answer), chat("unrelated q", "Unrelated a.")], "eval.jsonl")
    report = lint_file(write(tmp_path, train), eval_path=evalp)
    leaks = [f for f in report.findings if f.id == "W005"]
    assert {f.row for f in leaks} == {3, 4}
    assert any("exact" in f.message for f in leaks) and any("Jaccard" in f.message for f in leaks)
    clean_eval = write(tmp_path, [chat("unrelated q", "Unrelated a.")], "eval2.jsonl")
    assert not [f for f in lint_file(write(tmp_path, train), eval_path=clean_eval).findings if f.id == "W005"]


class _FailingTemplate:
    """A counter whose chat template rejects rows mentioning 'boom' (real templates raise for odd roles)."""

    estimated = False
    label = "fake tokenizer"
    model_max_length = None

    def count(self, roles: list[str], texts: list[str]) -> tuple[list[int], str | None]:
        err = "the chat template fails: boom" if any("boom" in t for t in texts) else None
        return [len(t) // 3 + 3 for t in texts], err


def test_e014_template_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint_state, "make_counter", lambda tok: _FailingTemplate())
    report = lint_file(write(tmp_path, G + [chat("boom", "Kaboom.")]), tokenizer="fake")
    assert [f.row for f in report.findings if f.id == "E014"] == [13]
    assert not [f for f in lint_file(write(tmp_path, G), tokenizer="fake").findings if f.id == "E014"]


def test_findings_carry_row_offset_and_hint(tmp_path: Path) -> None:
    rows = G[:3] + [chat("q", "")]
    path = write(tmp_path, rows)
    report = lint_file(path)
    f = next(f for f in report.findings if f.id == "E006")
    assert f.row == 4 and f.severity == "error" and f.hint
    with open(path, "rb") as fh:
        fh.seek(f.offset)
        assert json.loads(fh.readline()) == rows[3]


def test_preference_data_is_named_not_linted_as_sft(tmp_path: Path) -> None:
    rows = [{"prompt": f"Question {i}?", "chosen": f"Good answer {i}.", "rejected": f"Bad answer {i}."} for i in range(12)]
    report = lint_file(write(tmp_path, rows))
    assert report.format == "preference"
    assert not {f.id for f in report.findings} & {"E008", "W007", "W008", "E004", "W017"}
    rows[3]["rejected"] = rows[3]["chosen"]
    rows[4]["chosen"] = ""
    got = {(f.id, f.row) for f in lint_file(write(tmp_path, rows)).findings}
    assert ("W004", 4) in got and ("E006", 5) in got


def test_streaming_callbacks_and_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drive, "BATCH_BYTES", 2000)
    rows = good(200) + [chat("q", "")]
    path = write(tmp_path, rows)
    progress: list[tuple[int, int, int]] = []
    streamed: list[str] = []
    report = lint_file(path, on_progress=lambda *a: progress.append(a), on_findings=lambda fs: streamed.extend(f.id for f in fs))
    assert progress[-1][0] == 201 and progress[-1][1] == progress[-1][2] == path.stat().st_size
    assert [p[1] for p in progress] == sorted(p[1] for p in progress)
    assert sorted(streamed) == sorted(f.id for f in report.findings)

    class Stop:
        def is_set(self) -> bool:
            return True

    cancelled = lint_file(path, cancel=Stop())
    assert cancelled.cancelled and cancelled.rows < 201


def test_tokenizer_demo_gives_true_counts(tmp_path: Path, demo_model: Path) -> None:
    report = lint_file(write(tmp_path, G), tokenizer="demo")
    tok = report.stats["tokens"]
    assert not tok["estimated"] and "demo" in tok["method"]
    assert tok["per_role"]["assistant"]["p50"] > 0


@pytest.fixture(params=["fork", "spawn"])
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Lint workers started both ways: forked (a one-thread CLI) and spawned (the TUI)."""
    import multiprocessing as mp

    monkeypatch.setattr(parallel, "_context", lambda: (mp.get_context(request.param), request.param == "fork"))
    return request.param



def test_parallel_workers_find_the_same_problems(tmp_path: Path, start_method: str) -> None:
    rows = good(300, seed=3)
    rows[250] = rows[10]  # exact duplicate across the two byte ranges
    rows[260] = chat(rows[20]["messages"][1]["content"], "Contradicting answer.")  # contradiction across ranges
    rows[270] = chat("q", "")  # error in the second range
    # the second range sees input 30 answered differently first, then a copy of row 31: one pass
    # calls the copy a duplicate only, never a contradiction of the later row
    rows[275] = chat(rows[30]["messages"][1]["content"], "A different answer.")
    rows[285] = rows[30]
    path = write(tmp_path, rows)
    one = lint_file(path, workers=1)
    two = lint_file(path, workers=2)
    assert two.extra["workers"] == 2 and two.rows == one.rows == 300
    key = lambda r: sorted((f.id, f.row, f.offset, f.message) for f in r.findings if f.row is not None)  # noqa: E731
    assert key(two) == key(one)
    found = {(f.id, f.row) for f in two.findings}
    assert {("W002", 251), ("W004", 261), ("E006", 271), ("W004", 276), ("W002", 286)} <= found
    assert ("W004", 286) not in found
    assert two.stats["duplicates"] == one.stats["duplicates"]
    assert two.stats["tokens"]["per_role"] == one.stats["tokens"]["per_role"]


def test_near_duplicates_from_spilled_band_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_method: str) -> None:
    """Band hashes spilled to the lint's temp dir (as a 1.5 GB file's are) find the same near duplicates,
    across the ranges of a parallel lint too, and the temp dir is gone afterwards."""
    import tempfile

    from ftui.data import dedup
    from ftui.data.lint import api

    rows = good(300, seed=8)
    for a, b in ((5, 40), (10, 250), (200, 290)):  # within range 0, across ranges, within range 1
        user, answer = rows[a]["messages"][1]["content"], rows[a]["messages"][2]["content"]
        rows[b] = chat(user, answer.rsplit(" ", 1)[0] + " zulu.")
    path = write(tmp_path, rows)
    kept = lint_file(path, workers=1)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(api, "SPILL_MIN_BYTES", 0)
    monkeypatch.setattr(dedup, "SPILL_BYTES", 2000)  # forked workers inherit it,
    monkeypatch.setenv("FTUI_NEAR_SPILL_BYTES", "2000")  # spawned ones read it at import
    read_back = []
    band_of = dedup._band_of
    monkeypatch.setattr(dedup, "_band_of", lambda part, band: read_back.append(isinstance(part, tuple)) or band_of(part, band))
    key = lambda r: sorted((f.id, f.row, f.message) for f in r.findings)  # noqa: E731
    for workers in (1, 2):
        read_back.clear()
        spilled = lint_file(path, workers=workers)
        assert spilled.extra["workers"] == workers and any(read_back)
        assert key(spilled) == key(kept)
        assert spilled.stats["duplicates"] == kept.stats["duplicates"]
    assert {("W003", 41), ("W003", 251), ("W003", 291)} <= {(f.id, f.row) for f in kept.findings}
    assert not list(temp.iterdir())


def test_a_lint_removes_the_temp_dirs_of_lints_that_were_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Data screen stops a lint by killing it, which leaves its temp dir (spilled band hashes,
    worker states); the next lint removes the dirs whose process is gone, never a live one's."""
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = tmp_path / f"ftui-lint-{int(done.stdout)}-abc"
    live = tmp_path / f"ftui-lint-{os.getpid()}-def"
    other = tmp_path / "ftui-lint-12345"  # not a name we make: left alone
    for d in (dead, live, other):
        d.mkdir()
        (d / "bands-x.u64").write_bytes(b"\0" * 64)
    made = parallel.temp_dir()
    assert not dead.exists() and live.exists() and other.exists()
    assert Path(made).name.startswith(f"ftui-lint-{os.getpid()}-")


@pytest.mark.parametrize("source", ["dirty.jsonl", "support_tickets_train.jsonl", "extraction_train.jsonl", "generated"])
def test_columnar_fast_path_equals_python_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    from ftui import paths

    if source == "generated":
        rows = good(150, seed=9) + [good(150, seed=9)[3]]  # an exact duplicate
        rows += [chat(rows[5]["messages"][1]["content"], "Another answer entirely.")]  # contradiction
        rows += [chat("Spam?", "Call me at (555) 123-4567.")]  # a suspect row in a fast batch
        rows += [chat(f"Label question {i}?", "yes") for i in range(30)]
        rows += [msgs(("system", SYS), ("user", "a"), ("assistant", "b is it."), ("user", "c?"), ("assistant", "Done now."))]
        # text the columnar path lowers and strips byte-wise must key exactly as str.lower/strip do
        rows += [chat("ΟΔΟΣ İstanbul \u212a?", "Ναι, ΟΔΟΣ."), chat("οδος i̇stanbul k?", "ναι, οδος.")]  # same once lowered
        rows += [chat("ΟΔΟΣ İstanbul \u212a?", "Όχι.")]  # a contradiction of the Greek row
        rows += [chat("Trailing space?", "  Yes it is.  "), chat("trailing space?", "yes it is.")]
        rows += [chat("Ideographic?", "Yes.\u3000"), chat("ideographic?", "Yes.")]
        rows += [chat("", "An answer to nothing."), chat("Fence?", "Use ```x``` here."), chat("Json?", " {\"a\": 1}")]
        # nulls the strict columnar schema still accepts: the planner must leave them to Python
        rows += [{"messages": None}, {"messages": [{"role": None, "content": "x"}, {"role": "assistant", "content": "Y."}]},
                 {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "Z."}]}]
        path = write(tmp_path, rows)
        evalp = write(tmp_path, [rows[7], chat("zzz", "Yyy.")], "eval.jsonl")
    else:
        path, evalp = paths.sample_data(source), paths.sample_data("dirty_eval.jsonl")
    monkeypatch.setattr(drive, "ARROW_MIN_BYTES", 0)  # use the RE2/pyarrow prefilter even on small files
    monkeypatch.setattr(drive, "BATCH_BYTES", 4096)  # many batches, some mixed
    from ftui.data.lint import fast as lint_fast

    used = []
    original = lint_fast.apply_plan
    monkeypatch.setattr(lint_fast, "apply_plan", lambda *a: used.append(len(a[3]["fidx"])) or original(*a))
    reports = {}
    for fast in (True, False):
        monkeypatch.setattr(drive, "FAST_PATH", fast)
        reports[fast] = lint_file(path, eval_path=evalp, workers=1)
    a, b = reports[True], reports[False]
    if source != "extraction_train.jsonl":  # JSON answers are never "plain prose": always the Python path
        assert sum(used) > 20  # the fast path really ran
    assert sorted((f.id, f.row, f.message) for f in a.findings) == sorted((f.id, f.row, f.message) for f in b.findings)
    for key in ("tokens", "labels", "duplicates", "turns_per_row", "roles"):
        assert a.stats[key] == b.stats[key], key


def test_a_row_the_columnar_schema_rejects_costs_only_its_part_of_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch pyarrow cannot read whole (one row with an extra key) is read again in parts:
    the rows of the other parts stay on the fast path, and the findings are the Python path's."""
    from ftui.data.lint import fast as lint_fast

    rows = good(300, seed=7)
    rows[150] = {**rows[150], "messages": [{**rows[150]["messages"][0], "weight": 1}, *rows[150]["messages"][1:]]}
    rows[200] = rows[10]
    path = write(tmp_path, rows)
    monkeypatch.setattr(drive, "ARROW_MIN_BYTES", 0)
    monkeypatch.setattr(drive, "BATCH_BYTES", 1 << 19)  # one batch for the whole file
    monkeypatch.setattr(lint_fast, "SPLIT_BYTES", 4096)
    monkeypatch.setattr(drive, "FAST_PATH", False)
    slow = lint_file(path, workers=1)
    monkeypatch.setattr(drive, "FAST_PATH", True)
    quick = lint_file(path, workers=1)
    assert 250 < quick.extra["fast_rows"] < 299
    assert [(f.id, f.row, f.message) for f in quick.findings] == [(f.id, f.row, f.message) for f in slow.findings]
    assert {"W013", "W002"} <= {f.id for f in quick.findings}


def test_parallel_workers_with_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_method: str) -> None:
    rows = good(400, seed=4)
    rows[350] = rows[10]
    rows[360] = chat(rows[20]["messages"][1]["content"], "Contradicting answer.")
    rows[370] = chat("q", "")
    rows[375] = chat(rows[30]["messages"][1]["content"], "A different answer.")
    rows[385] = rows[30]  # a copy after a contradiction, both in the second range (see above)
    path = write(tmp_path, rows)
    monkeypatch.setattr(drive, "FAST_PATH", False)
    slow = lint_file(path, workers=1)
    monkeypatch.setattr(drive, "FAST_PATH", True)
    monkeypatch.setattr(drive, "ARROW_MIN_BYTES", 0)  # forked workers inherit these,
    monkeypatch.setattr(drive, "BATCH_BYTES", 8192)
    monkeypatch.setenv("FTUI_LINT_ARROW_MIN_BYTES", "0")  # spawned ones read them at import
    monkeypatch.setenv("FTUI_LINT_BATCH_BYTES", "8192")
    fast = lint_file(path, workers=2)
    assert fast.extra["workers"] == 2 and fast.extra["fast_rows"] > 300 and slow.extra["fast_rows"] == 0
    key = lambda r: sorted((f.id, f.row, f.message) for f in r.findings)  # noqa: E731
    assert key(fast) == key(slow)
    assert ("W004", 386) not in {(f.id, f.row) for f in fast.findings}
    assert {("W002", 351), ("W004", 361), ("E006", 371)} <= {(f.id, f.row) for f in fast.findings}
    assert fast.stats["tokens"] == slow.stats["tokens"]


@pytest.mark.parametrize("fast_path", [True, False])
def test_this_process_lints_the_first_range_and_merges_by_text_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_path: bool, start_method: str
) -> None:
    # without near duplicates the caller lints range 0 itself: its keys (salted str hashes
    # would differ from the workers') must still meet the workers' in the merge
    rows = good(400, seed=5)
    rows[390] = rows[12]  # exact duplicate, first copy in this process's range
    rows[395] = chat(rows[22]["messages"][1]["content"], "Contradicting answer.")
    rows[396] = msgs(("system", "A different system prompt."), ("user", "u?"), ("assistant", "a."))
    for i in range(300, 345):  # one answer dominates, all of it in the worker's range: W010 quotes it
        rows[i] = chat(f"Question number {i}?", "Please Restart The Router And Try Again.")
    path = write(tmp_path, rows)
    monkeypatch.setattr(drive, "FAST_PATH", fast_path)
    monkeypatch.setattr(drive, "ARROW_MIN_BYTES", 0)
    monkeypatch.setattr(drive, "BATCH_BYTES", 8192)
    monkeypatch.setenv("FTUI_LINT_ARROW_MIN_BYTES", "0")
    monkeypatch.setenv("FTUI_LINT_BATCH_BYTES", "8192")
    monkeypatch.setattr(parallel, "HEAD_START_S", 0.0)  # an even split: the duplicate's original is in range 0
    monkeypatch.setattr(parallel, "HEAD_START_FORK_S", 0.0)
    one = lint_file(path, near_dups=False, workers=1)
    two = lint_file(path, near_dups=False, workers=2)
    assert two.extra["workers"] == 2
    key = lambda r: sorted((f.id, f.row, f.offset, f.message) for f in r.findings)  # noqa: E731
    assert key(two) == key(one)
    found = {(f.id, f.row) for f in two.findings}
    assert {("W002", 391), ("W004", 396), ("W010", None)} <= found
    assert any("Please Restart The Router" in f.message for f in two.findings if f.id == "W010")
    assert two.stats == one.stats


def test_the_lint_pass_never_imports_pandas(tmp_path: Path) -> None:
    # pyarrow's converters import pandas on first use (0.3-0.4 s in every lint process)
    path = write(tmp_path, good(300, seed=6))
    code = (
        "import sys; from ftui.data.lint import drive, lint_file; drive.ARROW_MIN_BYTES = 0; drive.BATCH_BYTES = 8192;"
        f"r = lint_file({str(path)!r}, near_dups=False, workers=1);"
        "assert r.extra['fast_rows'] > 250, r.extra; print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
