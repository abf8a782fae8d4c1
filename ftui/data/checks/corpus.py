"""File-wide checks that need the whole pass first: system-prompt drift (W006), missing
roles (W008), length outliers (W009), output-format consistency (W017), imbalance (W010),
and the stats with the info findings (I001-I005).

Each function reads the ``LintState`` the pass gathered (columns, counters) and emits
through it; nothing here re-reads the file except for the one example answer W010 quotes.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ftui.data import stats as stats_mod
from ftui.data.checks import content as C
from ftui.data.checks.structure import PROFILES
from ftui.data.checks.tokens import PER_MESSAGE

if TYPE_CHECKING:  # pragma: no cover
    from ftui.data.lint.state import LintState


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def system_drift(linter: LintState) -> None:
    with_sys = sum(linter.sys_count.values())
    if len(linter.sys_count) < 2 or with_sys < 5:
        return
    dom, dom_n = linter.sys_count.most_common(1)[0]
    if dom_n / with_sys < 0.6:
        return
    import numpy as np

    hashes = np.frombuffer(linter.sys_hash, dtype=np.uint64)
    for seq in np.flatnonzero((hashes != 0) & (hashes != np.uint64(dom))).tolist():
        example = linter.sys_example.get(int(hashes[seq]))
        shown = f": {_short(example)!r}" if example is not None else ""
        linter.emit_at(seq, "W006", f"system prompt differs from the one in {dom_n} of {with_sys} rows{shown}")


def missing_roles(linter: LintState) -> None:
    for flags, name in ((linter.has_sys, "system"), (linter.has_user, "user")):
        have = flags.count(1)
        lack = flags.count(0)
        if lack and have >= 5 and have / (have + lack) >= 0.8:
            import numpy as np

            for seq in np.flatnonzero(np.frombuffer(flags, dtype=np.uint8) == 0).tolist():
                linter.emit_at(seq, "W008", f"no {name} message, while {have} of {have + lack} rows have one")


def outliers(linter: LintState) -> None:
    import numpy as np

    for role, (seqs, lens) in linter.role_len.items():
        if len(lens) < 30:
            continue
        a = np.frombuffer(lens, dtype=np.int32).astype(np.float64)
        la = np.log1p(a)
        med = float(np.median(la))
        mad = float(np.median(np.abs(la - med)))
        if mad < 0.05:
            mad = 0.05
        z = 0.6745 * (la - med) / mad
        median_tokens = float(np.expm1(med))
        hit = np.nonzero((a > PER_MESSAGE) & (np.abs(z) > 3.5) & (np.abs(a - median_tokens) >= 20)
                         & ((a >= 5 * median_tokens) | (a * 5 <= median_tokens)))[0]
        est = linter.est_note()
        s = np.frombuffer(seqs, dtype=np.int64)
        for k in hit.tolist():
            if (int(s[k]), role) in linter.empty_turns:
                continue
            linter.emit_at(int(s[k]), "W009", f"{role} turn of {int(a[k]):,} tokens{est}; the median is {median_tokens:,.0f}")


def format_consistency(linter: LintState) -> None:
    import numpy as np

    kinds = np.frombuffer(linter.kinds, dtype=np.uint8)
    counts = Counter({k: int(c) for k, c in enumerate(np.bincount(kinds, minlength=1).tolist()) if k and c})
    total = sum(counts.values())
    if total < 10 or len(counts) < 2:
        return
    major, major_n = counts.most_common(1)[0]
    if major_n / total < 0.8:
        return
    name = C.KIND_NAMES[major]
    for seq in np.flatnonzero((kinds != 0) & (kinds != major)).tolist():
        k = int(kinds[seq])
        linter.emit_at(seq, "W017", f"the answer is {C.KIND_NAMES[k]}, while {major_n} of {total} answers are {name}")


def imbalance(linter: LintState) -> None:
    labels = linter.classification_labels()
    if labels:
        top, top_n = labels.most_common(1)[0]
        low, low_n = labels.most_common()[-1]
        total = sum(labels.values())
        if len(labels) >= 2 and (top_n / total > 0.5 or top_n >= 10 * low_n):
            linter.emit_at(None, "W010", f"class imbalance: {top!r} is {top_n} of {total} rows, {low!r} only {low_n}")
        return
    import numpy as np

    column = np.frombuffer(linter.answer_keys, dtype=np.uint64)
    answers = column[column != 0]
    total = len(answers)
    if total >= 20:
        ordered = np.sort(answers)
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        counts = np.diff(np.r_[starts, total])
        c = int(counts.max())
        if c / total >= 0.1 and c >= 5:
            # among answers given equally often, the one seen first
            first_seen = [int(np.flatnonzero(column == key)[0]) for key in ordered[starts[counts == c]].tolist()]
            example = linter.target_at(min(first_seen))
            linter.emit_at(None, "W010", f"one response dominates: {_short(example)!r} is the answer in {c} of {total} rows")


def _preference_shape(linter: LintState) -> str:
    """I001's second half for preference data: pairs and labelled answers, not SFT roles and turns."""
    import numpy as np

    labels = np.frombuffer(linter.pref.label, dtype=np.int8) if len(linter.pref.label) else np.zeros(0, dtype=np.int8)
    pairs, unpaired = int((labels < 0).sum()), int((labels >= 0).sum())
    parts = []
    if pairs:
        parts.append(f"{pairs:,} pair{'s' if pairs != 1 else ''} (prompt, chosen, rejected)")
    if unpaired:
        parts.append(f"{unpaired:,} labelled answer{'s' if unpaired != 1 else ''} (prompt, completion, label)")
    return " and ".join(parts) or "no usable pair"


