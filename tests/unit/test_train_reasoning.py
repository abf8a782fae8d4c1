"""Reasoning at train time follows the documented option (``reasoning: keep | drop``, as ``ftui data convert
--reasoning``): kept, it reaches the chat template as ``reasoning_content`` and trains as the template renders
it (Qwen3: a ``<think>`` block before the answer); dropped, only the answer trains. It was dropped silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.config import RunConfig, check_fields, dump_config, load_config_text

DATA = "sample_data/chat_reasoning.jsonl"
FIRST_REASONING = "Three hours are 180 minutes and half an hour is 30 more."
FIRST_ANSWER = "210 minutes: 3 x 60 = 180, plus 30."


def prepared_texts(model: Path, data: str, **kw) -> list[tuple[str, str]]:
    """(prompt, trained text) of each prepared row, as SFTTrainer would get them."""
    from transformers import AutoTokenizer

    from ftui.train.dataset import build_datasets
    from ftui.train.masking import prepare_datasets

    tokenizer = AutoTokenizer.from_pretrained(model)
    config = RunConfig(model=str(model), train_path=data, eval_path=None, eval_fraction=0, **kw)
    train, _, loaded = build_datasets(config)
    plan, prepared, _ = prepare_datasets(config, tokenizer, loaded.kind, train, None, loaded)
    assert plan.path == "prompt_completion"  # Qwen3's template has no generation markers: ftui renders each turn
    out = []
    for row in prepared:
        ids, mask = row["input_ids"], row["completion_mask"]
        out.append((tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m]),
                    tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])))
    return out


def test_kept_reasoning_trains_in_qwen3s_think_block(family_model) -> None:
    rows = prepared_texts(family_model("qwen3"), DATA)  # keep is the default, as for 'ftui data convert'
    prompt, trained = rows[0]
    assert trained == f"<think>\n{FIRST_REASONING}\n</think>\n\n{FIRST_ANSWER}<|im_end|>"
    assert prompt.endswith("<|im_start|>assistant\n") and "<think>" not in prompt
    _, second = rows[1]  # the reasoning_content field form of the dialect, not only reasoning parts
    assert second.startswith("<think>\nJupiter is about eleven times wider") and second.endswith("Jupiter.<|im_end|>")


def test_dropped_reasoning_trains_the_answer_only(family_model) -> None:
    rows = prepared_texts(family_model("qwen3"), DATA, reasoning="drop")
    prompt, trained = rows[0]
    assert trained == f"{FIRST_ANSWER}<|im_end|>"
    assert FIRST_REASONING not in prompt and prompt.endswith("<think>\n\n</think>\n\n")  # Qwen3's empty block, untrained


def test_reasoning_survives_a_first_row_without_any(family_model, tmp_path: Path) -> None:
    """The Arrow table's message columns come from every row: a later row's reasoning is not cut off."""
    lines = Path(DATA).read_text(encoding="utf-8").splitlines()
    plain = {"messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi."}]}
    data = tmp_path / "mixed.jsonl"
    data.write_text("\n".join([json.dumps(plain), *lines]) + "\n", encoding="utf-8")
    rows = prepared_texts(family_model("qwen3"), str(data))
    assert rows[0][1].endswith("Hi.<|im_end|>") and f"<think>\n{FIRST_REASONING}" in rows[1][1]


def test_the_option_is_checked_and_round_trips() -> None:
    assert RunConfig().reasoning == "keep"
    assert load_config_text(dump_config(RunConfig(reasoning="drop"))).reasoning == "drop"
    found = {p.field: p for p in check_fields(RunConfig(reasoning="hide"))}
    assert "not a policy" in found["reasoning"].message and "keep" in found["reasoning"].fix


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_the_loader_follows_the_option(policy: str) -> None:
    from ftui.train.dataset import load_examples

    loaded = load_examples(DATA, keep_reasoning=policy == "keep")
    answer = loaded.rows[0]["messages"][1]
    assert answer["content"] == FIRST_ANSWER
    assert answer.get("reasoning_content") == (FIRST_REASONING if policy == "keep" else None)
