"""Every supported format becomes chat messages (or stays text) for the trainer."""

from __future__ import annotations

import json

import pytest

from ftui.train.dataset import DataError, load_examples, to_example


def write(tmp_path, rows, name="d.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(path)


def test_sample_files_load_as_chat():
    for name, fmt in (("support_tickets_train", "chat"), ("alpaca_small", "alpaca"), ("sharegpt_small", "sharegpt")):
        loaded = load_examples(f"sample_data/{name}.jsonl")
        assert loaded.kind == "chat" and loaded.source_format == fmt and loaded.skipped == 0
        assert loaded.rows[0]["messages"][-1]["role"] == "assistant"


def test_conversions():
    assert to_example({"instruction": "Sum", "input": "1 2", "output": "3"}, "alpaca") == {
        "messages": [{"role": "user", "content": "Sum\n\n1 2"}, {"role": "assistant", "content": "3"}]}
    assert to_example({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}, "sharegpt") == {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    assert to_example({"prompt": "2+2=", "completion": "4"}, "prompt-completion")["messages"][1] == {
        "role": "assistant", "content": "4"}
    assert to_example({"text": "plain"}, "text") == {"text": "plain"}
    assert to_example({"messages": [{"role": "user", "content": "no answer"}]}, "chat") is None


def test_rows_without_an_answer_are_skipped_and_counted(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            {"messages": [{"role": "user", "content": "q only"}]}]
    loaded = load_examples(write(tmp_path, rows))
    assert len(loaded.rows) == 1 and loaded.skipped == 1


def test_text_rows_stay_language_modelling(tmp_path):
    loaded = load_examples(write(tmp_path, [{"text": "a"}, {"text": "b"}]))
    assert loaded.kind == "text" and loaded.rows == [{"text": "a"}, {"text": "b"}]


def test_unusable_files_name_the_fix(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_examples(str(tmp_path / "missing.jsonl"))
    with pytest.raises(DataError, match="assistant answer|data_format"):
        load_examples(write(tmp_path, [{"messages": [{"role": "user", "content": "q"}]}]))
