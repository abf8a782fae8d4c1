"""Automatic metrics and the output normaliser."""

from __future__ import annotations

import pytest

from ftui.evaluate import metrics as M
from ftui.evaluate.normalize import normalize_output


def test_normaliser_strips_template_remnants_only() -> None:
    assert normalize_output("billing<|im_end|>\n<|im_start|>user\nmore") == "billing"
    assert normalize_output("<|im_start|>assistant\nbilling  \n") == "billing"
    assert normalize_output("Assistant: hello there</s>") == "hello there"
    assert normalize_output("[INST] x [/INST] answer") == "x  answer"
    assert normalize_output("line one   \r\nline two\t\n\n") == "line one\nline two"
    assert normalize_output("<|pad|><|pad|>ok", ["<|pad|>"]) == "ok"
    assert normalize_output("[red]not markup[/red] \x1b[31m") == "[red]not markup[/red] \x1b[31m"
    assert normalize_output("") == ""
    # words inside the answer are never touched
    assert normalize_output('{"assistant": "model"}') == '{"assistant": "model"}'


def test_exact_match_normalisation_is_stated_and_applied() -> None:
    assert M.exact_match("  Billing. ", "billing")
    assert M.exact_match('"billing"', "billing")
    assert M.exact_match("BILLING!<|im_end|>", "billing")
    assert not M.exact_match("billing issue", "billing")
    assert M.answer_key("Straße  X") == "strasse x"  # Unicode case folding


def test_label_parsing_is_strict_with_unparseable() -> None:
    labels = ["billing", "technical", "feature_request"]
    assert M.label_of("Feature request", labels) == "feature_request"
    assert M.label_of("feature-request.", labels) == "feature_request"
    assert M.label_of("I think billing", labels) == M.UNPARSEABLE
    assert M.label_of("", labels) == M.UNPARSEABLE


def test_macro_f1_with_unparseable_class() -> None:
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", M.UNPARSEABLE, "c"]
    # a: tp1 pred1 sup2 -> f1 = 2/3 ; b: tp1 pred2 sup2 -> 2/4 = 0.5 ; c: tp1 pred1 sup1 -> 1
    # macro over reference classes = (2/3 + 1/2 + 1)/3 = 0.7222 ; unparseable is a row, not averaged
    rep = M.classification_report(pred, gold, ["a", "b", "c"])
    assert rep.macro_f1 == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert rep.accuracy == pytest.approx(3 / 5)
    assert rep.unparseable == 1
    rows = {r.label: r for r in rep.rows}
    assert rows["b"].precision == pytest.approx(0.5) and rows["b"].recall == pytest.approx(0.5)
    assert rows[M.UNPARSEABLE].predicted == 1 and rows[M.UNPARSEABLE].support == 0


def test_rouge_l_unicode_tokenizer() -> None:
    assert M.tokenize("Héllo, wörld! 東京タワー 123") == ["héllo", "wörld", "東", "京", "タ", "ワ", "ー", "123"]
    assert M.rouge_l_f1("the cat sat on the mat", "the cat sat on the mat") == 1.0
    # LCS("the cat was on mat", "the cat sat on the mat") = the cat on mat = 4 ; P = 4/5, R = 4/6 -> F = 8/11
    assert M.rouge_l_f1("the cat was on mat", "the cat sat on the mat") == pytest.approx(8 / 11)
    # CJK: chars are tokens; LCS(我爱北京, 我爱上海) = 我爱 -> P = R = 1/2
    assert M.rouge_l_f1("我爱北京", "我爱上海") == pytest.approx(0.5)
    assert M.rouge_l_f1("Привет мир", "привет МИР") == 1.0
    assert M.rouge_l_f1("", "") == 1.0 and M.rouge_l_f1("x", "") == 0.0


