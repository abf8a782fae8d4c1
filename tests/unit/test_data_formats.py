"""Format detection (vote over rows sampled across the file) and normalisation to Conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.data import formats
from ftui.data.formats import FormatError, detect_format, normalize

ROWS = {
    "chat": {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]},
    "chat_parts": {"messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                                {"role": "assistant", "content": "a cat"}]},
    "chat_tools": {"messages": [{"role": "user", "content": "w?"},
                                {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                                {"role": "tool", "tool_call_id": "1", "content": "18"}, {"role": "assistant", "content": "18 degrees"}],
                   "tools": [{"type": "function", "function": {"name": "f"}}]},
    "alpaca": {"instruction": "Translate", "input": "hola", "output": "hello"},
    "sharegpt": {"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "u"}, {"from": "gpt", "value": "a"}]},
    "prompt_completion": {"prompt": "2+2=", "completion": "4"},
    "text": {"text": "Once upon a time."},
    "preference": {"prompt": "p", "chosen": "good", "rejected": "bad"},
    "preference_conv": {"prompt": [{"role": "user", "content": "p"}], "chosen": [{"role": "assistant", "content": "good"}],
                        "rejected": [{"role": "assistant", "content": "bad"}]},
    "preference_openai": {"input": {"messages": [{"role": "user", "content": "p"}]},
                          "preferred_output": [{"role": "assistant", "content": "good"}],
                          "non_preferred_output": [{"role": "assistant", "content": "bad"}]},
}
EXPECTED = {"chat": "chat", "chat_parts": "chat", "chat_tools": "chat", "alpaca": "alpaca", "sharegpt": "sharegpt",
            "prompt_completion": "prompt_completion", "text": "text", "preference": "preference",
            "preference_conv": "preference", "preference_openai": "preference"}


def _write(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("name", sorted(ROWS))
def test_detect_each_format(tmp_path: Path, name: str) -> None:
    guess = detect_format(_write(tmp_path / "d.jsonl", [ROWS[name]] * 5))
    assert guess.format == EXPECTED[name]
    if name == "preference_conv":
        assert guess.detail == "conversational"
    if name == "chat_tools":
        assert "tool calls" in guess.label


def test_vote_samples_the_whole_file_not_just_the_head(tmp_path: Path) -> None:
    # 300 Alpaca rows, then 3,000 chat rows: the head alone would say Alpaca.
    rows = [ROWS["alpaca"]] * 300 + [ROWS["chat"]] * 3000
    guess = detect_format(_write(tmp_path / "d.jsonl", rows))
    assert guess.format == "chat"
    assert guess.votes["alpaca"] > 0 and guess.votes["chat"] > guess.votes["alpaca"]


def test_mixed_file_minority_rows_are_e004(tmp_path: Path) -> None:
    from ftui.data.lint import lint_file

    rows = [ROWS["chat"]] * 20 + [ROWS["alpaca"], ROWS["preference"]]
    report = lint_file(_write(tmp_path / "d.jsonl", rows))
    assert report.format == "chat"
    assert [f.row for f in report.findings if f.id == "E004"] == [21, 22]


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([ROWS["alpaca"]] * 4, indent=1))
    guess = detect_format(path)
    assert guess.format == "alpaca" and guess.container == "json-array"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_normalize_keeps_row_and_offset(name: str) -> None:
    conv = normalize(ROWS[name], EXPECTED[name], row=7, offset=1234)
    assert conv.row == 7 and conv.offset == 1234
    assert conv.source_format == EXPECTED[name]
    assert any(m.role == "assistant" for m in conv.messages)


def test_normalize_details() -> None:
    alp = normalize(ROWS["alpaca"], "alpaca", 1, 0)
    assert [m.role for m in alp.messages] == ["user", "assistant"] and alp.messages[0].content == "Translate\n\nhola"
    sg = normalize(ROWS["sharegpt"], "sharegpt", 1, 0)
    assert [m.role for m in sg.messages] == ["system", "user", "assistant"]
    parts = normalize(ROWS["chat_parts"], "chat", 1, 0)
    assert parts.messages[0].content == "look\n<image_url>" and parts.messages[0].parts
    pref = normalize(ROWS["preference"], "preference", 1, 0)
    assert pref.completion_text == "good" and pref.extras["rejected"][0].content == "bad"


def test_normalize_errors_name_their_check() -> None:
    with pytest.raises(FormatError) as e:
        normalize([1], "chat", 1, 0)
    assert e.value.check_id == "E003"
    with pytest.raises(FormatError) as e:
        normalize(ROWS["alpaca"], "chat", 1, 0)
    assert e.value.check_id == "E004"
    with pytest.raises(FormatError) as e:
        normalize({"conversations": [{"from": "alien", "value": "x"}]}, "sharegpt", 1, 0)
    assert e.value.check_id == "E007"


def test_iter_conversations_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"prompt": "a", "completion": "b"}\nnot json\n\n{"prompt": "c", "completion": "d"}\n')
    out = list(formats.iter_conversations(path))
    assert [(r, c is not None, e.check_id if e else None) for r, _o, c, e in out] == [
        (1, True, None), (2, False, "E002"), (3, False, "E003"), (4, True, None)]


def test_rows_of_no_known_format_are_e004(tmp_path: Path) -> None:
    from ftui.data.lint import lint_file

    report = lint_file(_write(tmp_path / "d.jsonl", [{"foo": 1}, {"bar": 2}]))
    assert report.format == "unknown"
    assert [f.row for f in report.findings if f.id == "E004"] == [1, 2]
