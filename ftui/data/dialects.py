"""The dialects a chat row is written in, beyond plain ``{role, content}`` strings.

Other tools ship valid data in several spellings of the same thing: content as a list of
parts with ``text`` or ``value``, reasoning as parts or as a ``reasoning_content`` field,
tool calls with OpenAI ids, without ids (Qwen / Hermes / Llama, as HF chat templates take
them: ``function.arguments`` a dict), as ``<tool_call>`` tags in the content (Hermes raw),
or as ShareGPT ``function_call`` / ``observation`` turns. This module reads them all the
same way so the linter judges only what is inconsistent, and names the dialects it saw
so the lint header can say them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

REASONING_PART_TYPES = frozenset({"reasoning", "thinking"})
IMAGE_PART_TYPES = frozenset({"image", "image_url", "input_image"})
# the message keys transformers' chat templates read reasoning from (the first is the standard one)
REASONING_KEYS = ("reasoning_content", "thinking", "reasoning")
IMAGE_PLACEHOLDER = "<image>"

# dialect tags, in the order the lint header names them
TEXT_PARTS = "text parts"
VALUE_PARTS = "value parts"
REASONING = "reasoning"
OPENAI_TOOLS = "tool calls with ids (OpenAI)"
TOOLS_NO_IDS = "tool calls without ids (Qwen/Hermes/Llama)"
HERMES_TAGS = "Hermes <tool_call> tags"
SHAREGPT_TOOLS = "ShareGPT function_call/observation"
IMAGES = "images"
ORDER = (TEXT_PARTS, VALUE_PARTS, REASONING, OPENAI_TOOLS, TOOLS_NO_IDS, HERMES_TAGS, SHAREGPT_TOOLS, IMAGES)

TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
TOOL_RESPONSE_TAG = re.compile(r"^\s*<tool_response>\s*(.*?)\s*</tool_response>\s*$", re.S)


def part_text(part: dict[str, Any]) -> str | None:
    """The text of one content part: ``text``, else ``value`` (the spelling some exporters use)."""
    t = part.get("text")
    if type(t) is str:
        return t
    v = part.get("value")
    return v if type(v) is str else None


def reasoning_of_part(part: dict[str, Any]) -> str | None:
    """The text of a reasoning / thinking part, whichever key holds it."""
    for key in ("text", "value", "reasoning", "thinking", "content"):
        v = part.get(key)
        if type(v) is str:
            return v
    return None


@dataclass
class Content:
    """A message's content split into what is trained as text, the reasoning and the images."""

    text: str
    reasoning: str = ""
    images: int = 0
    tags: set[str] = field(default_factory=set)
    bad: str = ""  # why a part cannot be read (E005), empty when all are fine


def split_parts(parts: list[Any]) -> Content:
    """Text, reasoning and image count of a list of parts (an image part stays as ``<image_url>`` etc. in the text)."""
    pieces: list[str] = []
    thoughts: list[str] = []
    out = Content("")
    for p in parts:
        if type(p) is str:
            pieces.append(p)
            continue
        if type(p) is not dict:
            out.bad = "content parts must be objects like {\"type\": \"text\", \"text\": ...}"
            continue
        kind = p.get("type")
        if kind in REASONING_PART_TYPES:
            r = reasoning_of_part(p)
            if r is None:
                out.bad = f"a {kind} part has no text"
            else:
                thoughts.append(r)
                out.tags.add(REASONING)
            continue
        if kind in IMAGE_PART_TYPES:
            out.images += 1
            out.tags.add(IMAGES)
            pieces.append(f"<{kind}>")  # named, not inlined
            continue
        t = part_text(p)
        if t is not None:
            pieces.append(t)
            out.tags.add(TEXT_PARTS if type(p.get("text")) is str else VALUE_PARTS)
        elif kind == "text" or kind is None:
            out.bad = "a text part needs a string 'text' (or 'value')"
        else:
            pieces.append(f"<{kind}>")
    out.text = "\n".join(pieces)
    out.reasoning = "\n".join(thoughts)
    return out


def message_reasoning(m: dict[str, Any]) -> str:
    """Reasoning given as a message field (``reasoning_content``, ``thinking`` or ``reasoning``)."""
    for key in REASONING_KEYS:
        v = m.get(key)
        if type(v) is str and v:
            return v
    return ""


# -- tool calls ---------------------------------------------------------------------------


@dataclass
class Call:
    """One tool call, whatever its spelling. ``problem`` is the E011 message, empty when fine."""

    name: str
    arguments: Any
    id: str | None = None
    problem: str = ""


