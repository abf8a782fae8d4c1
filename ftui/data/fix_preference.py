"""The rows ``ftui data convert`` writes for preference data (``fix.convert`` drives it): any paired or
unpaired form to TRL's, or pairs to OpenAI's DPO JSONL.

Whatever form the file is in (strings, conversations, TRL's implicit prompt, OpenAI's
``preferred_output``, LLaMA-Factory's ``conversations`` with one-message sides, KTO's
``label``), the output is one explicit form: TRL conversational rows (``prompt`` /
``chosen`` / ``rejected``, or ``prompt`` / ``completion`` / ``label``), or OpenAI's
preference fine-tuning rows (``input.messages`` / ``preferred_output`` /
``non_preferred_output``; OpenAI takes pairs only, and one assistant message per side).
"""

from __future__ import annotations

from typing import Any

from ftui.data.checks.preference import shared_prefix
from ftui.data.conversation import Conversation, Message


def _dicts(messages: list[Message]) -> list[dict[str, Any]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def preference_row(conv: Conversation, to: str) -> dict[str, Any] | str:
    """One preference conversation in the target form, or why it cannot be written (a check id)."""
    label = conv.extras.get("label")
    if label is not None:  # unpaired
        if to == "openai":
            return "unpaired"
        last = max((i for i, m in enumerate(conv.messages) if m.role == "assistant"), default=-1)
        if last <= 0:
            return "E008"
        return {"prompt": _dicts(conv.messages[:last]), "completion": _dicts(conv.messages[last:]), "label": label}
    rejected = _dicts(conv.extras.get("rejected") or [])
    both = _dicts(conv.messages)
    n_prompt = conv.extras.get("prompt_turns", 0)
    if n_prompt:
        prompt, chosen = both[:n_prompt], both[n_prompt:]
    else:  # implicit prompt: the turns both sides open with
        shared = shared_prefix(both, rejected)
        prompt, chosen, rejected = both[:shared], both[shared:], rejected[shared:]
    if not prompt:
        return "E016"
    if not any(m["role"] == "assistant" and m["content"].strip() for m in chosen) or not any(
            m["role"] == "assistant" and m["content"].strip() for m in rejected):
        return "E006"
    if to == "openai":
        if len(chosen) != 1 or len(rejected) != 1:
            return "multi-turn sides"
        return {"input": {"messages": prompt}, "preferred_output": chosen, "non_preferred_output": rejected}
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