def test_json_parse_and_schema_valid() -> None:
    ref = '{"name": "Ana", "amount": 12.5, "currency": null, "priority": "high"}'
    good = '```json\n{"priority": "high", "name": "Ana", "amount": 12, "currency": "EUR"}\n```'
    wrong_type = '{"name": "Ana", "amount": "12", "currency": null, "priority": "high"}'
    missing = '{"name": "Ana"}'
    s = M.score_item(good, ref, "json")
    assert (s.json_parse, s.json_valid, s.exact) == (1.0, 1.0, 0.0)
    assert M.score_item(wrong_type, ref, "json").json_valid == 0.0
    assert M.score_item(missing, ref, "json").json_valid == 0.0
    bad = M.score_item("{name: Ana", ref, "json")
    assert (bad.json_parse, bad.json_valid) == (0.0, 0.0)
    same = M.score_item('{"priority":"high","name":"Ana","amount":12.5,"currency":null}', ref, "json")
    assert same.exact == 1.0  # parsed equality: key order and spacing do not matter


def test_detect_task() -> None:
    assert M.detect_task(["billing", "other", "billing"]) == "label"
    assert M.detect_task(['{"a": 1}', '{"a": 2}']) == "json"
    assert M.detect_task(["A long free-form answer about things.", "Another different answer here, long."]) == "text"


def test_system_metrics_and_paired_comparison() -> None:
    refs = {f"i{k}": ["billing", "technical", "other"][k % 3] for k in range(12)}
    good = dict(refs)
    bad = {k: ("billing" if n % 2 else "no idea") for n, k in enumerate(refs)}
    a = M.score_system("base", bad, refs)
    b = M.score_system("ft", good, refs)
    assert a.task == "label" and a.labels == ["billing", "technical", "other"]
    ma, mb = M.summarize(a), M.summarize(b)
    assert mb.accuracy == 1.0 and mb.macro_f1 == 1.0
    # bad: right only where it says billing and the gold is billing: items 1,3,5,7,9,11 say billing; gold billing at 3, 9
    assert ma.accuracy == pytest.approx(2 / 12)
    assert ma.unparseable_rate == pytest.approx(0.5)
    cmp_ = M.compare(a, b, n_bootstrap=200)
    assert (cmp_.only_a_correct, cmp_.only_b_correct) == (0, 10)
    assert cmp_.mcnemar_p == pytest.approx(2 / 2**10)
    assert cmp_.accuracy_diff.diff == pytest.approx(10 / 12)
    assert cmp_.accuracy_diff.low > 0
    assert cmp_.macro_f1_diff is not None and cmp_.macro_f1_diff.diff > 0.5
    worst = M.worst_items(a, k=3)
    assert [score for _, score in worst] == [0.0, 0.0, 0.0]
    assert M.worst_items(a, "exact", k=3) == worst  # labels: the primary metric is exact match
    assert M.worst_items(a, "json_valid") == []  # does not apply to labels: no rows, not inf scores
    with pytest.raises(ValueError, match="unknown metric"):
        M.worst_items(a, "bleu")
    assert mb.avg_length_words == pytest.approx(1.0)


def test_the_bit_parallel_lcs_equals_the_dynamic_programme() -> None:
    """ROUGE-L's LCS is computed bit-parallel; it must equal the textbook O(n·m) table on every
    input, both argument orders, repeated tokens and empty sides included."""
    import random

    def table(a: list[str], b: list[str]) -> int:
        previous = [0] * (len(b) + 1)
        for x in a:
            current = [0]
            for j, y in enumerate(b):
                current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
            previous = current
        return previous[-1]

    rng = random.Random(3)
    for _ in range(3000):
        alphabet = rng.randint(1, 8)
        a = [str(rng.randint(0, alphabet)) for _ in range(rng.randint(0, 40))]
        b = [str(rng.randint(0, alphabet)) for _ in range(rng.randint(0, 40))]
        assert M._lcs_length(a, b) == table(a, b) == M._lcs_length(b, a)
    long_a = [str(rng.randint(0, 50)) for _ in range(300)]
    long_b = [str(rng.randint(0, 50)) for _ in range(250)]
    assert M._lcs_length(long_a, long_b) == table(long_a, long_b)
