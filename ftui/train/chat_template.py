"""The chat template as ftui trains and generates with it, read from the tokenizer alone.

Loading a model's tokenizer (no weights), its template, whether it has ``{% generation %}``
markers, how it treats a system message (``models.system_prompt``), and rendering: one
assistant turn split into the prompt (what generation feeds) and the completion (the reply
and the end-of-turn token the template closes it with), found on a tiny probe chat. A model
without a template gets ftui's plain-text format (``BASE_FORMAT``, ``base_prompt``).
``render_prompt`` is the prompt a model trained by ftui expects, so generation and training agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ftui.models.system_prompt import fold_system, template_takes_system
from ftui.train.errors import MaskingError

BASE_FORMAT = "### System:\n{system}\n\n### Instruction:\n{user}\n\n### Response:\n{assistant}"
SYSTEM_HEAD, USER_HEAD, RESPONSE_HEAD = "### System:\n", "### Instruction:\n", "### Response:\n"
PROBE_USER = "ftui-probe-question-91c2"
PROBE_REPLY = "ftui-probe-answer-4d8e"
PROBE_CHAT = [
    {"role": "user", "content": PROBE_USER},
    {"role": "assistant", "content": PROBE_REPLY},
    {"role": "user", "content": PROBE_USER + "-2"},
    {"role": "assistant", "content": PROBE_REPLY + "-2"},
]


def load_tokenizer(model: str) -> Any:
    """The tokenizer of ``model`` (a directory, a cached Hub id, or "demo"); no weights are read."""
    from transformers import AutoTokenizer

    from ftui.models.source import resolve_model

    try:
        path = resolve_model(model)
        return AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, hub errors: one readable line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MaskingError(f"cannot load the tokenizer of '{model}': {first[:200]}",
                           "Give a model directory with tokenizer files (tokenizer.json / tokenizer_config.json).") from None


def chat_template_of(tokenizer: Any) -> str | None:
    """The tokenizer's chat template as a string (the ``default`` one of named variants), or None."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default") or next(iter(template.values()), None)
    return template if isinstance(template, str) and template.strip() else None


def has_generation_markers(template: str) -> bool:
    """TRL's own test for ``{% generation %}`` markers (whitespace-trim variants included)."""
    import re

    return re.search(r"\{%-?\s*generation\s*-?%\}", template) is not None


def render_chat(tokenizer: Any, messages: list[dict], *, generation_prompt: bool, template: str | None = None,
                tools: list[dict] | None = None) -> str:
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": generation_prompt}
    if template is not None:
        kwargs["chat_template"] = template
    if tools:
        kwargs["tools"] = tools
    text = tokenizer.apply_chat_template(messages, **kwargs)
    return text if isinstance(text, str) else str(text)


def added_tokens(tokenizer: Any) -> list[str]:
    """Special and added token texts, longest first (turn markers, eos, ...)."""
    names: set[str] = set(getattr(tokenizer, "all_special_tokens", []) or [])
    try:
        names.update(str(t) for t in tokenizer.get_added_vocab())
    except Exception:  # noqa: BLE001 - a tokenizer without added vocab still has its special tokens
        pass
    return sorted((n for n in names if n), key=len, reverse=True)


def first_token(text: str, tokens: list[str]) -> tuple[int, str] | None:
    """Where the earliest added token starts in ``text`` (the longest one at that spot)."""
    best: tuple[int, str] | None = None
    for token in tokens:
        pos = text.find(token)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, token)
    return best


def last_token_start(text: str, tokens: list[str]) -> int:
    starts = [text.rfind(t) for t in tokens]
    return max(starts) if starts else -1


def system_handling(tokenizer: Any, template: str | None) -> tuple[str, str | None]:
    """("native", None) when the template renders a system message; ("folded", why) when it refuses or drops it."""
    takes, why = template_takes_system(tokenizer, template)
    return ("native", None) if takes else ("folded", why)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def end_of_turn(tokenizer: Any, template: str, fold: bool) -> str | None:
    """The token the template closes an assistant reply with (e.g. ``<|eot_id|>``), probed on a tiny chat."""
    try:
        return split_turn(tokenizer, PROBE_CHAT[:1], PROBE_REPLY, template, fold).end_token
    except MaskingError:
        return None


