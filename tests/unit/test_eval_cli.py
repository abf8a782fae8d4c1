"""``ftui eval ...`` end to end with two OpenAI-compatible systems served by a fake on 127.0.0.1
(no model to load, so these run in a second), plus every user error as one line, exit 2."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from ftui.cli import main
from tests.fakes.chat_server import FakeChatServer

LABELS = ["billing", "technical", "account", "other"]


def reply(body: dict) -> str:
    """'good' model answers the right label (from the ticket number), 'bad' always says 'billing';
    as a judge it prefers the answer that equals the reference."""
    text = body["messages"][-1]["content"]
    if body["model"] == "judge":
        ref = re.search(r"## Reference answer \(may be empty\)\n\n(.*?)\n\n", text, re.S).group(1)
        one = re.search(r"## Answer 1\n\n(.*?)\n\n## Answer 2", text, re.S).group(1)
        two = re.search(r"## Answer 2\n\n(.*?)\n\n", text, re.S).group(1)
        return "Verdict: 1" if one == ref and two != ref else "Verdict: 2" if two == ref and one != ref else "Verdict: tie"
    k = int(re.search(r"ticket (\d+)", text).group(1))
    return LABELS[k % 4] + "<|im_end|>" if body["model"] == "good" else "[bold]billing[/bold]"


@pytest.fixture
def server():
    with FakeChatServer(reply) as s:
        yield s


@pytest.fixture
def test_file(tmp_path: Path) -> Path:
    p = tmp_path / "test.jsonl"
    p.write_text("".join(json.dumps({"messages": [{"role": "system", "content": "Label."},
                                                  {"role": "user", "content": f"ticket {k}"},
                                                  {"role": "assistant", "content": LABELS[k % 4]}]}) + "\n"
                         for k in range(16)))
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def systems(server: FakeChatServer) -> list[str]:
    return ["--system", f"base=openai:bad@{server.base_url}", "--system", f"tuned=openai:good@{server.base_url}"]


def test_generate_and_metrics(capsys, server, test_file) -> None:
    code, out, _ = run(capsys, "eval", "generate", *systems(server), "--test", str(test_file))
    assert code == 0 and "base: 16/16 outputs (16 generated, 0 cached" in out
    code, out, _ = run(capsys, "eval", "metrics", *systems(server), "--test", str(test_file), "--cached-only",
                       "--bootstrap", "200")
    assert code == 0
    assert "tuned: n 16 · accuracy 1.000 · macro-F1 1.000" in out
    # strict labels: "[bold]billing[/bold]" is not a label, so every base answer is unparseable
    assert "base: n 16 · accuracy 0.000 · macro-F1 0.000 · unparseable 1.00" in out
    assert "McNemar p = 3.05e-05 (0 only base right, 16 only tuned right)" in out  # 2 / 2**16
    assert "[bold]billing[/bold]" in out  # model text printed literally in the worst items
    code, out, _ = run(capsys, "eval", "metrics", *systems(server), "--test", str(test_file), "--json", "--worst", "2")
    data = json.loads(out)
    assert data["task"] == "label" and data["systems"]["tuned"]["accuracy"] == 1.0
    assert data["comparisons"][0]["mcnemar_p"] == pytest.approx(2 / 2**16)
    assert len(data["worst"]["base"]) == 2
    also = test_file.with_name("also.jsonl")
    also.write_text(test_file.read_text().splitlines()[0] + "\n")
    code, out, _ = run(capsys, "eval", "metrics", *systems(server), "--test", str(test_file), "--also", str(also))
    assert code == 0 and "regression / edge set" in out and f"test {also} · 1 items" in out
    code, out, _ = run(capsys, "eval", "metrics", *systems(server), "--test", str(test_file), "--also", str(also),
                       "--json")
    assert json.loads(out)["also"][0]["systems"]["tuned"]["n"] == 1


def test_session_rate_unblind_report_export_judge(capsys, server, test_file, tmp_path, monkeypatch) -> None:
    code, out, _ = run(capsys, "eval", "session", *systems(server), "--test", str(test_file), "--rater", "ana",
                       "--name", "cli1", "--seed", "3")
    assert code == 0 and "session cli1: 16 items, 16 pairs" in out
    # the line rater: vote 3 times, a note, undo, then skip and quit
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n2\nn looks odd\n3\nu\n4\ns\nq\n"))
    code, out, _ = run(capsys, "eval", "rate", "cli1", "--rater", "ana")
    assert code == 0 and "saved: 4/16 done" in out
    assert "tuned" not in out and "base" not in out.replace("both bad", "")  # blind: no system names
    code, _, err = run(capsys, "eval", "report", "cli1")
    assert code == 2 and "no rater of cli1 has unblinded" in err
    code, _, err = run(capsys, "eval", "report", "cli1", "--rater", "ana")
    assert code == 2 and "has not unblinded" in err
    code, out, _ = run(capsys, "eval", "report", "cli1", "--rater", "ana", "--unblind", "--json")
    data = json.loads(out)
    pair = data["pairs"][0]
    assert (pair["system_a"], pair["system_b"]) == ("base", "tuned")
    assert pair["wins"] + pair["losses"] == 2 and pair["both_bad"] == 1 and pair["skipped"] == 1
    assert data["metric_comparisons"][0]["only_b_correct"] == 16
    code, out, _ = run(capsys, "eval", "report", "cli1")  # the only unblinded rater is picked
    assert code == 0 and "win rate (decisive)" in out
    for fmt in ("csv", "jsonl", "dpo"):
        code, out, _ = run(capsys, "eval", "export", "cli1", "--format", fmt, "-o", str(tmp_path / f"x.{fmt}"))
        assert code == 0 and (tmp_path / f"x.{fmt}").exists()
    assert len((tmp_path / "x.jsonl").read_text().splitlines()) == 4
    code, out, _ = run(capsys, "eval", "judge", *systems(server), "--test", str(test_file), "--judge-model", "judge",
                       "--judge-url", server.base_url, "--session", "cli1", "--json")
    data = json.loads(out)
    assert (data["wins"], data["losses"], data["ties"]) == (16, 0, 0)
    assert data["agreement_with_humans"]["n"] >= 1
    code, out, _ = run(capsys, "eval", "sessions")
    assert "cli1" in out and "ana" in out
    code, _, err = run(capsys, "eval", "rate", "cli1", "--rater", "ana")
    assert code == 2 and "unblinded" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "generate", "--system", "base", "--test", "missing.jsonl"], "does not exist"),
        (["eval", "generate", "--system", "gpt9", "--test", "{test}"], "unknown system"),
        (["eval", "generate", "--system", "fewshot:2", "--test", "{test}"], "--train"),
        (["eval", "generate", "--system", "fewshot:x", "--test", "{test}", "--train", "{test}"], "whole number"),
        (["eval", "generate", "--system", "run:nope", "--test", "{test}"], "not found"),
        (["eval", "generate", "--system", "base", "--test", "{test}", "--batch-size", "0"], "--batch-size"),
        (["eval", "generate", "--system", "base", "--system", "base", "--test", "{test}"], "share a name"),
        (["eval", "session", "--system", "base", "--test", "{test}", "--rater", "ana"], "at least two"),
        (["eval", "session", "--system", "base", "--system", "fewshot:1", "--train", "{test}", "--test", "{test}",
          "--rater", "a/b"], "rater name"),
        (["eval", "report", "nope"], "not found"),
        (["eval", "export", "nope", "--format", "csv"], "not found"),
        (["eval", "judge", "--system", "base", "--test", "{test}", "--judge-model", "j"], "exactly two"),
        (["eval", "metrics", "--system", "base", "--test", "{bad}"], "not valid JSON"),
    ],
)
def test_user_errors_are_one_line(capsys, test_file, tmp_path, argv, message) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    argv = [a.replace("{test}", str(test_file)).replace("{bad}", str(bad)) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_hub_model_that_is_not_cached_offline_is_one_line_with_the_fix(capsys, test_file) -> None:
    """The one resolver (ftui.models.source) answers before any weights load: names the system and 'hf download'."""
    code, _, err = run(capsys, "eval", "generate", "--system", "base", "--model", "some-org/not-cached",
                       "--test", str(test_file))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "base: " in err and "HF_HUB_OFFLINE" in err and "hf download some-org/not-cached" in err


def test_missing_api_key_for_remote_endpoint(capsys, test_file, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, _, err = run(capsys, "eval", "generate", "--system", "openai:gpt-4o-mini", "--test", str(test_file))
    assert code == 2 and "OPENAI_API_KEY" in err


def test_line_rater_flag_diff_and_note_surviving_undo(capsys, server, test_file, monkeypatch) -> None:
    from ftui import paths

    code, _, _ = run(capsys, "eval", "session", *systems(server), "--test", str(test_file), "--rater", "ana",
                     "--name", "cli2")
    assert code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("n why this\nf\n1\nu\nd\n2\nq\n"))
    code, out, _ = run(capsys, "eval", "rate", "cli2", "--rater", "ana")
    assert code == 0 and "flagged" in out and "word diff on" in out and "»" in out
    assert "tuned" not in out and "bad" not in out.replace("both bad", "")
    records = [json.loads(line) for line in
               (paths.sessions_dir() / "cli2" / "raters" / "ana" / "votes.jsonl").read_text().splitlines()]
    votes = [r for r in records if r["type"] == "vote" and r["choice"] != "identical"]
    assert [r["type"] for r in records if r["type"] != "vote" or r["choice"] != "identical"] == ["vote", "undo", "vote"]
    assert votes[-1]["choice"] == "right" and votes[-1]["note"] == "why this" and votes[-1]["flags"] == ["flag"]
