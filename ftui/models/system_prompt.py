"""System prompts for chat templates that refuse or drop them (Gemma 2 raises on one).

The Gemma 3 convention is what such a model saw in training: the system text goes in front
of the first user turn. Training, linting and generation all fold the same way, so the
tokens a row is counted, trained and prompted with are the same.
"""

from __future__ import annotations

from typing import Any

_PROBE_SYSTEM = "ftui-probe-system-7f3a"
_PROBE_USER = "ftui-probe-question-91c2"


def fold_system(messages: list[dict]) -> list[dict]:
    """System messages folded into the next user turn ("system\\n\\nuser", the Gemma 3 convention)."""
    out: list[dict] = []
    pending: list[str] = []
    for message in messages:
        if message["role"] == "system":
            pending.append(message["content"])
            continue
        if pending and message["role"] == "user":
            message = {**message, "content": "\n\n".join([*pending, message["content"]])}
            pending = []
        elif pending:
            out.append({"role": "user", "content": "\n\n".join(pending)})
            pending = []
        out.append(message)
    if pending:
        out.append({"role": "user", "content": "\n\n".join(pending)})
    return out


def template_takes_system(tokenizer: Any, template: str | None = None) -> tuple[bool, str | None]:
    """(True, None) when the chat template renders a system message; (False, why) when it refuses or drops it."""
    probe = [{"role": "system", "content": _PROBE_SYSTEM}, {"role": "user", "content": _PROBE_USER}]
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": True}
    if template is not None:
        kwargs["chat_template"] = template
    try:
        text = tokenizer.apply_chat_template(probe, **kwargs)
    except Exception as exc:  # noqa: BLE001 - jinja TemplateError from raise_exception, and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, f"the chat template refuses a system message ({first[:120]}): system text folded into the first user turn"
    if _PROBE_SYSTEM not in text:
        return False, "the chat template drops system messages: system text folded into the first user turn"
    return True, None
