"""The judge sees the whole conversation and the reference, counts parse failures on their own,
caches every single-order verdict so an interrupted run resumes without re-asking, runs requests
concurrently, estimates tokens and cost first, and reports judge-human agreement (κ and the
confusion table) in the session results and 'ftui eval report'."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from ftui.evaluate import judge as J
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem
from ftui.evaluate.results import results_text
from tests.fakes.chat_server import FakeChatServer


def _answers(body: dict) -> tuple[str, str]:
    text = body["messages"][-1]["content"]
    one = re.search(r"## Answer 1\n\n(.*?)\n\n## Answer 2", text, re.S).group(1)
    two = re.search(r"## Answer 2\n\n(.*?)\n\n", text, re.S).group(1)
    return one, two


def prefers_good(body: dict) -> str:
    one, two = _answers(body)
    if "mumble" in one + two:
        return "Both have merit; hard to say."  # no verdict line: a parse failure
    return "Verdict: 1" if "good" in one else "Verdict: 2" if "good" in two else "Verdict: tie"


def _items(n: int) -> list[EvalItem]:
    return [EvalItem(f"i{k}", ({"role": "system", "content": f"Answer in French, ticket {k}."},
                               {"role": "user", "content": f"question {k}"}), f"ref {k}") for k in range(n)]


def _outputs(n: int) -> dict[str, dict[str, str]]:
    return {"base": {f"i{k}": f"bad {k}" for k in range(n)}, "ft": {f"i{k}": f"good {k}" for k in range(n)}}


def test_judge_sees_system_prompt_turns_and_reference() -> None:
    with FakeChatServer(prefers_good) as server:
        judge = J.Judge("jm", base_url=server.base_url)
        J.run_judge(judge, _items(1), _outputs(1), "base", "ft", concurrency=1)
        content = server.requests[0]["messages"][0]["content"]
    assert "[system]\nAnswer in French, ticket 0." in content and "[user]\nquestion 0" in content
    assert "ref 0" in content


def test_parse_failures_are_their_own_count_not_ties() -> None:
    outputs = _outputs(4)
    outputs["ft"]["i2"] = "mumble"
    with FakeChatServer(prefers_good) as server:
        res = J.run_judge(J.Judge("jm", base_url=server.base_url), _items(4), outputs, "base", "ft")
    summary = res.summary()
    assert (summary["wins"], summary["ties"], summary["parse_failures"], summary["inconsistent"]) == (3, 0, 1, 0)
    assert {v.item_id: v.verdict for v in res.verdicts}["i2"] == "failed"


def test_interrupted_run_resumes_without_re_asking(tmp_path: Path) -> None:
    n = 10
    items, outputs = _items(n), _outputs(n)
    cache_path = tmp_path / "judge" / "verdicts.jsonl"
    cancel = threading.Event()

    def stop_at_half(done: int, total: int) -> None:
        if done >= total // 2:
            cancel.set()

    with FakeChatServer(prefers_good) as server:
        judge = J.Judge("jm", base_url=server.base_url)
        first = J.run_judge(judge, items, outputs, "base", "ft", cancel=cancel, progress=stop_at_half,
                            cache=J.VerdictCache(cache_path), concurrency=2)
        assert first.cancelled and n // 2 <= len(first.verdicts) < n
        asked_first = len(server.requests)
        assert asked_first == 2 * len(first.verdicts) and first.asked == asked_first
        cache = J.VerdictCache(cache_path)  # a new process: the cache file is all it has
        est = J.estimate(judge, items, outputs, "base", "ft", cache)
        assert (est.cached, est.requests) == (asked_first, 2 * n - asked_first)
        second = J.run_judge(judge, items, outputs, "base", "ft", cache=cache, concurrency=3)
        assert len(server.requests) == 2 * n  # every (item, order) asked exactly once over both runs
        asked = [(_answers(r)[0], r["messages"][0]["content"]) for r in server.requests]
        assert len(set(asked)) == 2 * n
    assert not second.cancelled and len(second.verdicts) == n
    assert second.reused == asked_first and second.asked == 2 * n - asked_first
    assert all(v.verdict == "b" and v.consistent for v in second.verdicts)
    # a different judge model or template is a different key: nothing reused
    other = J.Judge("other-model", base_url="http://127.0.0.1:9/v1", client=object())
    assert J.estimate(other, items, outputs, "base", "ft", cache).cached == 0


def test_estimate_counts_tokens_and_cost_before_the_run() -> None:
    items, outputs = _items(3), _outputs(3)
    judge = J.Judge("jm", base_url="http://127.0.0.1:9/v1", client=object(), max_tokens=100)
    est = J.estimate(judge, items, outputs, "base", "ft", price_in=2.0, price_out=8.0)
    chars = sum(len(judge.content(it, a, b)) for it in items
                for a, b in ((outputs["base"][it.id], outputs["ft"][it.id]), (outputs["ft"][it.id], outputs["base"][it.id])))
    assert est.requests == 6 and est.prompt_tokens == -(-chars // 4) and est.output_tokens == 600
    assert est.cost == pytest.approx((est.prompt_tokens * 2.0 + 600 * 8.0) / 1e6)
    assert "6 requests to send" in est.line()


def test_an_endpoint_error_keeps_the_other_verdicts(tmp_path: Path) -> None:
    import openai

    class Melted(openai.APIError):
        def __init__(self) -> None:
            Exception.__init__(self, "server melted")

    class Flaky:
        """A client whose request for item i1 fails (after the client's own retries)."""

        def __init__(self) -> None:
            self.chat = self
            self.completions = self

        def create(self, **kw):  # noqa: ANN003, ANN201
            if "question 1" in kw["messages"][0]["content"]:
                raise Melted
            one = re.search(r"## Answer 1\n\n(.*?)\n\n", kw["messages"][0]["content"], re.S).group(1)
            text = "Verdict: 1" if "good" in one else "Verdict: 2"
            return type("R", (), {"choices": [type("C", (), {"message": type("M", (), {"content": text})()})()]})()

    cache = J.VerdictCache(tmp_path / "v.jsonl")
    res = J.run_judge(J.Judge("jm", client=Flaky(), template=J.load_template()), _items(4), _outputs(4), "base",
                      "ft", cache=cache)
    assert [v.item_id for v in res.verdicts] == ["i0", "i2", "i3"]
    assert len(res.errors) == 1 and "server melted" in res.errors[0]
    assert len(J.read_records(tmp_path / "v.jsonl")) == 6


def test_judge_human_agreement_in_session_results_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from ftui.commands import evaluate as cli

    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(tmp_path / "sessions"))
    n = 6
    items, outputs = _items(n), _outputs(n)
    directory = tmp_path / "sessions" / "s"
    s = BlindSession.create(directory, items, outputs, "ana", seed=4, base_system="base")
    human = {"i0": "ft", "i1": "ft", "i2": "ft", "i3": "base", "i4": "tie", "i5": "ft"}
    while (pair := s.current()) is not None:
        t = s.tasks[pair.task]
        want = human[pair.item_id]
        s.vote("tie" if want == "tie" else "left" if t.left == want else "right")
    s.unblind()
    s.close()
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    with FakeChatServer(prefers_good) as server:
        args = parser.parse_args(["eval", "judge", "--session", "s", "--judge-model", "jm", "--judge-url",
                                  server.base_url, "--price-in", "1", "--price-out", "2"])
        assert args.func(args) == 0
        assert len(server.requests) == 2 * n
        assert args.func(args) == 0  # a rerun: everything cached
        assert len(server.requests) == 2 * n
    out, err = capsys.readouterr()
    assert "judge estimate: 6 items · 12 requests to send (0 cached)" in err
    assert "0 requests to send (12 cached)" in err and "12 verdicts reused" in out
    assert not re.search(r"\bft\b|\bbase\b", out)  # no result by system before an unblind
    with BlindSession(directory, "ana") as again:
        res = again.results()
    (ag,) = res.extra["judge_agreement"]
    # judge: b on all 6; humans: b on 4, a on 1, tie on 1 -> agreement 4/6, kappa 0 (judge uses one label)
    assert ag["judge"] == "jm" and ag["n"] == 6 and ag["agreement"] == pytest.approx(4 / 6)
    assert ag["confusion"]["b"]["b"] == 4 and ag["confusion"]["a"]["b"] == 1 and ag["confusion"]["tie"]["b"] == 1
    assert ag["kappa"] == pytest.approx(0.0)
    assert "judge jm vs humans: kappa 0.00 · agreement 0.67 on 6 votes" in results_text(res)
    args = parser.parse_args(["eval", "report", "s", "--rater", "ana"])
    assert args.func(args) == 0
    assert "judge jm vs humans: kappa 0.00" in capsys.readouterr().out
