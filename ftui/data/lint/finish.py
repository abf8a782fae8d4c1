"""After the pass: the file-wide checks over a ``LintState`` (E012, W002-W005, the corpus checks, W012) and the stats."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ftui.data.checks import corpus, preference
from ftui.data.checks.catalogue import CHECKS, WARNING
from ftui.data.lint.report import Finding
from ftui.data.lint.state import LintState


def finish(state: LintState, fmt_label: str) -> dict[str, Any]:
    """File-wide checks; returns the stats dict."""
    state.seq = -1
    prof = state.profile
    if state.valid < prof.min_rows:
        state.emit_at(None, "E012", f"{state.valid} usable rows; {prof.name} fine-tuning needs at least {prof.min_rows}")
    repeats(state)
    t = time.perf_counter()
    near_pairs = near_duplicates(state)
    state.near_seconds += time.perf_counter() - t
    if state.pref is not None:
        preference.finish(state)
    if state.sft and state.valid:
        corpus.system_drift(state)
        corpus.missing_roles(state)
        corpus.outliers(state)
        corpus.format_consistency(state)
        corpus.imbalance(state)
    image_rows = sum(1 for f in state.pending if f.id == "W020")
    if image_rows:
        state.emit_at(None, "W020", f"{image_rows:,} rows reference images; ftui trains text-only models: the placeholders "
                      "would be trained as text (ftui data clean --drop-images drops them)")
    if state.info.has_bom:
        state.pending.append(Finding("W012", WARNING, 1, 0, "the file starts with a UTF-8 BOM (some loaders keep it in the first key)",
                                     CHECKS["W012"].hint))
    return corpus.file_stats(state, fmt_label, near_pairs)


def repeats(state: LintState) -> None:
    """W002 and W004 from the key columns, exactly as one ordered pass would decide them:
    a row is a duplicate of the first row with its key; among the rows that are not, the
    first row with an input decides what any later answer to it contradicts."""
    full = np.frombuffer(state.full_keys, dtype=np.int64)
    rows = np.flatnonzero(full != 0)
    if not len(rows):
        return
    first = _first_of_key(full[rows], rows)
    dup = first != rows
    dup_rows, dup_first = rows[dup], first[dup]
    state.exact_dup_rows = len(dup_rows)
    state.dup_groups = set(dup_first.tolist())
    for seq, f in zip(dup_rows.tolist(), dup_first.tolist(), strict=True):
        state.emit_at(seq, "W002", f"exact duplicate of row {state.base_row + f}")
    inputs = np.frombuffer(state.input_keys, dtype=np.uint64)
    answers = np.frombuffer(state.answer_keys, dtype=np.uint64)
    keep = inputs != 0
    keep[dup_rows] = False
    rows = np.flatnonzero(keep)
    if not len(rows):
        return
    first = _first_of_key(inputs[rows], rows)
    bad = answers[rows] != answers[first]
    state.contradictions = int(bad.sum())
    for seq, f in zip(rows[bad].tolist(), first[bad].tolist(), strict=True):
        state.emit_at(seq, "W004", f"same input as row {state.base_row + f}, different output")


def _first_of_key(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows`` (ascending), the first row with the same key. Repeats are rare:
    one plain sort finds the repeated keys, and only their rows are matched up in order."""
    first = rows.copy()
    ordered = np.sort(keys)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return first
    hit = np.flatnonzero(np.isin(keys, repeated))
    seen: dict[int, int] = {}
    first[hit] = list(map(seen.setdefault, keys[hit].tolist(), rows[hit].tolist()))
    return first


def near_duplicates(state: LintState) -> int:
    """W003 for rows that nearly copy an earlier one (not already exact duplicates), then W005 near leaks."""
    count = 0
    if state.near is None or state.near.count == 0:
        return 0
    from ftui.data.dedup import verified_pairs

    pairs = verified_pairs(state.near.candidate_pairs(), state.doc_text, threshold=state.near_threshold)
    exact_rows = {f.row for f in state.pending if f.id == "W002"}
    flagged: set[int] = set()
    for i, j, jac in sorted(pairs, key=lambda p: (p[1], p[0])):
        a, b = state.near_seq[i], state.near_seq[j]
        if state.base_row + b in exact_rows or b in flagged:
            continue
        if jac >= 0.999 and state.doc_text(i) == state.doc_text(j):
            continue
        flagged.add(b)
        count += 1
        state.emit_at(b, "W003", f"near duplicate of row {state.base_row + a} (Jaccard {jac:.2f})")
    state.near_clusters = len({state.near_seq[i] for i, j, _ in pairs})
    if state.eval is not None:
        for seq, message in state.eval.near_copies(state.near, state.doc_text, state.near_seq, state.near_threshold, state.leaked):
            state.leaked.add(seq)
            state.emit_at(seq, "W005", message)
    return count
