"""JSON / extraction metrics: JSON types are strict (true is not 1), an object task needs an object,
per-field accuracy strict and case/whitespace-normalised, and the per-field table in the report."""

from __future__ import annotations

import json

import pytest

from ftui.evaluate import metrics as M
from ftui.evaluate.items import EvalItem
from ftui.evaluate.results import field_lines
from ftui.evaluate.scoring import score_outputs


def test_bool_is_not_int() -> None:
    s = M.score_item('{"ok": 1}', '{"ok": true}', "json")
    assert (s.json_parse, s.json_valid, s.exact) == (1.0, 0.0, 0.0)
    s = M.score_item('{"ok": true}', '{"ok": true}', "json")
    assert (s.json_parse, s.json_valid, s.exact) == (1.0, 1.0, 1.0)
    assert not M.json_equal({"n": "1"}, {"n": 1})
    assert M.json_equal({"n": 1}, {"n": 1.0})  # one JSON number type
    assert not M.json_equal([True, 0], [1, False])


def test_a_bare_value_is_not_a_parsed_object() -> None:
    for output in ("42", '"text"', "[1, 2]", "null"):
        s = M.score_item(output, '{"a": 1}', "json")
        assert (s.json_parse, s.exact) == (0.0, 0.0), output
        assert s.fields == {"a": (0.0, 0.0, 0.0)}


def test_per_field_accuracy_strict_and_normalised() -> None:
    ref = {"name": "Ana Lima", "city": "Porto", "urgent": True, "order": 1234}
    out = {"name": "ana  lima ", "city": "Porto", "urgent": "true"}
    s = M.score_item(json.dumps(out), json.dumps(ref), "json")
    assert s.fields == {"name": (0.0, 1.0, 1.0), "city": (1.0, 1.0, 1.0), "urgent": (0.0, 0.0, 1.0),
                        "order": (0.0, 0.0, 0.0)}


def test_field_table_in_summary_and_report() -> None:
    refs = [{"name": "Ana", "urgent": True}, {"name": "Bo", "urgent": False}, {"name": "Cy", "urgent": True},
            {"name": "Di", "urgent": False}]
    items = [EvalItem(f"j{k}", ({"role": "user", "content": f"extract {k}"},), json.dumps(r))
             for k, r in enumerate(refs)]
    good = {it.id: json.dumps(r) for it, r in zip(items, refs, strict=True)}
    sloppy = {"j0": '{"name": "ANA", "urgent": 1}', "j1": '{"name": "Bo", "urgent": false}', "j2": "42",
              "j3": '{"name": " di ", "urgent": false}'}
    scored = score_outputs(items, {"base": sloppy, "tuned": good}, n_bootstrap=50)
    assert scored.task == "json"
    base = scored.metrics["base"]
    assert base.json_parse_rate == pytest.approx(0.75)  # the bare 42 does not count
    rows = {r.field: r for r in base.fields}
    assert (rows["name"].accuracy, rows["name"].accuracy_normalised, rows["name"].missing) == (0.25, 0.75, 1)
    assert (rows["urgent"].accuracy, rows["urgent"].accuracy_normalised) == (0.5, 0.5)  # 1 is not true
    assert all(r.accuracy == 1.0 for r in scored.metrics["tuned"].fields)
    lines = field_lines(scored.metrics)
    assert lines[0].startswith("per-field accuracy")
    assert any(line.split()[:1] == ["name"] and "0.25 / 0.75 / 1" in line and "1.00 / 1.00 / 0" in line
               for line in lines)
