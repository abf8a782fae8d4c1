"""The regression sets we ship for evaluation: general prompts and ticket edge cases."""

from __future__ import annotations

import json

from ftui import paths
from ftui.evaluate.items import load_items
from ftui.evaluate.metrics import detect_task, labels_from

LABELS = {"billing", "technical", "account", "feature_request", "other"}


def test_general_prompts_are_short_answer_items() -> None:
    items = load_items(paths.sample_data("general_prompts.jsonl"))
    assert 18 <= len(items) <= 30
    assert all(it.reference and len(it.reference) <= 40 for it in items)
    assert len({it.prompt_text for it in items}) == len(items)
    assert detect_task([it.reference for it in items]) == "text"  # scored by exact match and ROUGE-L


def test_edge_tickets_use_the_task_labels_and_prompt_and_do_not_leak_from_train() -> None:
    items = load_items(paths.sample_data("support_tickets_edge.jsonl"))
    assert 18 <= len(items) <= 30
    assert set(labels_from([it.reference for it in items])) <= LABELS
    train = [json.loads(line) for line in paths.sample_data("support_tickets_train.jsonl").open(encoding="utf-8")]
    system = train[0]["messages"][0]["content"]
    assert all(it.system_text == system for it in items)
    train_prompts = {r["messages"][1]["content"] for r in train}
    assert not any(it.prompt_text in train_prompts for it in items)
    rows = [json.loads(line) for line in paths.sample_data("support_tickets_edge.jsonl").open(encoding="utf-8")]
    assert all(r.get("edge_case") for r in rows)  # each row says what it probes


def test_a_preference_file_as_a_test_split_is_named_as_such_with_the_fix() -> None:
    """It said "line 1: no 'messages', 'conversations', 'prompt' or 'instruction' field" on a file that has them."""
    import pytest

    from ftui.evaluate.items import ItemsError

    for name in ("preference_paired.jsonl", "preference_unpaired.jsonl", "support_tickets_pairs.jsonl"):
        with pytest.raises(ItemsError) as caught:
            load_items(paths.sample_data(name))
        message = str(caught.value)
        assert message.startswith(f"{name} holds preference data") and "support_tickets_test.jsonl" in message
    assert load_items(paths.sample_data("support_tickets_test.jsonl"), limit=3)  # a test split still reads
