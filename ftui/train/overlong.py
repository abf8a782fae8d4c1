"""Rows whose prompt fills ``max_seq_len`` as the chat template renders it, tool definitions included.

The linter counts a row's messages (an estimate, or the template without ``tools``), but a
tool-calling row's prompt also holds every tool definition the template renders (Qwen2.5's
``# Tools`` block): a row can fit by the linter's count and still leave no reply token inside
``max_seq_len``. TRL then drops it silently, and a file of such rows reaches the trainer empty
("num_samples=0"). ``masking.prepare_rows`` measures the prompts it has just tokenized, so the
count is exactly what trains; a row none of whose replies starts inside the limit is refused by
name (``on_bad_rows: refuse``) or left out and recorded (``skip``), like any row that cannot train.
"""

from __future__ import annotations

from typing import Any

FIX = ("Shorten those rows (or their tool definitions), raise max_seq_len, or set on_bad_rows: skip "
       "to train on the others.")


def cut_length(config: Any) -> int | None:
    """The length past which TRL cuts a row's end (``keep_start``), or None when no reply token is cut off."""
    extra = getattr(config, "extra", None) or {}
    max_len = extra.get("max_length", getattr(config, "max_seq_len", None))
    if not max_len:
        return None
    if getattr(config, "packing", False):
        return int(max_len) if extra.get("packing_strategy", "bfd") == "bfd" else None  # bfd_split / wrapped lose nothing
    return None if extra.get("truncation_mode", "keep_start") == "keep_end" else int(max_len)


def overlong(prompt_lengths: list[int], owners: list[int], max_len: int) -> list[int]:
    """The rows (indexes in ``owners``' terms) none of whose turns has a prompt shorter than ``max_len`` tokens."""
    fits = {owner for owner, length in zip(owners, prompt_lengths, strict=True) if length < max_len}
    return sorted(set(owners) - fits)


def message(source: str, row: int, prompt_tokens: int, max_len: int, tool_tokens: int) -> str:
    """Why the row cannot train, with the tool definitions' share when they are what overflows."""
    tools = f", {tool_tokens:,} of them the tool definitions the chat template renders" if tool_tokens > 0 else ""
    return (f"{source} row {row}: the prompt is {prompt_tokens:,} tokens{tools}, and fills all {max_len:,} of "
            "max_seq_len: no assistant token survives truncation, so the trainer would learn nothing from it")


def tool_tokens(tokenizer: Any, history: list[dict], tools: list[dict] | None, template: str | None) -> int:
    """Tokens the tool definitions add to the prompt ``history`` renders to (0 without tools or on a render error)."""
    if not tools:
        return 0
    from ftui.train.chat_template import render_chat

    try:
        with_tools = render_chat(tokenizer, history, generation_prompt=True, template=template, tools=tools)
        without = render_chat(tokenizer, history, generation_prompt=True, template=template)
    except Exception:  # noqa: BLE001 - the share is a courtesy; the prompt length above is what counts
        return 0
    count = len(tokenizer(with_tools, add_special_tokens=False)["input_ids"])
    return max(0, count - len(tokenizer(without, add_special_tokens=False)["input_ids"]))
