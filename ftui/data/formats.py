"""Dataset formats: detect a file's format by vote, and normalise every row to ``Conversation``.

Detection samples rows from the beginning, the middle and the end of the file (by byte
offset, so it is instant on any size) and lets each row vote for the format its keys
say; the winner is the file's format and rows of another format are findings (E004).
Preference data (prompt/chosen/rejected, OpenAI's preferred_output, or KTO's unpaired label) is named as such
so the linter does not judge it by SFT rules.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ftui.data.conversation import Conversation, Message
from ftui.data.dialects import (
    Call,
    declared_tools,
    json_call,
    message_reasoning,
    row_dialects,
    sort_tags,
    split_parts,
    tag_calls,
)
from ftui.data.source import SourceInfo, inspect_source, iter_raw_rows

CHAT = "chat"
SHAREGPT = "sharegpt"
ALPACA = "alpaca"
PROMPT_COMPLETION = "prompt_completion"
TEXT = "text"
PREFERENCE = "preference"
UNKNOWN = "unknown"

FORMATS = (CHAT, SHAREGPT, ALPACA, PROMPT_COMPLETION, TEXT, PREFERENCE)
# formats whose rows become chat turns with an assistant answer (what SFT and evaluation take)
CONVERSATIONAL = (CHAT, SHAREGPT, ALPACA, PROMPT_COMPLETION)
# spellings a user may have typed in a run config (docs/train.md once said ``prompt-completion``)
FORMAT_ALIASES = {"prompt-completion": PROMPT_COMPLETION}
FORMAT_LABELS = {
    CHAT: "chat messages",
    SHAREGPT: "ShareGPT conversations",
    ALPACA: "Alpaca instruction/input/output",
    PROMPT_COMPLETION: "prompt-completion",
    TEXT: "plain text (language modelling)",
    PREFERENCE: "preference data (DPO/ORPO pairs or KTO labels), not SFT",
    UNKNOWN: "unknown",
}
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}

BLANK_LINE = "blank line"  # the FormatError message of an empty row (readers that skip blanks test for it)

SAMPLE_WINDOWS = 8  # byte windows spread over the file
WINDOW_BYTES = 64 << 10
ROWS_PER_WINDOW = 40


def canonical_format(name: str) -> str:
    """``name`` as ``FORMATS`` spells it (an alias such as ``prompt-completion`` is accepted)."""
    return FORMAT_ALIASES.get(name, name)


class FormatError(ValueError):
    """A row cannot be normalised; ``check_id`` names the lint check it fails."""

    def __init__(self, check_id: str, message: str) -> None:
        super().__init__(message)
        self.check_id = check_id


def row_format(obj: Any) -> str:
    """The format one parsed row's keys say it is (``unknown`` when none fits)."""
    if type(obj) is not dict:
        return UNKNOWN
    if type(obj.get("label")) is bool and ("completion" in obj or "messages" in obj):
        return PREFERENCE  # unpaired (KTO): one completion and whether it is desirable
    if "messages" in obj:
        msgs = obj["messages"]
        if type(msgs) is list and msgs and type(msgs[0]) is dict and "from" in msgs[0] and "role" not in msgs[0]:
            return SHAREGPT
        return CHAT
    if ("chosen" in obj and "rejected" in obj) or "preferred_output" in obj:
        return PREFERENCE
    if "conversations" in obj:
        return SHAREGPT
    if "prompt" in obj or "completion" in obj:
        return PROMPT_COMPLETION
    if "instruction" in obj:
        return ALPACA
    if "text" in obj:
        return TEXT
    return UNKNOWN


def role_messages(value: Any) -> Any:
    """A preference side or prompt as ``{role, content}`` messages when it is a ShareGPT turn list or one
    message object (LLaMA-Factory writes ``"chosen": {"from": "gpt", "value": ...}``); anything else as it is."""
    if type(value) is dict:
        value = [value]
    if type(value) is not list:
        return value
    out = []
    for m in value:
        if type(m) is dict and "role" not in m and type(m.get("from")) is str:
            m = {"role": SHAREGPT_ROLES.get(m["from"], m["from"]), "content": m.get("value")}
        out.append(m)
    return out


def preference_prompt(obj: dict[str, Any]) -> Any:
    """The explicit prompt of a paired row: ``prompt``, LLaMA-Factory's ``conversations`` or
    ``instruction`` (+ ``input``, ``system``); None when the prompt is implicit (inside both sides)."""
    if "prompt" in obj:
        return role_messages(obj["prompt"]) if type(obj["prompt"]) is not str else obj["prompt"]
    if type(obj.get("conversations")) is list:
        turns = role_messages(obj["conversations"])
        return ([{"role": "system", "content": obj["system"]}] if type(obj.get("system")) is str and obj["system"] else []) + turns
    if type(obj.get("instruction")) is str:
        extra = obj.get("input") if type(obj.get("input")) is str else ""
        text = f"{obj['instruction']}\n\n{extra}" if extra else obj["instruction"]
        return ([{"role": "system", "content": obj["system"]}] if type(obj.get("system")) is str and obj["system"] else []) + [
            {"role": "user", "content": text}]
    return None