def probe_lead_in(tokenizer: Any, template: str, fold: bool) -> str:
    try:
        return split_turn(tokenizer, PROBE_CHAT[:1], PROBE_REPLY, template, fold).lead_in
    except MaskingError:
        return ""


@dataclass(frozen=True)
class Turn:
    prompt: str  # the generation prompt, plus any non-space lead-in
    completion: str  # the reply and its end-of-turn token (after any whitespace the template puts first)
    end_token: str | None
    lead_in: str


def template_messages(messages: list[dict]) -> list[dict]:
    """Training rows' messages as a template takes them: no null keys (an Arrow table adds them), and
    ``tool_calls`` (kept as JSON text in the dataset, see ``dataset.example_from``) decoded."""
    import json

    out = []
    for message in messages:
        clean = {k: v for k, v in message.items() if v is not None}
        if isinstance(clean.get("tool_calls"), str):
            clean["tool_calls"] = json.loads(clean["tool_calls"])
        out.append(clean)
    return out


def template_tools(value: Any) -> list[dict] | None:
    """A row's ``tools`` (JSON text in the dataset) as the list ``apply_chat_template(tools=...)`` takes."""
    import json

    if isinstance(value, str):
        value = json.loads(value)
    return value or None


def split_tool_turn(tokenizer: Any, history: list[dict], message: dict, template: str | None, fold: bool,
                    tools: list[dict] | None, tokens: list[str] | None = None) -> Turn:
    """An assistant turn that calls tools: the completion is all the template writes for it after the
    generation prompt (its text and calls), up to and including its end-of-turn token."""
    history = fold_system(history) if fold else history
    prompt = render_chat(tokenizer, history, generation_prompt=True, template=template, tools=tools)
    full = render_chat(tokenizer, [*history, message], generation_prompt=False, template=template, tools=tools)
    if not full.startswith(prompt):
        raise MaskingError("the chat template does not render a tool-calling turn after its generation prompt",
                           "Use a chat template that renders tool calls (e.g. Qwen2.5's), or leave those rows out.")
    after = full[len(prompt):]
    names = [str((c.get("function") or c).get("name")) for c in message.get("tool_calls") or () if isinstance(c, dict)]
    missing = [n for n in names if n not in after]
    if missing:
        raise MaskingError(f"the chat template does not render tool calls (the call to {missing[0]!r} is not in "
                           "the rendered turn), so training would drop it",
                           "Use a model whose chat template renders tools (e.g. Qwen2.5 Instruct), or leave the "
                           "tool-call rows out.")
    found = first_token(after, tokens if tokens is not None else added_tokens(tokenizer))
    if found is None:
        raise MaskingError("the chat template ends a tool-calling turn with no special token",
                           "Use a chat template whose turns end with an end-of-turn token.")
    return Turn(prompt, after[: found[0] + len(found[1])], found[1], "")


