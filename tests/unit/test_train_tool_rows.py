"""Tool-calling rows train on what they say: calls, tool turns and the tools declared reach the chat
template, the tokens carrying loss include the assistant's call, and a template that cannot render
tools is refused at validation instead of training past the calls."""

from __future__ import annotations

import json

import pytest

from ftui.config import RunConfig
from ftui.train.dataset import load_examples

TOOL_FILES = ("tools_openai", "tools_qwen", "tools_hermes", "sharegpt_tools")


@pytest.mark.parametrize("name", TOOL_FILES)
def test_the_loader_keeps_calls_tool_turns_and_tools(name):
    from ftui.train.chat_template import template_messages, template_tools

    loaded = load_examples(f"sample_data/{name}.jsonl")
    row = loaded.rows[0]
    messages = template_messages(row["messages"])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    call = messages[2]["tool_calls"][0]["function"]
    assert call == {"name": "get_weather", "arguments": {"city": "Oslo"}}  # arguments as the object templates expect
    assert "temp_c" in messages[3]["content"] and "<tool_response>" not in messages[3]["content"]
    assert "get_weather" in {t["function"]["name"] for t in template_tools(row["tools"])}
    assert all("tools" in r for r in loaded.rows)  # one shape for the Arrow table


@pytest.mark.parametrize("name", TOOL_FILES)
def test_qwen25_trains_the_assistant_call_and_declares_the_tools(family_model, name):
    from transformers import AutoTokenizer

    from ftui.train.dataset import build_datasets
    from ftui.train.masking import masking_problem, prepare_datasets

    path = family_model("qwen2.5")
    # the tiny tokenizer spends ~1,700 tokens on the ten tool definitions: at the default 1,024 no reply would survive
    config = RunConfig(model=str(path), train_path=f"sample_data/{name}.jsonl", eval_path=None, eval_fraction=0,
                       max_seq_len=4096)
    assert masking_problem(config, str(path)) is None
    tokenizer = AutoTokenizer.from_pretrained(path)
    train, _, loaded = build_datasets(config)
    plan, prepared, _ = prepare_datasets(config, tokenizer, loaded.kind, train, None, loaded)
    assert plan.path == "prompt_completion" and len(prepared) == 2 * len(train)  # the call and the answer
    first = prepared[0]
    trained = tokenizer.decode([t for t, m in zip(first["input_ids"], first["completion_mask"], strict=True) if m])
    prompt = tokenizer.decode([t for t, m in zip(first["input_ids"], first["completion_mask"], strict=True) if not m])
    assert trained == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>'
    assert "# Tools" in prompt and '"name": "get_weather"' in prompt  # the declarations are in the prompt, untrained
    second = prepared[1]
    answer = tokenizer.decode([t for t, m in zip(second["input_ids"], second["completion_mask"], strict=True) if m])
    prompt2 = tokenizer.decode([t for t, m in zip(second["input_ids"], second["completion_mask"], strict=True) if not m])
    assert answer.endswith("<|im_end|>") and "<tool_response>" in prompt2 and "<tool_response>" not in answer


@pytest.mark.parametrize("family", ["llama3", "demo"])
def test_a_template_that_cannot_render_tools_is_refused_with_the_fix(family_model, demo_model, family):
    from ftui.train.masking import masking_problem

    path = demo_model if family == "demo" else family_model(family)
    problem = masking_problem(RunConfig(model=str(path), train_path="sample_data/tools_qwen.jsonl", eval_path=None), str(path))
    assert problem is not None and "tool call" in problem.message and "Qwen2.5" in problem.fix


def test_plain_rows_keep_their_plain_shape():
    loaded = load_examples("sample_data/support_tickets_train.jsonl")
    assert set(loaded.rows[0]) == {"messages"} and set(loaded.rows[0]["messages"][0]) == {"role", "content"}
    assert json.dumps(loaded.rows[0])  # nothing but JSON in a row