def preference_style(obj: dict[str, Any]) -> str:
    """``conversational`` when chosen/rejected are message lists, else ``plain``; ``unpaired`` rows carry a ``label``."""
    if "label" in obj:
        return "unpaired, label"
    chosen = role_messages(obj.get("chosen", obj.get("preferred_output")))
    if not isinstance(chosen, list):
        return "plain"
    if "conversations" in obj or "instruction" in obj:
        return "LLaMA-Factory"
    return "conversational" if isinstance(obj.get("prompt"), list) or "preferred_output" in obj else "conversational, implicit prompt"


@dataclass
class FormatGuess:
    """The file's format by vote; ``votes`` counts the sampled rows per format."""

    format: str
    container: str  # jsonl | json-array | parquet | hf-dir
    votes: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    detail: str = ""  # e.g. "conversational" preference data, "list-of-parts content"

    @property
    def label(self) -> str:
        base = FORMAT_LABELS.get(self.format, self.format)
        return f"{base} ({self.detail})" if self.detail else base


def _sample_jsonl(info: SourceInfo) -> list[bytes]:
    """Up to ROWS_PER_WINDOW complete lines from each of SAMPLE_WINDOWS windows spread over the file."""
    lines: list[bytes] = []
    fd = os.open(info.path, os.O_RDONLY)
    try:
        size = info.size
        first = getattr(info, "data_start", 0)  # past a long run of blank lines at the top
        starts = sorted({first + int((size - first) * k / SAMPLE_WINDOWS) for k in range(SAMPLE_WINDOWS)})
        covered = 0  # windows must not overlap, or a small file's rows would vote several times
        for start in starts:
            if start < covered:
                continue
            block = os.pread(fd, WINDOW_BYTES, start)
            covered = start + len(block)
            parts = block.split(b"\n")
            if start > first:
                parts = parts[1:]  # the first piece is the tail of a line we did not start at
            if start + len(block) < size:
                parts = parts[:-1]  # the last piece may be cut by the window
            lines.extend(p for p in parts[:ROWS_PER_WINDOW] if p.strip())
    finally:
        os.close(fd)
    if info.has_bom and lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    return lines


def detect_format(path: str | Path, info: SourceInfo | None = None) -> FormatGuess:
    """Vote over rows sampled across the whole file; raises DatasetError for unreadable files."""
    info = info or inspect_source(path)
    if info.kind == "jsonl":
        raw = _sample_jsonl(info)
    else:
        raw = []
        for r in iter_raw_rows(info.path, info=info):
            raw.append(r.data)
            if len(raw) >= SAMPLE_WINDOWS * ROWS_PER_WINDOW:
                break
    votes: Counter[str] = Counter()
    details: Counter[str] = Counter()
    dialects: set[str] = set()
    for line in raw:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        fmt = row_format(obj)
        votes[fmt] += 1
        if fmt == PREFERENCE:
            details[preference_style(obj)] += 1
        elif type(obj) is dict:
            dialects.update(row_dialects(obj))
    known = {k: v for k, v in votes.items() if k != UNKNOWN}
    if not known and info.kind == "jsonl":
        # Every sampled window fell inside one huge row (a 60 MB line, 100k turns): vote over the
        # first rows instead; the reader cuts a huge row short, so this stays bounded.
        for r in itertools.islice(iter_raw_rows(info.path, info=info), SAMPLE_WINDOWS * ROWS_PER_WINDOW):
            if r.truncated:
                continue
            try:
                obj = orjson.loads(r.data)
            except orjson.JSONDecodeError:
                continue
            votes[row_format(obj)] += 1
        known = {k: v for k, v in votes.items() if k != UNKNOWN}
    fmt = max(known, key=lambda k: known[k]) if known else UNKNOWN
    detail = ""
    if fmt == PREFERENCE and details:
        detail = " + ".join(k for k, _ in details.most_common())
    elif fmt in CONVERSATIONAL:
        detail = ", ".join(sort_tags(dialects))
    return FormatGuess(fmt, info.kind, dict(votes), sum(votes.values()), detail)


# --- normalisation -------------------------------------------------------------------


