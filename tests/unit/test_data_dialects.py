"""Chat dialects other tools ship: read without false errors, named in the lint header, converted; E011 only for real inconsistencies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ftui import paths
from ftui.data import formats
from ftui.data.fix import convert
from ftui.data.lint import lint_file

DIALECT_FILES = {
    "chat_text_parts.jsonl": "text parts",
    "chat_value_parts.jsonl": "value parts",
    "chat_reasoning.jsonl": "reasoning",
    "tools_openai.jsonl": "tool calls with ids (OpenAI)",
    "tools_qwen.jsonl": "tool calls without ids",
    "tools_hermes.jsonl": "Hermes <tool_call> tags",
    "sharegpt_tools.jsonl": "ShareGPT function_call/observation",
}


def rows_of(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in paths.sample_data(name).read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(DIALECT_FILES))
def test_each_dialect_sample_lints_clean_and_is_named(name: str) -> None:
    report = lint_file(paths.sample_data(name))
    assert report.errors == 0, [f.message for f in report.findings if f.severity == "error"]
    assert report.summary["warnings"] == 0, [(f.id, f.message) for f in report.findings if f.severity == "warning"]
    assert DIALECT_FILES[name] in report.format_label


def _e011(tmp_path: Path, rows: list[dict[str, Any]], profile: str = "trl") -> list[tuple[int | None, str]]:
    report = lint_file(write(tmp_path / "d.jsonl", rows), profile=profile, near_dups=False)
    return [(f.row, f.message) for f in report.findings if f.id == "E011"]


def test_e011_answer_to_a_call_that_never_happened(tmp_path: Path) -> None:
    rows = rows_of("tools_qwen.jsonl")
    del rows[3]["messages"][2]["tool_calls"]  # the assistant no longer calls; the tool still answers
    rows[3]["messages"][2]["content"] = "Let me check."
    sg = rows_of("sharegpt_tools.jsonl")
    sg[1]["conversations"][1] = {"from": "gpt", "value": "Let me look."}
    got = _e011(tmp_path, rows) + _e011(tmp_path, sg)
    assert [r for r, _ in got] == [4, 2] and all("never happened" in m for _, m in got)


def test_e011_arguments_not_json_and_undeclared_function(tmp_path: Path) -> None:
    qwen = rows_of("tools_qwen.jsonl")
    qwen[0]["messages"][2]["tool_calls"][0]["function"]["arguments"] = "{city: Oslo"
    qwen[1]["messages"][2]["tool_calls"][0]["function"]["name"] = "launch_rocket"
    hermes = rows_of("tools_hermes.jsonl")
    hermes[2]["messages"][2]["content"] = "<tool_call>\n{\"name\": \"train_status\", \"arguments\": {\n</tool_call>"
    sg = rows_of("sharegpt_tools.jsonl")
    sg[3]["conversations"][1]["value"] = json.dumps({"name": "order_pizza", "arguments": {}})
    assert [(r, "not valid JSON" in m) for r, m in _e011(tmp_path, qwen)] == [(1, True), (2, False)]
    assert "not declared" in _e011(tmp_path, qwen)[1][1]
    assert [r for r, m in _e011(tmp_path, hermes) if "not valid JSON" in m] == [3]
    assert [(r, "not declared" in m) for r, m in _e011(tmp_path, sg)] == [(4, True)]


def test_ids_still_checked_when_given_and_openai_wants_them(tmp_path: Path) -> None:
    rows = rows_of("tools_openai.jsonl")
    rows[0]["messages"][3]["tool_call_id"] = "call_999"
    assert [r for r, _ in _e011(tmp_path, rows)] == [1]
    qwen = rows_of("tools_qwen.jsonl")
    got = _e011(tmp_path, qwen, profile="openai")  # OpenAI: string arguments and ids
    assert {r for r, _ in got} == set(range(1, 11))


def test_value_parts_and_reasoning_are_read_as_text_and_reasoning() -> None:
    conv = next(c for _, _, c, _ in formats.iter_conversations(paths.sample_data("chat_value_parts.jsonl")))
    assert conv is not None and conv.messages[0].content == rows_of("chat_value_parts.jsonl")[0]["messages"][0]["content"][0]["value"]
    convs = [c for _, _, c, _ in formats.iter_conversations(paths.sample_data("chat_reasoning.jsonl"))]
    for c in convs[:2]:
        answer = c.messages[-1]
        assert answer.reasoning and answer.reasoning not in answer.content and answer.content


def test_convert_dialects_to_chat_and_openai(tmp_path: Path) -> None:
    out = tmp_path / "sg.chat.jsonl"
    convert(paths.sample_data("sharegpt_tools.jsonl"), out=out)
    row = json.loads(out.read_text().splitlines()[0])
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert row["messages"][2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": {"city": "Oslo"}}
    assert {t["function"]["name"] for t in row["tools"]} >= {"get_weather"}
    assert lint_file(out).errors == 0
    hermes = tmp_path / "h.chat.jsonl"
    convert(paths.sample_data("tools_hermes.jsonl"), out=hermes)
    msgs = json.loads(hermes.read_text().splitlines()[0])["messages"]
    assert msgs[2]["tool_calls"][0]["function"]["name"] == "get_weather" and not msgs[2]["content"]
    assert msgs[3]["content"] == json.dumps({"temp_c": -3, "sky": "snow"})
    oai = tmp_path / "q.openai.jsonl"
    convert(paths.sample_data("tools_qwen.jsonl"), to="openai", out=oai)
    msgs = json.loads(oai.read_text().splitlines()[0])["messages"]
    call = msgs[2]["tool_calls"][0]
    assert isinstance(call["function"]["arguments"], str) and msgs[3]["tool_call_id"] == call["id"]
    assert lint_file(oai, profile="openai").errors == 0


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_convert_keeps_or_drops_reasoning(tmp_path: Path, policy: str) -> None:
    out = tmp_path / f"r.{policy}.jsonl"
    convert(paths.sample_data("chat_reasoning.jsonl"), out=out, reasoning=policy)
    answers = [json.loads(line)["messages"][-1] for line in out.read_text().splitlines()]
    assert all(("reasoning_content" in a) == (policy == "keep") for a in answers)
    assert all(isinstance(a["content"], str) and "Three hours" not in a["content"] for a in answers)
    assert lint_file(out).errors == 0


def test_dialect_rows_keep_a_mixed_file_detected_as_chat(tmp_path: Path) -> None:
    rows = rows_of("tools_qwen.jsonl") + copy.deepcopy(rows_of("chat_value_parts.jsonl"))
    guess = formats.detect_format(write(tmp_path / "m.jsonl", rows))
    assert guess.format == formats.CHAT and "value parts" in guess.label and "without ids" in guess.label


def test_multimodal_rows_are_reported_and_clean_can_drop_them(tmp_path: Path) -> None:
    from ftui.data.fix import clean

    rows = rows_of("chat_text_parts.jsonl")
    rows[1]["messages"][0]["content"].insert(0, {"type": "image_url", "image_url": {"url": "file:///photo.png"}})
    rows[4] = {"messages": [{"role": "user", "content": "<image>\nWhat colour is the car?"},
                            {"role": "assistant", "content": "Red."}], "images": ["car.jpg"]}
    rows[7] = {"conversations": [{"from": "human", "value": "<image><image> Which photo is brighter?"},
                                 {"from": "gpt", "value": "The second."}]}
    path = write(tmp_path / "mm.jsonl", rows)
    report = lint_file(path)
    w020 = [f for f in report.findings if f.id == "W020"]
    assert {f.row for f in w020} == {2, 5, None} and "images" in report.format_label
    assert "2 rows reference images; ftui trains text-only models" in next(f.message for f in w020 if f.row is None)
    assert ("E004", 8) in {(f.id, f.row) for f in report.findings}  # the ShareGPT row is another format
    assert not [f for f in report.findings if f.id == "W013"]  # an images key is reported as images, not as ignored
    result = clean(path, out=tmp_path / "mm.clean.jsonl", drop_images=True)
    assert result.dropped["referencing images"] == 2 and result.written[0].rows == 9
    assert "image" not in (tmp_path / "mm.clean.jsonl").read_text()


def test_make_dialects_rebuilds_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_dialects", paths.sample_data("make_dialects.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for written in module.write_all(tmp_path):
        assert written.read_bytes() == paths.sample_data(written.name).read_bytes(), written.name


def test_reading_keeps_the_call_text_a_trainer_sees_and_adds_the_structured_calls() -> None:
    hermes = formats.normalize(rows_of("tools_hermes.jsonl")[0], formats.CHAT, 1, 0)
    call_turn = hermes.messages[2]
    assert call_turn.content.startswith("<tool_call>") and call_turn.tool_calls
    assert call_turn.tool_calls[0]["function"] == {"name": "get_weather", "arguments": {"city": "Oslo"}}
    sg = formats.normalize(rows_of("sharegpt_tools.jsonl")[0], formats.SHAREGPT, 1, 0)
    assert [m.role for m in sg.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert '"get_weather"' in sg.messages[2].content and sg.messages[2].tool_calls
