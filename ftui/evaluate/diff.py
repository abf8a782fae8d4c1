"""Word-level diff of two outputs, for the rating screen's ``d`` key.

Two long answers that differ in one number are hard to compare by eye; marking the words
that differ on each side makes the difference visible without saying which side is which
system. Whitespace is kept so each side re-renders exactly as it was shown.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_PIECES = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool  # True: this piece is not in the other output (at this position)


def _merge(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].changed == seg.changed:
            out[-1] = Segment(out[-1].text + seg.text, seg.changed)
        else:
            out.append(seg)
    return out


def word_diff(left: str, right: str) -> tuple[list[Segment], list[Segment]]:
    """Segments of each side; concatenating a side's texts gives that side back unchanged.
    Whitespace differences alone are not marked."""
    a, b = _PIECES.findall(left), _PIECES.findall(right)
    ka = [p if not p.isspace() else " " for p in a]
    kb = [p if not p.isspace() else " " for p in b]
    sm = difflib.SequenceMatcher(a=ka, b=kb, autojunk=False)
    left_out: list[Segment] = []
    right_out: list[Segment] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        same = op == "equal"
        left_out += [Segment(p, not same and not p.isspace()) for p in a[i1:i2]]
        right_out += [Segment(p, not same and not p.isspace()) for p in b[j1:j2]]
    return _merge(left_out), _merge(right_out)
