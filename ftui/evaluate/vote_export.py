"""Votes out of a session: ``csv`` / ``jsonl`` rows, or ``dpo`` preference pairs for TRL.

Separate from the session store because it only reads what the log holds (effective votes of
every rater) and the plan's outputs; ``BlindSession.export`` checks the unblind, then calls here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from ftui.evaluate.session_plan import DECISIVE, SessionError, SessionPlan, VoteRecord

EXPORT_FORMATS = ("csv", "jsonl", "dpo")
CSV_FIELDS = ("item_id", "rater", "left", "right", "choice", "preferred", "note", "flags", "shown_at", "dwell_ms",
              "fast", "seed", "task")


def export_votes(plan: SessionPlan, votes: Sequence[VoteRecord], path: Path, fmt: str) -> int:
    """Write ``votes`` to ``path``. ``dpo`` writes TRL conversational preference rows
    ``{"prompt": [messages], "chosen": [assistant], "rejected": [assistant]}``, one per (item, pair)
    with a strict majority of decisive votes (contradicting raters cancel out)."""
    if fmt not in EXPORT_FORMATS:
        raise SessionError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_FIELDS)
            for v in votes:
                w.writerow([v.item_id, v.rater, v.left, v.right, v.choice, v.preferred or "", v.note,
                            ";".join(v.flags), v.shown_at, v.dwell_ms, int(v.fast), v.seed, v.task])
        return len(votes)
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for v in votes:
                rec = v.to_record()
                rec.pop("type")
                rec["preferred"] = v.preferred
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return len(votes)
    tally: dict[tuple[str, tuple[str, str]], list[int]] = {}
    for v in votes:
        if v.choice in DECISIVE:
            t = tally.setdefault((v.item_id, v.pair), [0, 0])
            t[0 if v.preferred == v.pair[0] else 1] += 1
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for (item_id, (a, b)), (va, vb) in tally.items():
            if va == vb:
                continue
            chosen, rejected = (a, b) if va > vb else (b, a)
            item = plan.item(item_id)
            row = {
                "prompt": [dict(m) for m in item.messages],
                "chosen": [{"role": "assistant", "content": plan.outputs[chosen][item_id]}],
                "rejected": [{"role": "assistant", "content": plan.outputs[rejected][item_id]}],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
