"""The ONE output normaliser, applied to every system before display, rating and metrics.

Why one: a blind comparison leaks identity when one side shows template debris (a base
model echoing ``<|im_start|>assistant``, an API model adding nothing). Running the same
function over every system's raw output removes the tells without favouring either.

What it does, in order:
1. cut at the first end-of-turn marker (``<|im_end|>``, ``</s>``, ``<|eot_id|>``, ``<end_of_turn>``, …):
   anything after it is the model rambling into a next turn;
2. drop any remaining special tokens (``<|…|>``, ``<s>``, ``[INST]``, ``<start_of_turn>``, and the
   tokenizer's own special tokens when given);
3. drop a leading role marker line (``assistant``, ``Assistant:``, ``### Response:``);
4. normalise newlines to ``\\n``, strip trailing whitespace on each line and at both ends.

It never changes words inside the answer, so a label or JSON object survives untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

END_OF_TURN_MARKERS = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
    "<end_of_turn>",
    "</s>",
    "<|end_of_text|>",
)

_SPECIAL = re.compile(
    r"<\|[^|<>\s]{1,40}\|>"  # <|im_start|>, <|pad|>, <|start_header_id|> …
    r"|</?s>"  # llama / mistral bos/eos
    r"|\[/?INST\]"  # mistral instruction markers
    r"|<<\/?SYS>>"
    r"|<(?:start|end)_of_turn>"  # gemma
)
_ROLE_LINE = re.compile(
    r"\A\s*(?:assistant|model)\s*(?::|\n)"  # 'assistant\n' left by a ChatML header, 'Assistant:'
    r"|\A\s*#{2,4}\s*(?:response|answer|assistant)\s*:?\s*\n",
    re.IGNORECASE,
)


def normalize_output(text: str, special_tokens: Iterable[str] = ()) -> str:
    """Return ``text`` with template remnants removed (see the module docstring for the exact steps)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    extra = [t for t in special_tokens if t]
    cut = len(text)
    for marker in END_OF_TURN_MARKERS:
        pos = text.find(marker)
        if pos != -1:
            cut = min(cut, pos)
    text = text[:cut]
    for token in sorted(extra, key=len, reverse=True):
        text = text.replace(token, "")
    text = _SPECIAL.sub("", text)
    text = _ROLE_LINE.sub("", text, count=1)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip()