def flatten_content(content: Any) -> str:
    """Text of a message's content: a string, or the text of a list of parts (``text`` or ``value``;
    images named as ``<image>``, not inlined; reasoning parts left out: see ``dialects.split_parts``)."""
    if content is None:
        return ""
    if type(content) is str:
        return content
    if type(content) is list:
        return split_parts(content).text
    raise FormatError("E005", f"content is {type(content).__name__}, expected a string or a list of parts")


def _tool_call(c: Call) -> dict[str, Any]:
    """A call in the form HF chat templates take (arguments as an object; ``id`` kept when given)."""
    args = c.arguments
    if type(args) is str:
        try:
            args = orjson.loads(args)
        except orjson.JSONDecodeError:
            pass
    out: dict[str, Any] = {"type": "function", "function": {"name": c.name, "arguments": {} if args is None else args}}
    if c.id:
        out = {"id": c.id, **out}
    return out


def _message(m: Any, index: int) -> Message:
    if type(m) is not dict:
        raise FormatError("E005", f"message {index + 1} is {type(m).__name__}, expected an object")
    role = m.get("role")
    if type(role) is not str:
        raise FormatError("E005", f"message {index + 1} has no string 'role'")
    content = m.get("content")
    weight = m.get("weight")
    reasoning = message_reasoning(m)
    if type(content) is list:
        parts = split_parts(content)
        text, reasoning = parts.text, reasoning or parts.reasoning
    else:
        text = flatten_content(content)
    calls = m.get("tool_calls") if type(m.get("tool_calls")) is list else None
    if calls is None and role == "assistant" and "<tool_call>" in text:
        # Hermes raw: the calls are tags in the text. The text stays as written (a Hermes-format
        # model is trained on exactly it); convert writes the calls as tool_calls instead.
        found = [c for c in tag_calls(text) if c.name]
        if found:
            calls = [_tool_call(c) for c in found]
    return Message(
        role=role,
        content=text,
        tool_calls=calls,
        name=m.get("name") if type(m.get("name")) is str else None,
        weight=weight if type(weight) is int else None,
        parts=content if type(content) is list else None,
        reasoning=reasoning or None,
        tool_call_id=m.get("tool_call_id") if type(m.get("tool_call_id")) is str else None,
    )


def _messages(value: Any, what: str) -> list[Message]:
    if type(value) is not list:
        raise FormatError("E005", f"'{what}' must be a list of messages")
    return [_message(m, i) for i, m in enumerate(value)]