def read_call(call: Any, *, string_args: bool = False) -> Call:
    """An entry of ``tool_calls`` (OpenAI ``{id, type, function}`` or a bare ``{name, arguments}``).

    ``string_args``: the profile wants ``arguments`` as a JSON string (OpenAI); otherwise a
    dict is what HF chat templates take (they ``tojson`` it) and a string must parse as JSON.
    """
    if type(call) is not dict:
        return Call("", None, problem="a tool call is not an object")
    fn = call.get("function", call)
    if type(fn) is not dict or type(fn.get("name")) is not str:
        return Call("", None, problem="tool call without function.name")
    cid = call.get("id") if type(call.get("id")) is str else None
    args = fn.get("arguments", fn.get("parameters"))
    name = fn["name"]
    if type(args) is str:
        try:
            orjson.loads(args)
        except orjson.JSONDecodeError:
            return Call(name, args, cid, f"arguments of {name!r} are not valid JSON")
    elif type(args) is dict:
        if string_args:
            return Call(name, args, cid, f"arguments of {name!r} must be a JSON string, not a dict")
    elif args is not None or string_args:
        what = "missing" if args is None else f"a {type(args).__name__}"
        return Call(name, args, cid, f"arguments of {name!r} must be a JSON string{'' if string_args else ' or an object'}, not {what}")
    return Call(name, args, cid)


def tag_calls(text: str) -> list[Call]:
    """Hermes raw form: ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` blocks in the content."""
    calls = []
    for body in TOOL_CALL_TAG.findall(text):
        calls.append(json_call(body, "<tool_call>"))
    return calls


def json_call(body: str, where: str) -> Call:
    """A call written as JSON text (a Hermes tag, a ShareGPT ``function_call`` turn)."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return Call("", None, problem=f"{where} is not valid JSON")
    if type(obj) is not dict or type(obj.get("name")) is not str:
        return Call("", None, problem=f"{where} needs a JSON object with a string 'name'")
    call = read_call(obj)
    return call


def declared_tools(tools: Any) -> set[str] | None:
    """Function names declared in ``tools`` (a list, or a JSON string of one as LLaMA-Factory writes); None: none given."""
    if type(tools) is str:
        try:
            tools = orjson.loads(tools)
        except orjson.JSONDecodeError:
            return None
    if type(tools) is not list:
        return None
    names = set()
    for t in tools:
        if type(t) is dict:
            fn = t.get("function", t)
            if type(fn) is dict and type(fn.get("name")) is str:
                names.add(fn["name"])
    return names


class CallLedger:
    """Which calls a row has made and not yet seen answered, to judge each tool reply.

    A reply with an id must answer an earlier call with that id; a reply without one must
    follow a call not yet answered (Qwen / Hermes / ShareGPT match replies by position).
    """

    def __init__(self, declared: set[str] | None) -> None:
        self.declared = declared
        self.ids: set[str] = set()
        self.open = 0

    def call(self, c: Call) -> list[str]:
        """Record one call; the E011 messages it earns."""
        problems = [c.problem] if c.problem else []
        if c.name:
            self.open += 1
            if c.id:
                self.ids.add(c.id)
            if self.declared is not None and c.name not in self.declared:
                problems.append(f"calls {c.name!r}, which is not declared in tools")
        return problems

    def call_all(self, calls: list[Call]) -> list[str]:
        return [p for c in calls for p in self.call(c)]

    def reply(self, call_id: Any) -> str:
        """Record one tool reply; the E011 message when it answers nothing."""
        if call_id is not None:
            if call_id not in self.ids:
                return f"tool reply for tool_call_id {call_id!r}, which no earlier call made"
            self.open = max(0, self.open - 1)
            return ""
        if self.open <= 0:
            return "tool reply to a call that never happened (no earlier tool call is unanswered)"
        self.open -= 1
        return ""


def sort_tags(tags: set[str]) -> list[str]:
    return [t for t in ORDER if t in tags]


def row_dialects(obj: dict[str, Any]) -> set[str]:
    """The dialect tags of one parsed row (chat ``messages`` or ShareGPT ``conversations``)."""
    tags: set[str] = set()
    if "images" in obj or "image" in obj:
        tags.add(IMAGES)
    turns = obj.get("messages", obj.get("conversations"))
    if type(turns) is not list:
        return tags
    for m in turns:
        if type(m) is not dict:
            continue
        content = m.get("content", m.get("value"))
        if type(content) is list:
            tags |= split_parts(content).tags
        elif type(content) is str:
            if "<tool_call>" in content:
                tags.add(HERMES_TAGS)
            if IMAGE_PLACEHOLDER in content:
                tags.add(IMAGES)
        if message_reasoning(m):
            tags.add(REASONING)
        calls = m.get("tool_calls")
        if type(calls) is list and calls:
            tags.add(OPENAI_TOOLS if all(type(c) is dict and c.get("id") for c in calls) else TOOLS_NO_IDS)
        elif m.get("role") == "tool" and "tool_call_id" not in m:
            tags.add(TOOLS_NO_IDS)
        if m.get("from") in ("function_call", "observation"):
            tags.add(SHAREGPT_TOOLS)
    return tags


def placeholder_count(texts: list[str]) -> int:
    """``<image>`` placeholders (LLaVA / LLaMA-Factory multimodal rows) in a row's texts."""
    return sum(t.count(IMAGE_PLACEHOLDER) for t in texts)
