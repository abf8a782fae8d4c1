"""Preference data as its own kind: the row shapes TRL takes and the checks that mean something for them.

Paired rows (DPO / ORPO): ``prompt`` + ``chosen`` + ``rejected`` as strings or as
conversations (TRL's explicit prompt), or ``chosen`` + ``rejected`` conversations that
share their opening turns (TRL's implicit prompt: ``trl.data_utils.extract_prompt``), or
OpenAI's ``input`` + ``preferred_output`` + ``non_preferred_output``. Unpaired rows (KTO):
``prompt`` + ``completion`` + a boolean ``label``, or ``messages`` + ``label``.

Per row (in ``structure.check_preference``): empty side (E006), chosen identical to
rejected (W004), no shared prompt (E016). File-wide, from a few compact columns that a
parallel merge concatenates: pairs contradicting each other (W004), length bias (W018),
label balance (W019) and the summary figures (I006). Duplicated pairs are W002, found
like any duplicate row.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftui.data.textkey import text_key

LENGTH_BIAS_SHARE = 0.75  # chosen longer (or shorter) in this share of pairs or more: W018
LENGTH_BIAS_MIN_PAIRS = 10
LABEL_MINORITY_SHARE = 1 / 3  # the rarer label under this share of rows: W019


@dataclass(slots=True)
class PrefRecord:
    """What one preference row leaves for the file-wide checks (keys are ``text_key`` values)."""

    prompt: int
    chosen: int
    rejected: int  # 0 for unpaired rows
    chosen_len: int
    rejected_len: int
    label: int  # -1 paired, 0 / 1 unpaired


def record(prompt: str, chosen: str, rejected: str | None, label: bool | None) -> PrefRecord:
    """The record of a row from its prompt text and the text of each side."""
    return PrefRecord(
        text_key(prompt.strip().lower()),
        text_key(chosen.strip().lower()),
        text_key(rejected.strip().lower()) if rejected is not None else 0,
        len(chosen),
        len(rejected) if rejected is not None else 0,
        -1 if label is None else int(label),
    )


def shared_prefix(chosen: list[Any], rejected: list[Any]) -> int:
    """Messages both conversations open with (TRL's implicit prompt), never counting a shared answer."""
    n = 0
    while n < min(len(chosen), len(rejected)) and chosen[n] == rejected[n]:
        n += 1
    while n > 0 and type(chosen[n - 1]) is dict and chosen[n - 1].get("role") == "assistant":
        n -= 1
    return n


class PreferenceTally:
    """Columns indexed like the lint state's rows (``seq``): keys, side lengths, labels."""

    def __init__(self) -> None:
        self.seq = array("q")
        self.prompt = array("Q")
        self.chosen = array("Q")
        self.rejected = array("Q")
        self.chosen_len = array("q")
        self.rejected_len = array("q")
        self.label = array("b")

    def add(self, seq: int, r: PrefRecord) -> None:
        self.seq.append(seq)
        self.prompt.append(r.prompt)
        self.chosen.append(r.chosen)
        self.rejected.append(r.rejected)
        self.chosen_len.append(r.chosen_len)
        self.rejected_len.append(r.rejected_len)
        self.label.append(r.label)

    def merge(self, other: PreferenceTally, shift: int) -> None:
        """Append a later byte range's columns (its row numbers shift by ``shift``)."""
        self.seq.extend(s + shift for s in other.seq)
        for name in ("prompt", "chosen", "rejected", "chosen_len", "rejected_len", "label"):
            getattr(self, name).extend(getattr(other, name))


def finish(state: Any) -> None:
    """The file-wide preference checks on ``state.pref`` (a ``PreferenceTally``), emitted on ``state``."""
    t: PreferenceTally = state.pref
    labels = np.frombuffer(t.label, dtype=np.int8) if len(t.label) else np.zeros(0, dtype=np.int8)
    paired = labels < 0
    contradictions(state, t, paired)
    n_pairs, n_unpaired = int(paired.sum()), int((~paired).sum())
    parts = []
    if n_pairs:
        parts.append(length_bias(state, t, paired))
    if n_unpaired:
        parts.append(label_balance(state, labels[~paired]))
    if parts:
        state.emit_at(None, "I006", "preference: " + "; ".join(parts))


def contradictions(state: Any, t: PreferenceTally, paired: np.ndarray) -> None:
    """W004 for a pair that reverses an earlier one (same prompt, chosen and rejected swapped),
    or an unpaired completion labelled the other way before."""
    seen: dict[tuple[int, int, int], int] = {}
    for k, seq in enumerate(t.seq):
        if paired[k]:
            key, back = (t.prompt[k], t.chosen[k], t.rejected[k]), (t.prompt[k], t.rejected[k], t.chosen[k])
        else:
            key, back = (t.prompt[k], t.chosen[k], t.label[k]), (t.prompt[k], t.chosen[k], 1 - t.label[k])
        first = seen.get(back)
        if first is not None and key != back:
            what = "chosen and rejected swapped" if paired[k] else "the same completion labelled the other way"
            state.emit_at(seq, "W004", f"contradicts row {state.base_row + first}: same prompt, {what}")
        seen.setdefault(key, seq)


def length_bias(state: Any, t: PreferenceTally, paired: np.ndarray) -> str:
    """W018 when one side is systematically longer; returns the figure for I006."""
    c = np.frombuffer(t.chosen_len, dtype=np.int64)[paired]
    r = np.frombuffer(t.rejected_len, dtype=np.int64)[paired]
    n = len(c)
    longer = float((c > r).mean())
    shorter = float((c < r).mean())
    ratio = float(np.median((c + 1) / (r + 1)))
    figure = (f"{n:,} pairs; chosen longer in {longer:.0%}, shorter in {shorter:.0%}; "
              f"median chosen/rejected length {ratio:.2f}x")
    if n >= LENGTH_BIAS_MIN_PAIRS and max(longer, shorter) >= LENGTH_BIAS_SHARE:
        side = "longer" if longer >= shorter else "shorter"
        state.emit_at(None, "W018", f"length bias: chosen is {side} than rejected in {max(longer, shorter):.0%} of "
                      f"{n:,} pairs (median length ratio {ratio:.2f}x): the model can learn length instead of quality")
    return figure


def label_balance(state: Any, labels: np.ndarray) -> str:
    """W019 when one label is rare in unpaired data; returns the figure for I006."""
    n = len(labels)
    good = int(labels.sum())
    share = good / n
    figure = f"{n:,} unpaired rows; label true {good:,} ({share:.0%}), false {n - good:,}"
    if n >= 2 and min(share, 1 - share) < LABEL_MINORITY_SHARE:
        rare = "false (undesirable)" if share > 0.5 else "true (desirable)"
        state.emit_at(None, "W019", f"label balance: {share:.0%} of {n:,} rows are true; {rare} is rare. "
                      "Rebalance, or raise that label's weight (KTO desirable_weight / undesirable_weight)")
    return figure