def _text(obj: dict[str, Any], key: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if type(value) is not str:
        what = "missing" if value is None else f"a {type(value).__name__}"
        raise FormatError("E005", f"'{key}' is {what}, expected a string")
    return value


def normalize(obj: Any, fmt: str, row: int, offset: int, *, open_ended: bool = False) -> Conversation:
    """One parsed row as a ``Conversation`` (raises FormatError when the row does not fit ``fmt``).

    ``open_ended``: the answer may be missing (an evaluation prompt: Alpaca without ``output``,
    a ``prompt`` without ``completion``); the conversation then ends on the user turn.
    """
    if type(obj) is not dict:
        raise FormatError("E003", f"row is a JSON {type(obj).__name__}, not an object")
    own = row_format(obj)
    if own != fmt:
        raise FormatError("E004", f"row looks like {FORMAT_LABELS.get(own, own)}, the file is {FORMAT_LABELS.get(fmt, fmt)}")
    extras: dict[str, Any] = {}
    if fmt == CHAT:
        messages = _messages(obj.get("messages"), "messages")
        if "tools" in obj:
            extras["tools"] = obj["tools"]
    elif fmt == SHAREGPT:
        turns = obj.get("conversations", obj.get("messages"))
        if type(turns) is not list:
            raise FormatError("E005", "'conversations' must be a list of {from, value} turns")
        messages = []
        if type(obj.get("system")) is str and obj["system"]:
            messages.append(Message("system", obj["system"]))
        for i, t in enumerate(turns):
            if type(t) is not dict or type(t.get("from")) is not str or type(t.get("value")) is not str:
                raise FormatError("E005", f"turn {i + 1} needs string 'from' and 'value'")
            role = SHAREGPT_ROLES.get(t["from"])
            if role is None:
                raise FormatError("E007", f"turn {i + 1} has unknown 'from': {t['from']!r}")
            if t["from"] == "function_call":  # the call also as structured tool_calls, as chat data has it
                call = json_call(t["value"], "function_call")
                if call.name:
                    messages.append(Message("assistant", t["value"], tool_calls=[_tool_call(call)]))
                    continue
            messages.append(_message({"role": role, "content": t["value"]}, i))
        if declared_tools(obj.get("tools")) is not None:  # a list, or a JSON string of one (LLaMA-Factory)
            tools = orjson.loads(obj["tools"]) if type(obj["tools"]) is str else obj["tools"]
            extras["tools"] = [t if type(t) is dict and "function" in t else {"type": "function", "function": t} for t in tools]
    elif fmt == ALPACA:
        instruction = _text(obj, "instruction")
        extra_input = _text(obj, "input", required=False)
        prompt = f"{instruction}\n\n{extra_input}" if extra_input else instruction
        messages = []
        if type(obj.get("system")) is str and obj["system"]:
            messages.append(Message("system", obj["system"]))
        messages.append(Message("user", prompt))
        if not open_ended or obj.get("output") is not None:
            messages.append(Message("assistant", _text(obj, "output")))
    elif fmt == PROMPT_COMPLETION:
        prompt, completion = obj.get("prompt"), obj.get("completion")
        answer_missing = open_ended and completion is None
        if type(prompt) is list or type(completion) is list:
            messages = _messages(prompt, "prompt") + ([] if answer_missing else _messages(completion, "completion"))
        else:
            messages = [Message("user", _text(obj, "prompt"))]
            if not answer_missing:
                messages.append(Message("assistant", _text(obj, "completion")))
    elif fmt == TEXT:
        messages = [Message("assistant", _text(obj, "text"))]
    elif fmt == PREFERENCE:
        if "label" in obj:  # unpaired: the prompt and one completion; the label says if it is desirable
            if "messages" in obj:
                messages = _messages(obj.get("messages"), "messages")
            else:
                prompt, completion = obj.get("prompt"), obj.get("completion")
                messages = (_messages(prompt, "prompt") if type(prompt) is list else [Message("user", _text(obj, "prompt"))]) + (
                    _messages(completion, "completion") if type(completion) is list else [Message("assistant", _text(obj, "completion"))])
            extras["label"] = obj["label"]
            return Conversation(row=row, offset=offset, messages=messages, source_format=fmt, raw=obj, extras=extras)
        if "preferred_output" in obj:
            inp = obj.get("input")
            prompt_msgs = _messages(inp.get("messages") if type(inp) is dict else None, "input.messages")
            chosen = _messages(obj.get("preferred_output"), "preferred_output")
            rejected = _messages(obj.get("non_preferred_output"), "non_preferred_output")
        else:
            prompt = preference_prompt(obj)
            prompt_msgs = _messages(prompt, "prompt") if type(prompt) is list else (
                [Message("user", prompt)] if type(prompt) is str else [])
            sides = {}
            for key in ("chosen", "rejected"):
                side = role_messages(obj.get(key))
                sides[key] = _messages(side, key) if type(side) is list else [Message("assistant", _text(obj, key))]
            chosen, rejected = sides["chosen"], sides["rejected"]
        messages = prompt_msgs + chosen
        extras["rejected"] = rejected
        extras["prompt_turns"] = len(prompt_msgs)  # 0: an implicit prompt, inside both sides
    else:
        raise FormatError("E004", "row format not recognised (no messages, conversations, prompt/completion, instruction/output or text)")
    return Conversation(row=row, offset=offset, messages=messages, source_format=fmt, raw=obj, extras=extras)


def iter_conversations(
    path: str | Path, fmt: str | None = None, *, each_row: bool = False, open_ended: bool = False
) -> Iterator[tuple[int, int, Conversation | None, FormatError | None]]:
    """Every row of ``path`` as ``(row, offset, conversation, error)``; exactly one of the last two is set.

    The one row reader: training, evaluation, the fixes (clean/split/convert) and stats read
    rows here, so every format (and JSONL, JSON array, Parquet) is read the same everywhere.
    ``fmt`` defaults to the file's format by vote; ``each_row`` reads each row by its own keys
    instead (an evaluation file may mix shapes); ``open_ended``: see ``normalize``.
    Raises DatasetError when the file itself cannot be read.
    """
    info = inspect_source(path)
    fmt = canonical_format(fmt) if fmt else (None if each_row else detect_format(path, info).format)
    for raw in iter_raw_rows(path, info=info):
        if not raw.data.strip():
            yield raw.row, raw.offset, None, FormatError("E003", BLANK_LINE)
            continue
        try:
            obj = orjson.loads(raw.data)
        except orjson.JSONDecodeError as exc:
            yield raw.row, raw.offset, None, FormatError("E002", f"invalid JSON: {exc}")
            continue
        try:
            own = fmt or row_format(obj)
            yield raw.row, raw.offset, normalize(obj, own, raw.row, raw.offset, open_ended=open_ended), None
        except FormatError as exc:
            yield raw.row, raw.offset, None, exc
