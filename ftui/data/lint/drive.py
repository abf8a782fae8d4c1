"""Feeding a file to a ``LintState``: batches of rows, the prefilter thread, the fast or Python path per batch.

JSONL is read in ~1 MB blocks of whole lines (``source.iter_jsonl_blocks``); one RE2 scan
over a block (``checks.content.SUSPECT``) picks the few rows that need the precise text
checks, and plain chat rows are parsed into columns by pyarrow and checked as arrays
(``fast``); every other row takes the Python path (``rows.lint_row``).
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import ftui.data.lint.fast as fastpath
from ftui.data import formats
from ftui.data.checks import content as C
from ftui.data.checks.structure import PROFILES
from ftui.data.lint.fast import Batch, prefilter_and_plan
from ftui.data.lint.report import CancelFlag
from ftui.data.lint.rows import lint_row
from ftui.data.lint.state import LintState
from ftui.data.source import RowBlock, SourceInfo, iter_jsonl_blocks, iter_raw_rows

# tuning knobs (tests change them to force many batches or the pyarrow path on small files)
_DEFAULT_BATCH_BYTES = 1 << 20
BATCH_BYTES = int(os.environ.get("FTUI_LINT_BATCH_BYTES", _DEFAULT_BATCH_BYTES))
# Batches of a file on the pyarrow path are this large: each pyarrow/numpy call on a batch
# has a fixed cost, and 4 MB still fits in cache (bench/lint.py file, CPU-s of one pass, best
# of 3: 1 MB 2.56, 2 MB 2.30, 4 MB 2.04, 8 MB 2.24, 16 MB 2.43).
ARROW_BATCH_BYTES = int(os.environ.get("FTUI_LINT_ARROW_BATCH_BYTES", 4 << 20))
MAX_ROW_BYTES = 64 << 20  # a longer row is reported (E013), not parsed
FAST_PATH = True  # tests switch it off to compare the two paths
# below this, Python's re is fast enough and importing pyarrow is not worth it
ARROW_MIN_BYTES = int(os.environ.get("FTUI_LINT_ARROW_MIN_BYTES", 8 << 20))
LINT_SWITCH_INTERVAL_S = 0.001


@dataclass(frozen=True)
class LintOptions:
    """What the caller asked for; picklable, so a parallel worker builds the same state."""

    profile: str
    tokenizer: str | None
    max_seq_len: int | None
    eval_path: str | None
    near_dups: bool
    near_threshold: float
    spill_dir: str | None = None  # where near-duplicate band hashes go (``MinHashLSH.spill``); the caller removes it

    def new_state(self, info: SourceInfo, guess: formats.FormatGuess) -> LintState:
        return LintState(info, guess, PROFILES[self.profile], self.tokenizer, self.max_seq_len, self.eval_path,
                         self.near_dups, self.near_threshold, fast_path=FAST_PATH, spill_dir=self.spill_dir)


def lint_batch(state: LintState, batch: Batch, pre: tuple[Any, Any, Any] | None = None) -> None:
    """Lint a batch of rows. ``pre`` comes from the prefilter thread: suspect flags (rows
    needing text checks) and, for plain chat, the batch parsed into columns and planned."""
    if pre is not None and isinstance(pre[2], list):  # parts of a batch the strict schema rejected as a whole
        for part, flags, plan in pre[2]:
            lint_batch(state, part, (flags, None, plan))
        return
    near_texts = state.near_texts if (state.near is not None or state.eval is not None) else None
    if pre is not None and pre[2] is not None:
        fastpath.apply_plan(state, batch, pre[0], pre[2], near_texts)
    else:
        suspects = set(np.flatnonzero(pre[0]).tolist()) if pre is not None else _suspects_re(batch)
        for j in range(batch.n):
            lint_row(state, batch.raw(j), j in suspects, near_texts)
    if state.near is not None and near_texts:
        t = time.perf_counter()
        state.near.add(near_texts)
        state.near_seconds += time.perf_counter() - t
        near_texts.clear()


def _suspects_re(batch: Batch) -> set[int]:
    """Rows of a batch that need the precise text checks (Python re over the joined batch)."""
    blob = batch.blob
    suspects: set[int] = set()
    m = C.SUSPECT.search(blob)
    if m is None:
        return suspects
    ends = batch.bounds[1:].tolist()
    while m is not None:
        j = bisect.bisect_right(ends, m.start())
        suspects.add(j)
        if j >= len(ends):
            break
        m = C.SUSPECT.search(blob, ends[j])  # one hit per row is enough
    return suspects


def _arrow_ok(size: int) -> bool:
    """Use the RE2/pyarrow prefilter: the file is big enough to pay for importing pyarrow."""
    if size < ARROW_MIN_BYTES:
        return False
    try:
        import pyarrow.compute  # noqa: F401
        import pyarrow.json  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def batch_bytes(size: int) -> int:
    """Bytes per batch: larger on the pyarrow path (fewer fixed costs); ``BATCH_BYTES`` on the
    Python path (a UI gets findings a batch at a time) and whenever it was set lower (tests)."""
    if size < ARROW_MIN_BYTES or BATCH_BYTES < _DEFAULT_BATCH_BYTES:
        return BATCH_BYTES
    return max(BATCH_BYTES, ARROW_BATCH_BYTES)


def iter_batches(info: SourceInfo, start: int = 0, end: int | None = None, start_row: int = 1) -> Iterator[Batch]:
    """The rows of ``info`` from ``start`` (a JSONL byte offset at a line start, else a row
    index) up to byte ``end``, as ~``BATCH_BYTES`` batches. JSONL blocks are read whole."""
    if info.kind == "jsonl":
        pending: list[Any] = []
        block = batch_bytes(info.size)
        for item in iter_jsonl_blocks(info, start, end, start_row=start_row, max_row_bytes=MAX_ROW_BYTES, block_bytes=block):
            if isinstance(item, RowBlock):
                if pending:
                    yield Batch.from_rows(pending)
                    pending = []
                yield Batch.from_block(item, MAX_ROW_BYTES)
            else:
                pending.append(item)
        if pending:
            yield Batch.from_rows(pending)
        return
    rows: list[Any] = []
    size = 0
    for raw in iter_raw_rows(info.path, start, info=info, max_row_bytes=MAX_ROW_BYTES):
        rows.append(raw)
        size += len(raw.data) + 1
        if size >= BATCH_BYTES:
            yield Batch.from_rows(rows)
            rows, size = [], 0
    if rows:
        yield Batch.from_rows(rows)


def drive(
    state: LintState, batches: Iterator[Batch], after_batch: Callable[[int], None], cancel: CancelFlag | None, threaded: bool = True
) -> bool:
    """Feed batches to ``state``; the prefilter of batch k+1 runs in a thread (pyarrow releases
    the GIL) while Python lints batch k, unless ``threaded`` is False (one process per core
    already: the thread would only add GIL hand-offs). Returns True if cancelled.

    The cyclic GC is paused meanwhile: the pass allocates millions of small acyclic objects
    and the hash tables grow, so generation-2 collections would rescan them again and again.
    The GIL switch interval drops to 1 ms: each time the prefilter thread comes back from a
    pyarrow call it needs the GIL from the linting thread, and at the default 5 ms those
    hand-backs add ~10% to the pass (200k-row bench file: median 2.99 s -> 2.69 s over 6 runs).
    """
    import gc
    import sys

    gc_was_enabled = gc.isenabled()
    gc.disable()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, LINT_SWITCH_INTERVAL_S))
    try:
        return _drive_batches(state, batches, after_batch, cancel, threaded)
    finally:
        sys.setswitchinterval(interval)
        if gc_was_enabled:
            gc.enable()


def _drive_batches(
    state: LintState, batches: Iterator[Batch], after_batch: Callable[[int], None], cancel: CancelFlag | None, threaded: bool
) -> bool:
    arrow = _arrow_ok(state.info.size)
    params = state.fast_params
    if not threaded:
        for batch in batches:
            lint_batch(state, batch, prefilter_and_plan(batch, params) if arrow else None)
            after_batch(batch.nbytes)
            if cancel is not None and cancel.is_set():
                return True
        return False
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="ftui-lint-prefilter") if arrow else None
    queued: tuple[Batch, Any] | None = None

    def run(item: tuple[Batch, Any]) -> None:
        batch, fut = item
        lint_batch(state, batch, fut.result() if fut is not None else None)
        after_batch(batch.nbytes)

    try:
        for batch in batches:
            fut = pool.submit(prefilter_and_plan, batch, params) if pool else None
            if queued:
                run(queued)
            queued = (batch, fut)
            if cancel is not None and cancel.is_set():
                return True
        if queued:
            run(queued)
    finally:
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
    return False
