"""LLM-as-judge (both orders, inconsistency = tie, editable template, agreement) and OpenAI-compatible
generation, through the real ``openai`` client against a fake server on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftui.evaluate import judge as J
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.generate import GenerationConfig, generate
from ftui.evaluate.items import EvalItem
from ftui.evaluate.systems import parse_system
from tests.fakes.chat_server import FakeChatServer


def _answers(body: dict) -> tuple[str, str]:
    text = body["messages"][-1]["content"]
    one = re.search(r"## Answer 1\n\n(.*?)\n\n## Answer 2", text, re.S).group(1)
    two = re.search(r"## Answer 2\n\n(.*?)\n\n", text, re.S).group(1)
    return one, two


def judge_reply(body: dict) -> str:
    """Prefers the answer containing 'good'; for items with 'biased' in the answers it always says 1
    (position bias, which the swap must turn into a tie)."""
    one, two = _answers(body)
    if "biased" in one + two:
        return "Answer 1 looks fine.\nVerdict: 1"
    if "good" in one and "good" not in two:
        return "Reasoning...\nVerdict: 1"
    if "good" in two and "good" not in one:
        return "Verdict: 2"
    return "Verdict: tie"


def _items(n: int) -> list[EvalItem]:
    return [EvalItem(f"i{k}", ({"role": "user", "content": f"question {k}"},), f"ref {k}") for k in range(n)]


def test_parse_and_render() -> None:
    assert J.parse_verdict("blah\nVerdict: 2") == "2"
    assert J.parse_verdict("Verdict: 1 ... actually\n**Verdict:** tie") == "tie"
    assert J.parse_verdict("2") == "2"
    assert J.parse_verdict("no idea") is None
    t = "P={prompt} 1={output_1} 2={output_2}"
    # an answer containing a placeholder is not substituted again
    assert J.render(t, "p", "{output_2}", "x") == "P=p 1={output_2} 2=x"
    assert J.combine("1", "2") == ("a", True)
    assert J.combine("1", "1") == ("tie", False)
    assert J.combine("tie", "tie") == ("tie", True)
    assert J.combine(None, "2") == ("failed", False)  # no verdict is not a tie


def test_template_file_is_editable_and_checked(tmp_path: Path) -> None:
    assert "{output_1}" in J.load_template()
    bad = tmp_path / "judge.md"
    bad.write_text("Which is better? {output_1}")
    with pytest.raises(J.JudgeError, match=r"\{prompt\}"):
        J.load_template(bad)
    with pytest.raises(J.JudgeError, match="cannot read"):
        J.load_template(tmp_path / "missing.md")


def test_judge_both_orders_and_agreement_with_humans(tmp_path: Path) -> None:
    items = _items(6)
    outputs = {
        "base": {"i0": "bad", "i1": "bad", "i2": "good one", "i3": "biased a", "i4": "same", "i5": "bad"},
        "ft": {"i0": "good", "i1": "good", "i2": "bad", "i3": "biased b", "i4": "same!", "i5": "good"},
    }
    custom = tmp_path / "judge.md"
    custom.write_text("Q: {prompt}\nRef: {reference}\n## Answer 1\n\n{output_1}\n\n## Answer 2\n\n{output_2}\n\nend")
    with FakeChatServer(judge_reply) as server:
        judge = J.Judge("judge-model", base_url=server.base_url, template=J.load_template(custom))
        res = J.run_judge(judge, items, outputs, "base", "ft", out_path=tmp_path / "verdicts.jsonl")
        assert len(server.requests) == 12  # both orders for each of 6 items
        assert any(r["messages"][0]["content"].startswith("Q: question 0\nRef: ref 0") for r in server.requests)
    got = {v.item_id: v.verdict for v in res.verdicts}
    assert got == {"i0": "b", "i1": "b", "i2": "a", "i3": "tie", "i4": "tie", "i5": "b"}
    assert [v.consistent for v in res.verdicts] == [True, True, True, False, True, True]
    summ = res.summary()
    assert (summ["wins"], summ["losses"], summ["ties"], summ["inconsistent"]) == (3, 1, 2, 1)
    assert len((tmp_path / "verdicts.jsonl").read_text().splitlines()) == 6

    # human votes: agree on i0, i1, i2, disagree on i5 (human: a), tie on i4 (agree), i3 human b (disagree)
    s = BlindSession.create(tmp_path / "s", items, outputs, "ana", base_system="base")
    want = {"i0": "b", "i1": "b", "i2": "a", "i3": "b", "i4": "tie", "i5": "a"}
    while (pair := s.current()) is not None:
        t = s.tasks[pair.task]
        w = want[pair.item_id]
        if w == "tie":
            s.vote("tie")
        else:
            system = t.pair[0] if w == "a" else t.pair[1]
            s.vote("left" if t.left == system else "right")
    agreement = J.agreement_with_humans(res.verdicts, s.votes())
    # human a2 b3 tie1 ; judge a1 b3 tie2 ; agree on 4 of 6 -> p_o = 4/6
    # p_e = (2*1 + 3*3 + 1*2)/36 = 13/36 ; kappa = (24/36 - 13/36)/(23/36) = 11/23
    assert agreement["n"] == 6
    assert agreement["agreement"] == pytest.approx(4 / 6)
    assert agreement["kappa"] == pytest.approx(11 / 23)


def test_openai_compatible_system_generates_through_real_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeChatServer(lambda body: "billing<|im_end|> trailing") as server:
        spec = parse_system(f"openai:served-model@{server.base_url}")
        res = generate(spec, _items(3), GenerationConfig(max_new_tokens=5, batch_size=2))
        assert res.outputs == {"i0": "billing", "i1": "billing", "i2": "billing"}
        assert server.requests[0]["model"] == "served-model" and server.requests[0]["max_tokens"] == 5
        again = generate(spec, _items(3), GenerationConfig(max_new_tokens=5, batch_size=2))
        assert again.cached == 3 and len(server.requests) == 3
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    with FakeChatServer(lambda body: "ok") as server:
        generate(parse_system(f"openai:m@{server.base_url}"), _items(1), use_cache=False)
        assert server.auth[0] == "Bearer sk-test-123"


def test_missing_key_for_remote_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.evaluate.systems import SystemError_, openai_api_key

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SystemError_, match="OPENAI_API_KEY"):
        openai_api_key("https://api.example.com/v1")


def test_pipeline_generates_all_systems_and_opens_a_session(tmp_path: Path) -> None:
    import threading

    from ftui.evaluate import pipeline

    items = _items(5)
    with FakeChatServer(lambda body: f"{body['model']} says hi") as server:
        specs = [parse_system(f"a=openai:m1@{server.base_url}"), parse_system(f"b=openai:m2@{server.base_url}")]
        seen: list[tuple[str, int, int]] = []
        s = pipeline.create_session(tmp_path / "p", specs, items, "ana", seed=1,
                                    config=GenerationConfig(batch_size=2), progress=lambda *a: seen.append(a))
        assert s is not None and s.plan.systems == ["a", "b"] and s.plan.base_system == "a"
        assert ("a", 5, 5) in seen and ("b", 5, 5) in seen
        assert {s.current().output_left, s.current().output_right} == {"m1 says hi", "m2 says hi"}
        s.close()
        cancel = threading.Event()
        cancel.set()
        specs2 = [parse_system(f"c=openai:m3@{server.base_url}"), parse_system(f"d=openai:m4@{server.base_url}")]
        assert pipeline.create_session(tmp_path / "q", specs2, items, "ana", cancel=cancel) is None
        res = pipeline.generate_all(specs, items)
        scored = pipeline.score_all(res, items)
        assert set(scored.scores) == {"a", "b"} and scored.scores["a"].task == "text"
