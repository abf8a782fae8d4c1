"""Per-row shape checks for each format, and the profiles (openai, trl) that set the rules.

Each ``check_<format>`` validates one parsed row, emits structural findings (E005-E011,
W013) and returns a ``RowView`` -- the roles and texts every later check works on -- or
None when the row is too broken to look at further. The chat checker is the hot path of
the linter, so it is one loop with a fast branch for the plain ``{role, content}`` case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ftui.data.checks.preference import record as pref_record
from ftui.data.checks.preference import shared_prefix
from ftui.data.dialects import (
    TOOL_RESPONSE_TAG,
    CallLedger,
    declared_tools,
    json_call,
    read_call,
    split_parts,
    tag_calls,
)
from ftui.data.formats import SHAREGPT_ROLES, flatten_content, preference_prompt, role_messages

Emit = Callable[[str, str], None]


@dataclass(frozen=True)
class Profile:
    """What a trainer accepts. ``hard_limit``: tokens per row above which the row fails (E013)."""

    name: str
    roles: frozenset[str]
    top_keys: frozenset[str]
    message_keys: frozenset[str]
    weight_supported: bool
    hard_limit: int | None
    default_max_seq_len: int | None
    min_rows: int


PROFILES = {
    # OpenAI fine-tuning: chat JSONL, >= 10 rows, 65,536-token examples (4o-family training context).
    "openai": Profile(
        "openai",
        roles=frozenset({"system", "developer", "user", "assistant", "tool", "function"}),
        top_keys=frozenset({"messages", "tools", "functions", "parallel_tool_calls"}),
        message_keys=frozenset({"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"}),
        weight_supported=True,
        hard_limit=65_536,
        default_max_seq_len=None,
        min_rows=10,
    ),
    # TRL SFTTrainer: max_length 1024 by default, truncation keeps the start.
    "trl": Profile(
        "trl",
        roles=frozenset({"system", "user", "assistant", "tool"}),
        top_keys=frozenset({"messages", "tools"}),
        message_keys=frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content", "thinking", "reasoning"}),
        weight_supported=False,
        hard_limit=None,
        default_max_seq_len=1024,
        min_rows=1,
    ),
}

# Row metadata everyone expects a trainer to ignore: not worth a warning on every row.
METADATA_KEYS = frozenset({"id", "uuid", "meta", "metadata"})
# Media keys of multimodal rows: reported as such (W020), not as ignored keys.
MEDIA_KEYS = frozenset({"images", "image"})
ALPACA_KEYS = frozenset({"instruction", "input", "output", "system", "history"}) | METADATA_KEYS
PC_KEYS = frozenset({"prompt", "completion"}) | METADATA_KEYS
TEXT_KEYS = frozenset({"text"}) | METADATA_KEYS
SHAREGPT_KEYS = frozenset({"conversations", "messages", "system", "tools"}) | METADATA_KEYS | MEDIA_KEYS
PREF_KEYS = frozenset({"prompt", "chosen", "rejected", "input", "preferred_output", "non_preferred_output", "completion",
                       "messages", "label", "conversations", "instruction", "system"}) | METADATA_KEYS


@dataclass(slots=True)
class RowView:
    """One row reduced to what the content, token and corpus checks need."""

    roles: list[str]
    texts: list[str]
    trained: list[bool]  # per message: does the trainer learn from it (assistant, weight != 0)
    nkeys: int = 0  # keys parsed (a raw count above this means duplicate keys)
    tool_calls: list[Any] = field(default_factory=list)
    images: int = 0  # image parts and entries of an ``images`` key (``<image>`` placeholders are counted by the linter)
    pref: Any = None  # what the preference checks record (``checks.preference.PrefRecord``)


def _type(v: Any) -> str:
    return "missing" if v is None else f"a {type(v).__name__}"


def check_order(roles: list[str], emit: Emit) -> None:
    """E009: system first only, no two user (or assistant) turns in a row, user speaks first, tool after a call."""
    prev = ""
    for i, role in enumerate(roles):
        if role in ("system", "developer"):
            if i and prev not in ("system", "developer"):
                emit("E009", f"{role} message at position {i + 1} is not at the start")
                return
        elif role == "user":
            if prev == "user":
                emit("E009", f"two user turns in a row (messages {i} and {i + 1})")
                return
        elif role == "assistant":
            if prev == "assistant":
                emit("E009", f"two assistant turns in a row (messages {i} and {i + 1})")
                return
            if prev in ("", "system", "developer"):
                emit("E009", "the first turn after the system prompt is the assistant's, not the user's")
                return
        elif role in ("tool", "function"):
            if prev not in ("assistant", "tool", "function"):
                emit("E009", f"tool message at position {i + 1} does not follow an assistant tool call")
                return
        prev = role


def _check_tool_calls(calls: Any, ledger: CallLedger, string_args: bool, i: int, emit: Emit) -> int:
    """E011 on one assistant message's tool_calls; returns the keys parsed (for the duplicate-key count)."""
    if type(calls) is not list:
        emit("E011", f"message {i + 1}: tool_calls must be a list")
        return 0
    nkeys = 0
    for call in calls:
        if type(call) is dict:
            nkeys += len(call) + (len(call["function"]) if type(call.get("function")) is dict else 0)
        for problem in ledger.call(read_call(call, string_args=string_args)):
            emit("E011", f"message {i + 1}: {problem}")
    return nkeys


