"""The ONE output normaliser, applied to every system before display, rating and metrics.

Why one: a blind comparison leaks identity when one side shows template debris (a base
model echoing ``<|im_start|>assistant``, rambling into a made-up next turn, repeating itself
until the token limit; an API model adding nothing). Running the same function, with the
same rules, over every system's raw output removes the tells without favouring either. No
per-tokenizer token list is used: a local model's outputs get exactly the pass an API
model's get (``RULES`` is what the rating screen's details show; ``NORMALIZER_VERSION`` is
stored in each session).

What it does, in order:
1. cut at the first end-of-turn marker (``<|im_end|>``, ``</s>``, ``<|eot_id|>``, ``<end_of_turn>``, …):
   anything after it is the model rambling into a next turn;
2. cut where the model starts a new turn in plain text after its answer began: a turn-start token
   (``<|im_start|>``, ``<start_of_turn>``, ``[INST]``, …) or a role line (``### Instruction:``,
   ``### Input:``, ``### Human:``, ``### User:``, ``User:``, ``Human:`` at the start of a line);
3. drop any remaining special tokens (``<|…|>``, ``<s>``, ``[INST]``, ``<start_of_turn>``, ``<bos>``, …);
4. drop a leading role marker line (``assistant``, ``Assistant:``, ``### Response:``);
5. trim a repetition loop at the end: when the text ends in three or more copies of the same run of
   1–50 words (six words or more in all), one copy is kept;
6. normalise newlines to ``\\n``, strip trailing whitespace on each line and at both ends.

It never changes words inside the answer, so a label or JSON object survives untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NORMALIZER_VERSION = 2

END_OF_TURN_MARKERS = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
    "<end_of_turn>",
    "</s>",
    "<|end_of_text|>",
)

TURN_START_MARKERS = ("<|im_start|>", "<start_of_turn>", "[INST]", "<|start_header_id|>", "<|user|>")

_ROLE_CUTOFF = re.compile(
    r"^[ \t]*(?:#{2,4}[ \t]*(?:instruction|input|human|user)\b|(?:user|human)[ \t]*:)",
    re.IGNORECASE | re.MULTILINE,
)

_SPECIAL = re.compile(
    r"<\|[^|<>\s]{1,40}\|>"  # <|im_start|>, <|pad|>, <|start_header_id|> …
    r"|</?s>"  # llama / mistral bos/eos
    r"|\[/?INST\]"  # mistral instruction markers
    r"|<<\/?SYS>>"
    r"|<(?:start|end)_of_[a-z_]{1,20}>"  # gemma: <start_of_turn>, <end_of_turn>, <start_of_image> …
    r"|<(?:bos|eos|pad|unk|mask)>"
)
_ROLE_LINE = re.compile(
    r"\A\s*(?:assistant|model)\s*(?::|\n)"  # 'assistant\n' left by a ChatML header, 'Assistant:'
    r"|\A\s*#{2,4}\s*(?:response|answer|assistant)\s*:?\s*\n",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")

LOOP_MIN_COPIES = 3
LOOP_MIN_WORDS = 6
LOOP_MAX_PERIOD = 50

RULES = (
    "cut at the first end-of-turn marker: " + ", ".join(END_OF_TURN_MARKERS),
    "cut where a new turn starts after the answer began: " + ", ".join(TURN_START_MARKERS)
    + ", or a line starting '### Instruction', '### Input', '### Human', '### User', 'User:', 'Human:'",
    "drop special tokens (<|…|>, <s>, </s>, [INST], <<SYS>>, <start_of_…>, <end_of_…>, <bos>, <eos>, <pad>, "
    "<unk>, <mask>) - the same pattern for local and API systems",
    "drop a leading role line (assistant, Assistant:, ### Response:)",
    f"trim a repetition loop at the end: {LOOP_MIN_COPIES}+ copies of the same 1-{LOOP_MAX_PERIOD} words "
    f"({LOOP_MIN_WORDS}+ words in all) are kept once",
    "newlines to \\n, trailing spaces removed",
)


def _has_content(text: str) -> bool:
    return bool(_ROLE_LINE.sub("", _SPECIAL.sub("", text), count=1).strip())


def _cut_new_turn(text: str) -> str:
    """Cut at the first turn start (token or role line) that follows some answer text."""
    cut = len(text)
    for marker in TURN_START_MARKERS:
        start = 0
        while (pos := text.find(marker, start)) != -1:
            if _has_content(text[:pos]):
                cut = min(cut, pos)
                break
            start = pos + len(marker)
    for m in _ROLE_CUTOFF.finditer(text):
        if m.start() >= cut:
            break
        if _has_content(text[: m.start()]):
            cut = m.start()
            break
    return text[:cut]


def _loop_start(words: list[str]) -> tuple[int, int] | None:
    """(index of the first word to drop, period) when ``words`` ends in a loop, else None."""
    n = len(words)
    best: tuple[int, int] | None = None
    for p in range(1, min(LOOP_MAX_PERIOD, n // LOOP_MIN_COPIES) + 1):
        j = n - 1
        while j >= p and words[j] == words[j - p]:
            j -= 1
        start = j + 1 - p  # words[start:] has period p
        length = n - start
        if length >= LOOP_MIN_COPIES * p and length >= LOOP_MIN_WORDS and (best is None or start + p < best[0]):
            best = (start + p, p)
    return best


def trim_repetition(text: str) -> str:
    """Keep one copy of a run of words that repeats (≥ ``LOOP_MIN_COPIES`` times) up to the end of the
    text; a last word cut short by the token limit (a prefix of the word it repeats) goes too."""
    spans = [m.span() for m in _WORD.finditer(text)]
    words = [text[a:b] for a, b in spans]
    found = _loop_start(words)
    if found is None and len(words) > 1:
        found = _loop_start(words[:-1])
        if found is not None and not words[-1 - found[1]].startswith(words[-1]):
            found = None
    if found is None or found[0] >= len(words):
        return text
    return text[: spans[found[0] - 1][1]]


def normalize_output(text: str, special_tokens: Iterable[str] = ()) -> str:
    """Return ``text`` with template remnants removed (see the module docstring for the exact steps).

    ``special_tokens`` are extra literal tokens to drop; the session and the generators pass none, so
    every system gets the same treatment."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    extra = [t for t in special_tokens if t]
    cut = len(text)
    for marker in END_OF_TURN_MARKERS:
        pos = text.find(marker)
        if pos != -1:
            cut = min(cut, pos)
    text = _cut_new_turn(text[:cut])
    for token in sorted(extra, key=len, reverse=True):
        text = text.replace(token, "")
    text = _SPECIAL.sub("", text)
    text = _ROLE_LINE.sub("", text, count=1)
    text = trim_repetition(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip()
