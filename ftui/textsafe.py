"""Make untrusted text (dataset rows, model outputs, library errors) safe to display.

Terminal control sequences in data must never reach the terminal: an ESC sequence in
a dataset row could move the cursor, change colours or retitle the window. We replace
them with visible escapes so the user still sees they are there. (Rich markup is the
other hazard: callers pass the result to ``Text(...)`` / ``Content(...)``, never to a
markup-parsing widget.)
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and C1 CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS / SOS / PM / APC ... ST
    r"|\x1b[@-Z\\-_]"  # other Fe escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls except tab and newline, DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return "".join(_escape_char(c) for c in match.group(0))


def _escape_char(char: str) -> str:
    code = ord(char)
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture" for C0
    if code == 0x7F:
        return "␡"
    if 0x20 <= code < 0x7F:  # the printable rest of an escape sequence ("[31m") stays readable
        return char
    return f"\\x{code:02x}"


def neutralize(text: str) -> str:
    """``text`` with every terminal control sequence made visible and inert.

    Tabs and newlines are kept; ``\\r`` is shown as ␍ (a bare carriage return would
    overwrite the line in a terminal).
    """
    text = _ANSI.sub(_visible, text)
    return _CONTROL.sub(lambda m: _escape_char(m.group(0)), text)


def safe_print(*values: object, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:
    """``print`` with every value neutralised: CLI modules that print names, paths and remote
    text bind ``print = safe_print`` so no line of theirs can carry a terminal escape.
    A leading carriage return (a progress line redrawn in place) is kept."""
    import builtins

    def clean(value: object) -> str:
        text = str(value)
        return "\r" + neutralize(text[1:]) if text.startswith("\r") else neutralize(text)

    builtins.print(*(clean(v) for v in values), sep=sep, end=end, file=file, flush=flush)


def one_line(text: str, limit: int = 200) -> str:
    """A neutralised single-line preview, cut to ``limit`` characters with an ellipsis."""
    flat = neutralize(text).replace("\n", " ⏎ ").replace("\t", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def one_line_mid(text: str, limit: int = 40) -> str:
    """``one_line`` for names (systems, run ids), cut in the middle: the end is what tells names apart.

    ``run:20261203-190235-lora-demo-47fc`` cut at the end loses its method, model and hash, the part
    that differs from the run beside it; cut in the middle it keeps its kind and that end."""
    flat = one_line(text, 10_000)
    if len(flat) <= limit:
        return flat
    head = max((limit - 1) // 3, 1)
    return flat[:head] + "…" + flat[len(flat) - (limit - 1 - head):]