def split_turn(tokenizer: Any, history: list[dict], reply: str, template: str | None, fold: bool,
                tokens: list[str] | None = None, tools: list[dict] | None = None, reasoning: str | None = None) -> Turn:
    """Render one assistant turn as (prompt text, completion text) with the template.

    The prompt is what generation renders (``add_generation_prompt=True``). The completion
    comes from the full rendering: the reply as the template writes it, up to and including
    the first special token after it (the end-of-turn token). Whitespace the template puts
    before the reply (Mistral's space) is part of what the model must write; anything else
    there (Qwen3's empty ``<think>`` block) is moved into the prompt, untrained -- unless it
    holds the turn's ``reasoning`` (``reasoning_content``) as the template rendered it
    (Qwen3's ``<think>`` block): the model writes that, so it trains.
    """
    history = fold_system(history) if fold else history
    assistant = {"role": "assistant", "content": reply}
    if reasoning:
        assistant["reasoning_content"] = reasoning
    prompt = render_chat(tokenizer, history, generation_prompt=True, template=template, tools=tools)
    full = render_chat(tokenizer, [*history, assistant], generation_prompt=False, template=template, tools=tools)
    shown = reply
    at = full.rfind(shown) if shown else -1
    if at < 0 and reply.strip():
        shown = reply.strip()
        at = full.rfind(shown)
    if at < 0:
        raise MaskingError("the chat template does not write an assistant reply as given (it renders "
                           f"{full[-120:]!r} for a conversation ending in {reply[:60]!r})",
                           "Use a chat template that writes assistant messages verbatim, or train with "
                           "assistant_only_loss: false.")
    tokens = tokens if tokens is not None else added_tokens(tokenizer)
    before = full[:at]
    lead = ""
    anchor_at = last_token_start(prompt, tokens)
    if anchor_at >= 0:
        anchor = prompt[anchor_at:]
        pos = before.rfind(anchor)
        if pos >= 0:
            lead = before[pos + len(anchor):]
    elif full.startswith(prompt):
        lead = before[len(prompt):]
    after = full[at + len(shown):]
    found = first_token(after, tokens)
    eos = getattr(tokenizer, "eos_token", None)
    if found is not None:
        ending, end_token = after[: found[0] + len(found[1])], found[1]
    elif eos:
        ending, end_token = eos, eos  # the template closes a reply with no special token: eos teaches the stop
    else:
        raise MaskingError("the chat template ends an assistant reply with no special token and the tokenizer has "
                           "no eos token, so a model trained on it could never learn to stop",
                           "Set eos_token in the model's tokenizer_config.json.")
    if lead.strip() and not (reasoning and reasoning.strip() in lead):
        return Turn(prompt + lead, shown + ending, end_token, lead)
    return Turn(prompt, lead + shown + ending, end_token, lead)


def base_prompt(messages: list[dict], bos: str = "") -> str:
    """ftui's plain-text format for a model with no chat template, ending where the reply starts.

    ``### System:`` / ``### Instruction:`` / ``### Response:`` blocks separated by a blank
    line; earlier replies appear without eos. The reply is then written after the last
    ``### Response:\\n`` and ends with the tokenizer's eos.
    """
    parts = [bos]
    for message in messages:
        head = {"system": SYSTEM_HEAD, "user": USER_HEAD, "assistant": RESPONSE_HEAD}.get(message["role"])
        if head:
            parts.append(f"{head}{message['content']}\n\n")
    parts.append(RESPONSE_HEAD)
    return "".join(parts)


def bos_text(tokenizer: Any) -> str:
    """The bos text to write at the start of a plain-text prompt when the tokenizer prepends bos itself."""
    bos, bos_id = getattr(tokenizer, "bos_token", None), getattr(tokenizer, "bos_token_id", None)
    if not bos or bos_id is None:
        return ""
    try:
        ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    except Exception:  # noqa: BLE001
        return ""
    return bos if ids[:1] == [bos_id] else ""


def render_prompt(tokenizer: Any, messages: list[dict]) -> str:
    """The prompt text a model trained by ftui expects for ``messages`` (for generation).

    Chat template: ``add_generation_prompt=True``, system folded where the template refuses
    it, plus any lead-in the template writes before a reply (Qwen3's empty think block).
    No template: ``base_prompt``. Tokenize it with ``add_special_tokens=False``.
    """
    template = chat_template_of(tokenizer)
    if template is None:
        return base_prompt(messages, bos_text(tokenizer))
    fold = system_handling(tokenizer, None)[0] == "folded"
    try:
        return split_turn(tokenizer, messages, PROBE_REPLY, None, fold).prompt
    except MaskingError:
        return render_chat(tokenizer, fold_system(messages) if fold else messages, generation_prompt=True)
