"""Text checks: PII/secrets (W011), encoding noise (W012), placeholders (W014), special
tokens (W015), NUL (E001), cut-off targets (W016) and the output kind used by W017.

Speed: running a dozen regexes on every row would cost more than parsing it. So the
linter first runs ``SUSPECT`` once over a whole batch of raw JSON lines (one C-level
scan whose branches all start with rare bytes) and only rows with a hit get the precise
per-text checks below. ``SUSPECT`` must match (at least) every raw-JSON form of what the
precise checks find; false hits only cost a precise check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

# What SUSPECT looks for, as one alternation. Run over raw JSON lines; a false hit only
# costs a precise check.
_SUSPECT_PARTS = [
    r"@",  # e-mail
    r"\{\{",
    r"\{[A-Za-z_][A-Za-z0-9_]{0,40}\}",  # {{name}} / {name}
    r"<[|/A-Za-z<]",  # <|im_end|>, </s>, <s>, <NAME>, <<SYS>>
    r"\[/",
    r"\[(?:INST|bold|italic|underline|strike|link|dim|reverse|blink|red|green|blue|yellow|magenta|cyan|white|black|b|i|u|s)[\]=\s]",
    r"###",
    r"\\(?:u00[01][0-9a-fA-F]|u007[fF]|u00[89][0-9a-fA-F]|u(?:fffd|FFFD|feff|FEFF)|[bf])",  # escaped controls
    "\ufffd",  # raw U+FFFD
    "\ufeff",  # raw BOM
    "[\u0080-\u009f]",  # raw C1 controls
    "\x7f",
    r"-[A-Za-z0-9_]{10}",  # sk-..., xoxb-...
    r"-----BEGIN",
    r"_[A-Za-z0-9]{30}",  # ghp_...
    r"AKIA[0-9A-Z]{16}",
    r"\(\d{3}\)",
    r"\+\d",
    r"-\d{3}-\d{4}",
    r"\.\d{3}\.\d{4}",  # phone numbers
]
# For RE2 (pyarrow.compute, GIL released, ~200 MB/s): a str pattern over UTF-8 bytes.
SUSPECT_RE2 = "|".join(_SUSPECT_PARTS)
# For Python's re on bytes (small files, or without pyarrow): ~60-120 MB/s.
SUSPECT = re.compile(SUSPECT_RE2.encode("utf-8"))


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w])")
SECRET = re.compile(
    r"\bsk-[A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
MARKUP = re.compile(
    r"\[/?(?:bold|italic|underline|strike|dim|reverse|blink|b|i|u|s|red|green|blue|yellow|magenta|cyan|white|black)\]"
    r"|\[link=[^\]]*\]|\[/link\]|\[/\]"
)
PLACEHOLDER = re.compile(
    r"\{\{\s*[\w.]+\s*\}\}|<(?:[A-Z][A-Z_]{2,30}|placeholder|PLACEHOLDER|insert[^<>]{0,30}|INSERT[^<>]{0,30}|your[ _][a-z ]{1,30})>"
)
BRACE_PLACEHOLDER = re.compile(r"(?<![{$\\])\{[a-z_][a-z0-9_]{1,30}\}(?!})")
SPECIAL = re.compile(
    r"<\|[A-Za-z0-9_]+\|>|</s>|<s>|\[/?INST\]|<<SYS>>|<</SYS>>|###\s*(?:Response|Instruction|Input|Assistant|Human)\s*:"
)
# Words a sentence does not end on: a target ending on one was probably cut off.
_DANGLING = frozenset("the a an and or but to of with for in on at by from that which is are was were as if".split())

Emit = Callable[[str, str], None]


def _preview(match: str) -> str:
    return match if len(match) <= 40 else match[:37] + "..."


_DIGIT = re.compile(r"\d")


def _email(text: str) -> re.Match[str] | None:
    r"""``EMAIL.search(text)``, started at the word before the first ``@``: no match can begin
    earlier (the local part is a run of ``[\w.+-]``, which no space or newline is in), and
    scanning the text before it from every position is what made the search slow."""
    at = text.find("@")
    if at < 0:
        return None
    return EMAIL.search(text, max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1)


def _may_hold_secret(text: str) -> bool:
    """Every SECRET branch holds one of these literals (the word boundary in front of them keeps re from skipping ahead)."""
    return "sk-" in text or "AKIA" in text or "xox" in text or "-----BEGIN" in text or ("gh" in text and "_" in text)


def check_text(role: str, index: int, text: str, emit: Emit) -> None:
    """Precise content checks on one message's text (called only for rows SUSPECT flagged).

    Each regex runs only when the text holds a character or literal every match of it
    needs (a digit for a phone number, ``[`` for markup, ...): the same findings, found
    without scanning the text eight times.
    """
    where = f"message {index + 1} ({role})"
    if "\x00" in text:
        emit("E001", f"{where} contains a NUL character")
    m = _email(text)
    if m:
        emit("W011", f"{where} contains an e-mail address: {_preview(m.group())}")
    m = PHONE.search(text) if _DIGIT.search(text) else None
    if m:
        emit("W011", f"{where} contains a phone number: {_preview(m.group())}")
    m = SECRET.search(text) if _may_hold_secret(text) else None
    if m:
        emit("W011", f"{where} contains something shaped like a secret key: {m.group()[:8]}...")
    noise = []
    if "\ufffd" in text:
        noise.append("U+FFFD replacement characters (text was decoded with errors)")
    if "\ufeff" in text:
        noise.append("a BOM (U+FEFF) inside the text")
    if "\x1b" in text:
        noise.append("ANSI escape sequences")
    if CONTROL.search(text):
        noise.append("control characters")
    bracket, angle = "[" in text, "<" in text
    m = MARKUP.search(text) if bracket else None
    if m:
        noise.append(f"Rich/BBCode markup {m.group()!r}")
    if noise:
        emit("W012", f"{where} contains " + ", ".join(noise))
    m = PLACEHOLDER.search(text) if angle or "{{" in text else None
    if m is None and "{" in text and "```" not in text:
        m = BRACE_PLACEHOLDER.search(text)
    if m:
        emit("W014", f"{where} has an unfilled placeholder {m.group()!r}")
    m = SPECIAL.search(text) if angle or bracket or "###" in text else None
    if m:
        emit("W015", f"{where} contains the raw special token {m.group()!r}")


KIND_NONE, KIND_PROSE, KIND_JSON, KIND_CODE = 0, 1, 2, 3
KIND_NAMES = {KIND_PROSE: "prose", KIND_JSON: "JSON", KIND_CODE: "code"}


def target_kind_and_cut(text: str) -> tuple[int, str | None]:
    """The output kind (prose / JSON / code) and, if the target looks cut off, why (W016)."""
    s = text.rstrip()
    if not s:
        return KIND_NONE, None
    first = s[0]
    if first == "{" or first == "[":
        try:
            orjson.loads(s)
            return KIND_JSON, None
        except orjson.JSONDecodeError:
            if first == "{" or s[-1] != "]":
                return KIND_JSON, "starts like JSON but does not parse (cut off?)"
            return KIND_PROSE, None
    if "```" in s:
        if s.count("```") % 2:
            return KIND_CODE, "has an open ``` code fence"
        return (KIND_CODE if s.startswith("```") else KIND_PROSE), None
    if len(s) >= 40:
        last = s[-1]
        if last in ",:(":
            return KIND_PROSE, f"ends on {last!r}, mid-sentence"
        if last.isalpha():
            word = s[s.rfind(" ") + 1 :].lower()
            if word in _DANGLING:
                return KIND_PROSE, f"ends on {word!r}, mid-sentence"
    return KIND_PROSE, None
