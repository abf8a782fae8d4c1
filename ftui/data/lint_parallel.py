"""Lint a large JSONL file with one process per CPU, each on a byte range, merged in file order.

Why processes: the per-row work is Python and holds the GIL. Each worker runs the same
``_Linter`` over rows [start, end) (row numbers from a newline count of the prefix),
streams progress and findings through a queue, and sends its state back; the parent
merges the states in order (``_Linter.merge``), which finds the duplicates and
contradictions that span two ranges. Workers are spawned (never forked: the TUI has
threads) with one shared ``PYTHONHASHSEED`` so their hash tables and MinHash bands agree,
and exit on their own if the parent dies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ftui.data import formats
from ftui.data.lint import MAX_ROW_BYTES, FindingsFn, ProgressFn, _drive, _Flag, _Linter, _Options
from ftui.data.source import SourceInfo, iter_raw_rows

PARALLEL_MIN_BYTES = 32 << 20
MAX_WORKERS = 4
_HASH_SEED = "20261123"  # workers share one str-hash seed so their hash tables and MinHash bands merge


class ParallelFailed(Exception):
    """Processes could not be used here; lint in this process instead."""


def worker_count(info: SourceInfo, requested: int | None, single_is_enough: bool = False) -> int:
    if requested is not None:
        n = requested
    elif info.size < PARALLEL_MIN_BYTES or single_is_enough:
        n = 1
    else:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            n = os.cpu_count() or 1
        n = min(n, MAX_WORKERS)
    return max(1, n) if info.kind == "jsonl" else 1


def _range_bounds(info: SourceInfo, n: int) -> list[tuple[int, int]]:
    """``n`` byte ranges that start at line starts and cover the file."""
    first = 3 if info.has_bom else 0
    cuts = [first]
    with open(info.path, "rb") as f:
        for k in range(1, n):
            f.seek(max(cuts[-1], info.size * k // n))
            f.readline()  # to the start of the next line
            pos = f.tell()
            if pos >= info.size or pos <= cuts[-1]:
                break
            cuts.append(pos)
    cuts.append(info.size)
    return [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]


def _count_lines_before(path: Path, end: int) -> int:
    count = 0
    with open(path, "rb") as f:
        while f.tell() < end:
            chunk = f.read(min(8 << 20, end - f.tell()))
            if not chunk:
                break
            count += chunk.count(b"\n")
    return count


def _range_worker(wid: int, info: SourceInfo, guess: formats.FormatGuess, opts: _Options, start: int, end: int, q: Any) -> None:
    """Process entry point: lint rows in [start, end), stream progress/findings, send the state back."""
    try:
        linter = opts.linter(info, guess)
        linter.base_row = 1 + _count_lines_before(info.path, start)
        linter.track_repeats = linter.base_row > 1
        done = 0
        sent = 0
        parent_pid = os.getppid()

        def after_batch(nbytes: int) -> None:
            nonlocal done, sent
            if os.getppid() != parent_pid:  # the parent is gone (killed): do not linger
                os._exit(1)
            done += nbytes
            new = linter.pending[sent:]
            sent = len(linter.pending)
            q.put(("progress", wid, linter.n, done, new))

        raws = iter_raw_rows(info.path, start, start_row=linter.base_row, info=info, max_row_bytes=MAX_ROW_BYTES)
        _drive(linter, raws, after_batch, None, end=end)
        q.put(("done", wid, linter.partial()))
    except BaseException as exc:  # report, never hang the parent
        q.put(("error", wid, f"{type(exc).__name__}: {exc}"))


def lint_parallel(
    info: SourceInfo,
    guess: formats.FormatGuess,
    opts: _Options,
    n: int,
    on_progress: ProgressFn | None,
    on_findings: FindingsFn | None,
    cancel: _Flag | None,
) -> tuple[_Linter, bool]:
    import multiprocessing as mp
    import queue

    bounds = _range_bounds(info, n)
    ctx = mp.get_context("spawn")  # never fork: the TUI has threads
    q = ctx.Queue()
    old_seed = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = _HASH_SEED
    procs = []
    try:
        for wid, (a, b) in enumerate(bounds):
            p = ctx.Process(target=_range_worker, args=(wid, info, guess, opts, a, b, q), daemon=True, name=f"ftui-lint-{wid}")
            p.start()
            procs.append(p)
    except Exception as exc:  # no processes here (sandbox, no /dev/shm...): lint in-process
        for p in procs:
            p.kill()
        raise ParallelFailed(str(exc)) from None
    finally:
        if old_seed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = old_seed
    partials: list[dict[str, Any] | None] = [None] * len(bounds)
    rows = [0] * len(bounds)
    done = [0] * len(bounds)
    cancelled = False
    try:
        while any(p is None for p in partials):
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            try:
                msg = q.get(timeout=0.2)
            except queue.Empty:
                if any(not p.is_alive() and partials[i] is None and p.exitcode not in (None, 0) for i, p in enumerate(procs)):
                    raise ParallelFailed("a lint worker died") from None
                continue
            kind, wid = msg[0], msg[1]
            if kind == "progress":
                rows[wid], done[wid] = msg[2], msg[3]
                if on_findings and msg[4]:
                    on_findings(msg[4])
                if on_progress:
                    on_progress(sum(rows), min(sum(done), info.size), info.size)
            elif kind == "done":
                partials[wid] = msg[2]
            else:
                raise ParallelFailed(msg[2])
    finally:
        for p in procs:
            if cancelled or p.is_alive():
                p.join(timeout=0 if cancelled else 5)
            if p.is_alive():
                p.kill()
        q.close()
    parent = opts.linter(info, guess) if not opts.eval_path else _Options(
        opts.profile, opts.tokenizer, opts.max_seq_len, opts.eval_path, False, opts.near_threshold).linter(info, guess)
    if opts.near_dups and parent.near is None:
        from ftui.data.dedup import MinHashLSH

        parent.near = MinHashLSH()
    if parent.eval is not None:
        parent.eval.lsh = None
    for part in partials:
        if part is None:
            break  # cancelled: merge the ranges that finished in order
        parent.merge(part)
    return parent, cancelled