def _image_refs(obj: dict[str, Any]) -> int:
    """Entries of a top-level ``images`` key (LLaVA / LLaMA-Factory multimodal rows)."""
    imgs = obj.get("images", obj.get("image"))
    if imgs is None:
        return 0
    return len(imgs) if type(imgs) is list else 1


def check_chat(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    msgs = obj.get("messages")
    if type(msgs) is not list or not msgs:
        emit("E005", f"'messages' must be a non-empty list, got {_type(msgs) if type(msgs) is not list else 'an empty list'}")
        return None
    roles: list[str] = []
    texts: list[str] = []
    trained: list[bool] = []
    nkeys = len(obj)
    if nkeys > 1:
        extra = [k for k in obj if k not in profile.top_keys and k not in METADATA_KEYS and k not in MEDIA_KEYS]
        if extra:
            emit("W013", f"top-level keys {', '.join(map(repr, extra))} are ignored by {profile.name}")
    allowed = profile.roles
    ledger: CallLedger | None = None
    string_args = profile.weight_supported  # OpenAI wants arguments as a JSON string; HF templates take a dict
    broken = False
    images = 0
    for i, m in enumerate(msgs):
        if type(m) is not dict:
            emit("E005", f"message {i + 1} is {_type(m)}, expected an object")
            broken = True
            continue
        nkeys += len(m)
        role = m.get("role")
        content = m.get("content")
        if type(role) is not str:
            emit("E005", f"message {i + 1} has no string 'role' ({_type(role)})")
            broken = True
            continue
        if role not in allowed:
            emit("E007", f"message {i + 1} has role {role!r}, unknown to {profile.name} ({', '.join(sorted(allowed))})")
            broken = True
        weight_ok = True
        if len(m) == 2 and type(content) is str and role != "tool" and "<tool_" not in content:  # the hot path
            text = content
        else:
            calls = m.get("tool_calls")
            if ledger is None:
                ledger = CallLedger(declared_tools(obj.get("tools")))
            if calls is not None:
                nkeys += _check_tool_calls(calls, ledger, string_args, i, emit)
            elif role == "assistant" and type(content) is str and "<tool_call>" in content:
                for problem in ledger.call_all(tag_calls(content)):  # Hermes raw: the calls are tags in the text
                    emit("E011", f"message {i + 1}: {problem}")
            if role == "tool" or (type(content) is str and TOOL_RESPONSE_TAG.match(content)):
                if role == "tool" and "tool_call_id" not in m and string_args:
                    emit("E011", f"message {i + 1}: tool reply without a tool_call_id ({profile.name} matches replies by id)")
                else:
                    problem = ledger.reply(m.get("tool_call_id"))
                    if problem:
                        emit("E011", f"message {i + 1}: {problem}")
            if content is None:
                if calls is None and "function_call" not in m:
                    emit("E005", f"message {i + 1} ({role}) has no 'content'")
                    broken = True
                text = ""
            elif type(content) is str:
                text = content
            elif type(content) is list:
                parts = split_parts(content)
                if parts.bad:
                    emit("E005", f"message {i + 1}: {parts.bad}")
                    broken = True
                nkeys += sum(len(p) for p in content if type(p) is dict)
                text = parts.text
                images += parts.images
            else:
                emit("E005", f"message {i + 1} ({role}): content is {_type(content)}, expected a string or a list of parts")
                broken = True
                text = ""
            if "weight" in m:
                w = m["weight"]
                if type(w) is not int or w not in (0, 1):
                    emit("E010", f"message {i + 1}: weight is {w!r}, must be 0 or 1")
                elif role != "assistant":
                    emit("E010", f"message {i + 1}: weight on a {role} message (only assistant messages take a weight)")
                elif not profile.weight_supported:
                    emit("W013", f"message {i + 1}: 'weight' is ignored by {profile.name} (every assistant turn is trained)")
                elif w == 0:
                    weight_ok = False
            extra = [k for k in m if k not in profile.message_keys]
            if extra:
                emit("W013", f"message {i + 1}: keys {', '.join(map(repr, extra))} are ignored by {profile.name}")
            if role == "assistant" and not text.strip() and calls is None and "function_call" not in m:
                emit("E006", f"message {i + 1}: assistant content is empty")
            roles.append(role)
            texts.append(text)
            trained.append(role == "assistant" and weight_ok)
            continue
        if role == "assistant" and (not text or text.isspace()):
            emit("E006", f"message {i + 1}: assistant content is empty")
        roles.append(role)
        texts.append(text)
        trained.append(role == "assistant")
    if broken:
        return None
    return RowView(roles, texts, trained, nkeys, images=images + _image_refs(obj))


def check_sharegpt(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    key = "conversations" if "conversations" in obj else "messages"
    turns = obj.get(key)
    if type(turns) is not list or not turns:
        emit("E005", f"'{key}' must be a non-empty list of {{from, value}} turns")
        return None
    extra = [k for k in obj if k not in SHAREGPT_KEYS]
    if extra:
        emit("W013", f"keys {', '.join(map(repr, extra))} are ignored by trainers")
    roles, texts, trained = [], [], []
    nkeys = len(obj)
    if type(obj.get("system")) is str and obj["system"]:
        roles.append("system")
        texts.append(obj["system"])
        trained.append(False)
    broken = False
    ledger = CallLedger(declared_tools(obj.get("tools")))
    for i, t in enumerate(turns):
        if type(t) is not dict or type(t.get("from")) is not str or type(t.get("value")) is not str:
            emit("E005", f"turn {i + 1} needs string 'from' and 'value'")
            broken = True
            continue
        nkeys += len(t)
        role = SHAREGPT_ROLES.get(t["from"])
        if role is None:
            emit("E007", f"turn {i + 1} has from={t['from']!r} (expected {', '.join(sorted(set(SHAREGPT_ROLES) - {'user', 'assistant'}))})")
            broken = True
            continue
        if t["from"] == "function_call":
            for problem in ledger.call(json_call(t["value"], "the function_call value")):
                emit("E011", f"turn {i + 1}: {problem}")
        elif role == "assistant" and "<tool_call>" in t["value"]:
            for problem in ledger.call_all(tag_calls(t["value"])):
                emit("E011", f"turn {i + 1}: {problem}")
        elif role == "tool" or TOOL_RESPONSE_TAG.match(t["value"]):
            problem = ledger.reply(None)
            if problem:
                emit("E011", f"turn {i + 1}: {problem}")
        elif role == "assistant" and not t["value"].strip():
            emit("E006", f"turn {i + 1}: the gpt answer is empty")
        roles.append(role)
        texts.append(t["value"])
        trained.append(role == "assistant")
    return None if broken else RowView(roles, texts, trained, nkeys, images=_image_refs(obj))


def _str_field(obj: dict[str, Any], key: str, emit: Emit, required: bool = True) -> str | None:
    v = obj.get(key)
    if v is None and not required and key not in obj:
        return ""
    if type(v) is not str:
        emit("E005", f"'{key}' is {_type(v)}, expected a string")
        return None
    return v


def check_alpaca(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    extra = [k for k in obj if k not in ALPACA_KEYS]
    if extra:
        emit("W013", f"keys {', '.join(map(repr, extra))} are ignored by trainers")
    instruction = _str_field(obj, "instruction", emit)
    extra_input = _str_field(obj, "input", emit, required=False)
    output = _str_field(obj, "output", emit)
    if instruction is None or extra_input is None or output is None:
        return None
    if not output.strip():
        emit("E006", "'output' is empty")
    roles, texts = [], []
    if type(obj.get("system")) is str and obj["system"]:
        roles.append("system")
        texts.append(obj["system"])
    roles += ["user", "assistant"]
    texts += [f"{instruction}\n\n{extra_input}" if extra_input else instruction, output]
    return RowView(roles, texts, [r == "assistant" for r in roles], len(obj))


def check_prompt_completion(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    extra = [k for k in obj if k not in PC_KEYS]
    if extra:
        emit("W013", f"keys {', '.join(map(repr, extra))} are ignored by trainers")
    prompt, completion = obj.get("prompt"), obj.get("completion")
    if type(prompt) is list and type(completion) is list:  # conversational prompt-completion (TRL)
        view = check_chat({"messages": prompt + completion}, profile, emit)
        if view is not None:
            view.nkeys += len(obj) - 1
        return view
    p = _str_field(obj, "prompt", emit)
    c = _str_field(obj, "completion", emit)
    if p is None or c is None:
        return None
    if not c.strip():
        emit("E006", "'completion' is empty")
    return RowView(["user", "assistant"], [p, c], [False, True], len(obj))


def check_text(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    extra = [k for k in obj if k not in TEXT_KEYS]
    if extra:
        emit("W013", f"keys {', '.join(map(repr, extra))} are ignored by trainers")
    t = _str_field(obj, "text", emit)
    if t is None:
        return None
    if not t.strip():
        emit("E006", "'text' is empty")
    return RowView(["assistant"], [t], [True], len(obj))


def _pref_side(obj: dict[str, Any], key: str, emit: Emit) -> tuple[list[str], list[str]] | None:
    v = role_messages(obj.get(key))
    if type(v) is str:
        if not v.strip():
            emit("E006", f"'{key}' is empty")
        return ["assistant"], [v]
    if type(v) is list:
        roles, texts = [], []
        for i, m in enumerate(v):
            if type(m) is not dict or type(m.get("role")) is not str:
                emit("E005", f"'{key}' message {i + 1} needs a string 'role'")
                return None
            roles.append(m["role"])
            texts.append(flatten_content(m.get("content")) if type(m.get("content")) in (str, list) else "")
        if not any(t.strip() for r, t in zip(roles, texts, strict=False) if r == "assistant"):
            emit("E006", f"'{key}' has no assistant text")
        return roles, texts
    emit("E005", f"'{key}' is {_type(v)}, expected a string or a list of messages")
    return None


def check_preference(obj: dict[str, Any], profile: Profile, emit: Emit) -> RowView | None:
    """Preference rows get the checks that make sense for them (``checks.preference``): shape, empty
    sides, identical sides, a prompt both sides share; the row's record feeds the file-wide checks."""
    extra = [k for k in obj if k not in PREF_KEYS]
    if extra:
        emit("W013", f"keys {', '.join(map(repr, extra))} are ignored by preference trainers")
    if "label" in obj:
        return _check_unpaired(obj, emit)
    if "preferred_output" in obj:
        inp = obj.get("input")
        msgs = inp.get("messages") if type(inp) is dict else None
        if type(msgs) is not list:
            emit("E005", "'input.messages' must be a list of messages")
            return None
        p_roles = [m.get("role", "") if type(m) is dict else "" for m in msgs]
        p_texts = [flatten_content(m.get("content")) if type(m) is dict and type(m.get("content")) in (str, list) else "" for m in msgs]
        chosen, rejected = _pref_side(obj, "preferred_output", emit), _pref_side(obj, "non_preferred_output", emit)
    else:
        prompt = preference_prompt(obj)
        implicit = type(obj.get("chosen")) is list and type(prompt) is not list  # TRL: extract the shared prompt
        if implicit:
            p_roles, p_texts = [], []
        elif type(prompt) is str:
            p_roles, p_texts = ["user"], [prompt]
        elif prompt is None and "prompt" not in obj:  # the sides carry everything (single strings or messages)
            p_roles, p_texts = [], []
        elif type(prompt) is list:
            side = _pref_side({"prompt": prompt}, "prompt", lambda i, m: None)
            p_roles, p_texts = side if side else ([], [])
        else:
            emit("E005", f"'prompt' is {_type(prompt)}, expected a string or a list of messages")
            return None
        chosen, rejected = _pref_side(obj, "chosen", emit), _pref_side(obj, "rejected", emit)
        if implicit and chosen is not None and rejected is not None:
            shared = shared_prefix(role_messages(obj["chosen"]), role_messages(obj["rejected"]))
            if shared == 0:
                emit("E016", "chosen and rejected share no prompt (implicit-prompt rows must open with the same turns)")
            p_roles, p_texts = chosen[0][:shared], chosen[1][:shared]
            chosen = (chosen[0][shared:], chosen[1][shared:])
            rejected = (rejected[0][shared:], rejected[1][shared:])
    if chosen is None or rejected is None:
        return None
    if chosen[1] == rejected[1]:
        emit("W004", "chosen and rejected are identical: the pair teaches nothing")
    roles = p_roles + chosen[0] + ["rejected"] * len(rejected[1])
    texts = p_texts + chosen[1] + rejected[1]
    view = RowView(roles, texts, [False] * len(roles), len(obj))
    view.pref = pref_record("\n".join(p_texts), "\n".join(chosen[1]), "\n".join(rejected[1]), None)
    return view


def _check_unpaired(obj: dict[str, Any], emit: Emit) -> RowView | None:
    """KTO's unpaired row: ``prompt`` + ``completion`` (strings or messages) or ``messages``, and a boolean ``label``."""
    label = obj["label"]
    if type(label) is not bool:
        emit("E005", f"'label' is {_type(label)}, expected true or false")
        return None
    if "messages" in obj:
        side = _pref_side(obj, "messages", emit)
        if side is None:
            return None
        last = max((i for i, r in enumerate(side[0]) if r == "assistant"), default=-1)
        if last < 0:
            emit("E008", "no assistant turn: nothing for the label to judge")
            return None
        prompt, completion = (side[0][:last], side[1][:last]), (side[0][last:], side[1][last:])
    else:
        prompt = _pref_side({"prompt": obj.get("prompt")}, "prompt", lambda i, m: None) if type(obj.get("prompt")) is list else (
            (["user"], [obj["prompt"]]) if type(obj.get("prompt")) is str else None)
        if prompt is None:
            emit("E005", f"'prompt' is {_type(obj.get('prompt'))}, expected a string or a list of messages")
            return None
        completion = _pref_side(obj, "completion", emit)
        if completion is None:
            return None
    roles, texts = prompt[0] + completion[0], prompt[1] + completion[1]
    view = RowView(roles, texts, [False] * len(roles), len(obj))
    view.pref = pref_record("\n".join(prompt[1]), "\n".join(completion[1]), None, label)
    return view


CHECKERS = {
    "chat": check_chat,
    "sharegpt": check_sharegpt,
    "alpaca": check_alpaca,
    "prompt_completion": check_prompt_completion,
    "text": check_text,
    "preference": check_preference,
}