def file_stats(linter: LintState, fmt_label: str, near_pairs: int) -> dict[str, Any]:
    import numpy as np

    per_role = {}
    for role, (_, lens) in sorted(linter.role_len.items()):
        per_role[role] = stats_mod.length_stats(np.frombuffer(lens, dtype=np.int32))
    totals = np.frombuffer(linter.totals, dtype=np.int32)
    totals = totals[totals > 0]
    assistant = linter.role_len.get("assistant")
    assistant_tokens = int(np.frombuffer(assistant[1], dtype=np.int32).sum()) if assistant else 0
    tokens = {
        "method": linter.counter.label,
        "estimated": linter.counter.estimated,
        "per_role": per_role,
        "per_row": stats_mod.length_stats(totals),
        "total": int(linter.all_tokens),
        "assistant": assistant_tokens,
        "trained": int(linter.trained_tokens),
        "trained_fraction": round(linter.trained_tokens / linter.all_tokens, 4) if linter.all_tokens else 0.0,
    }
    turns = dict(sorted(linter.turn_count.items()))
    labels = linter.classification_labels()
    cost = stats_mod.cost_estimate(totals, limit=PROFILES["openai"].hard_limit or 65_536)
    cost["estimated_tokens"] = linter.counter.estimated
    cost["trained_fraction"] = tokens["trained_fraction"]
    unique = linter.n - linter.exact_dup_rows - near_pairs
    dups = {
        "exact_duplicate_rows": linter.exact_dup_rows,
        "exact_groups": len(linter.dup_groups),
        "near_duplicate_rows": near_pairs if linter.near is not None else None,
        "near_clusters": linter.near_clusters if linter.near is not None else None,
        "contradictions": linter.contradictions,
        "diversity": round(unique / linter.n, 4) if linter.n else 0.0,
    }
    out = {
        "format": fmt_label,
        "rows": linter.n,
        "valid_rows": linter.valid,
        "rows_with_errors": len(linter.error_rows),
        "roles": {role: len(cols[1]) for role, cols in sorted(linter.role_len.items())},
        "turns_per_row": {str(k): v for k, v in turns.items()},
        "tokens": tokens,
        "labels": dict(labels.most_common()) if labels else None,
        "cost": cost,
        "duplicates": dups,
        "max_seq_len": linter.max_len,
        "hard_limit": linter.hard,
    }
    if linter.eval is not None:
        out["leakage"] = {"eval_path": str(linter.eval.path), "eval_rows": linter.eval.rows, "leaked_rows": len(linter.leaked)}
    info_findings(linter, out)
    return out


def info_findings(linter: LintState, s: dict[str, Any]) -> None:
    turns = linter.turn_count
    nturn = sum(turns.values())
    mean_turns = sum(k * v for k, v in turns.items()) / nturn if nturn else 0
    roles = ", ".join(f"{r} {c}" for r, c in s["roles"].items())
    if linter.pref is not None:
        linter.emit_at(None, "I001", f"{s['format']}: {linter.n} rows ({linter.valid} usable); {_preference_shape(linter)}")
    else:
        linter.emit_at(None, "I001", f"{s['format']}: {linter.n} rows ({linter.valid} usable); roles: {roles or 'none'}; "
                     f"{mean_turns:.1f} turns per row (max {max(turns) if turns else 0})")
    tok = s["tokens"]
    parts = [f"{r} p5/p50/p95/max {v['p5']:.0f}/{v['p50']:.0f}/{v['p95']:.0f}/{v['max']}"
             for r, v in tok["per_role"].items() if v.get("count")]
    linter.emit_at(None, "I002", f"token lengths per role, {tok['method']}: " + "; ".join(parts))
    cost = s["cost"]
    if cost["models"]:
        cheapest = min(cost["models"].items(), key=lambda kv: kv[1]["usd"])
        as_of = cost["prices_as_of"]
        dated = f"prices checked {as_of}" if as_of and as_of != "unknown" else "price table undated"
        price = f"e.g. {cheapest[0]} ${cheapest[1]['usd']:,.2f} ({dated})"
    else:
        price = "no price table"
    if linter.pref is not None:  # no SFT loss mask or SFT price applies: say what the figure is and is not
        linter.emit_at(None, "I003", f"{cost['tokens_per_epoch']:,} tokens per epoch{linter.est_note()}, prompts and every "
                     "answer counted; no cost estimate: the price table is for supervised fine-tuning, not preference training")
    else:
        linter.emit_at(None, "I003", f"{cost['billable_tokens']:,} billable tokens{linter.est_note()} = {cost['tokens_per_epoch']:,} x "
                     f"{cost['epochs']} epochs; {price}; trained-token fraction {tok['trained_fraction']:.0%}")
    if s["labels"]:
        dist = ", ".join(f"{k} {v}" for k, v in list(s["labels"].items())[:10])
        linter.emit_at(None, "I004", f"label distribution: {dist}")
    d = s["duplicates"]
    near = f", {d['near_duplicate_rows']} near-duplicate rows" if d["near_duplicate_rows"] is not None else ""
    linter.emit_at(None, "I005", f"{d['exact_duplicate_rows']} exact-duplicate rows in {d['exact_groups']} groups{near}; "
                 f"diversity {d['diversity']:.0%} unique")
