"""Which prompts a DPO-vs-parent blind session uses (ftui.evaluate.parent_session): held out when the parent
has a test file, the voted session's (named in-sample) when not, and a clear refusal without a parent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.config import RunConfig, dump_config
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem
from ftui.evaluate.parent_session import ParentError, parent_comparison, votes_rater


def _run(directory: Path, **config) -> Path:  # noqa: ANN003
    directory.mkdir(parents=True)
    (directory / "events.jsonl").write_text('{"type": "finished", "t": 1}\n')
    (directory / "config.yaml").write_text(dump_config(RunConfig(**config)))
    (directory / "adapter").mkdir()
    return directory


def _chat(prompt: str, answer: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]})


def _pairs(path: Path, prompts: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"prompt": [{"role": "user", "content": p}],
                                        "chosen": [{"role": "assistant", "content": "yes"}],
                                        "rejected": [{"role": "assistant", "content": "no"}]}) + "\n" for p in prompts))
    return path


def test_held_out_prompts_are_the_parents_test_file_less_what_the_child_trained_on(tmp_path: Path) -> None:
    test = tmp_path / "test.jsonl"
    test.write_text("\n".join(_chat(f"q{i}", f"a{i}") for i in range(5)) + "\n")
    parent = _run(tmp_path / "runs" / "parent", eval_path=str(test))
    pairs = _pairs(tmp_path / "session" / "exports" / "ana-dpo_pairs.jsonl", ["q1", "q3"])
    child = _run(tmp_path / "runs" / "child", method="dpo", train_path=str(pairs), init_adapter=str(parent / "adapter"))
    found = parent_comparison(child)
    assert [it.prompt_text for it in found.items] == ["q0", "q2", "q4"] and not found.in_sample
    assert found.parent_dir == parent and found.rater == votes_rater(child) == "ana"
    assert found.systems == [f"parent=run:{parent}", f"dpo=run:{child}"]
    assert len(parent_comparison(child, limit=2).items) == 2


def test_without_a_test_file_the_voted_prompts_are_used_and_called_in_sample(tmp_path: Path) -> None:
    items = [EvalItem(f"t{i}", ({"role": "user", "content": f"q{i}"},), "x") for i in range(3)]
    BlindSession.create(tmp_path / "session", items, {"a": {i.id: "1" for i in items}, "b": {i.id: "2" for i in items}},
                        "ana", seed=1).close()
    parent = _run(tmp_path / "runs" / "parent", eval_path=None)
    pairs = _pairs(tmp_path / "session" / "exports" / "ana-dpo_pairs.jsonl", ["q0"])
    child = _run(tmp_path / "runs" / "child", method="dpo", train_path=str(pairs), init_adapter=str(parent / "adapter"))
    found = parent_comparison(child)
    assert found.in_sample and [it.id for it in found.items] == ["t0", "t1", "t2"] and "session" in found.source


def test_a_run_without_a_parent_is_refused_with_what_to_do(tmp_path: Path) -> None:
    lone = _run(tmp_path / "runs" / "lone", method="lora")
    with pytest.raises(ParentError, match="Evaluate"):
        parent_comparison(lone)
    orphan = _run(tmp_path / "runs" / "orphan", method="dpo", init_adapter=str(tmp_path / "gone" / "adapter"))
    with pytest.raises(ParentError, match="ftui eval session"):
        parent_comparison(orphan)
