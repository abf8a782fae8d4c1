"""Lint a large JSONL file with one process per CPU, each on a byte range, merged in file order.

Why processes: the per-row work is Python and holds the GIL. The calling process lints
the first range itself while spawned workers run the same ``LintState`` over the later
ranges [start, end) (row numbers from a newline count of the prefix), stream progress
and findings through a queue, and send their state back; the caller merges the states
in order (``LintState.merge``), which finds the duplicates and contradictions that span two
ranges. The first range is larger by what the caller gets done while a worker starts
(``HEAD_START_S``). Workers are forked when this process has one thread (the CLI) and
spawned otherwise (the TUI has threads), spawned ones with one shared ``PYTHONHASHSEED``
so their MinHash bands agree; they exit on their own if the parent dies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ftui.data import formats
from ftui.data.lint.drive import LintOptions, drive, iter_batches
from ftui.data.lint.report import CancelFlag, FindingsFn, ProgressFn
from ftui.data.lint.state import LintState
from ftui.data.source import SourceInfo

PARALLEL_MIN_BYTES = 32 << 20
MAX_WORKERS = 4
# A spawned worker needs ~0.3 s (interpreter, numpy, pyarrow) before its first row; the
# caller lints meanwhile, at roughly this many bytes per second on one core.
HEAD_START_S = 0.3
HEAD_START_FORK_S = 0.05  # a forked one only counts the lines before its range
HEAD_START_RATE = 80e6
_HASH_SEED = "20261123"  # workers share one str-hash seed so their hash tables and MinHash bands merge


class ParallelFailed(Exception):
    """Processes could not be used here; lint in this process instead."""


def _context() -> tuple[Any, bool]:
    """Fork when this process runs a single thread: a forked worker starts in milliseconds
    (a spawned one imports numpy and pyarrow first, ~0.25 s) and shares the str-hash salt.
    Spawn otherwise: forking a process with other threads (the TUI) can deadlock the child
    on a lock one of them held. ``FTUI_LINT_START=spawn`` forces spawning."""
    import multiprocessing as mp
    import threading

    if (os.environ.get("FTUI_LINT_START") != "spawn" and "fork" in mp.get_all_start_methods()
            and threading.active_count() == 1):
        return mp.get_context("fork"), True
    return mp.get_context("spawn"), False


def _restore_seed(old: str | None) -> None:
    if old is None:
        os.environ.pop("PYTHONHASHSEED", None)
    else:
        os.environ["PYTHONHASHSEED"] = old


def worker_count(info: SourceInfo, requested: int | None) -> int:
    if requested is not None:
        n = requested
    elif info.size < PARALLEL_MIN_BYTES:
        n = 1
    else:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            n = os.cpu_count() or 1
        n = min(n, MAX_WORKERS)
    return max(1, n) if info.kind == "jsonl" else 1


def _range_bounds(info: SourceInfo, n: int, head_start: int = 0) -> list[tuple[int, int]]:
    """``n`` byte ranges that start at line starts and cover the file; the first is
    ``head_start`` bytes longer than an even share (at most three quarters of the file)."""
    first = 3 if info.has_bom else 0
    share = info.size / n
    lead = min(head_start * (n - 1) / n, info.size * 0.75 - share) if n > 1 else 0
    cuts = [first]
    with open(info.path, "rb") as f:
        for k in range(1, n):
            target = int(share + lead + (k - 1) * (info.size - share - lead) / (n - 1))
            f.seek(max(cuts[-1], target))
            f.readline()  # to the start of the next line
            pos = f.tell()
            if pos >= info.size or pos <= cuts[-1]:
                break
            cuts.append(pos)
    cuts.append(info.size)
    return [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]


COUNT_WINDOW = 64 << 20  # bytes mapped at a time by _count_lines_before


def _count_lines_before(path: Path, end: int) -> int:
    """Newlines in the first ``end`` bytes (mapped, counted by numpy: 3x a read + bytes.count).
    Mapped a window at a time: every page of a mapping counts in RSS until it is unmapped,
    and one map of the whole prefix made the last worker of a 1.5 GB lint 750 MB "large"."""
    import mmap

    import numpy as np

    count = 0
    with open(path, "rb") as f:
        end = min(end, os.fstat(f.fileno()).st_size)
        for start in range(0, max(end, 0), COUNT_WINDOW):  # a multiple of mmap.ALLOCATIONGRANULARITY
            length = min(COUNT_WINDOW, end - start)
            with mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ, offset=start) as mm:
                data = np.frombuffer(mm, dtype=np.uint8)
                count += sum(int(np.count_nonzero(data[i : i + (4 << 20)] == 10)) for i in range(0, length, 4 << 20))
                del data  # the map cannot close while a view is alive
    return count


TEMP_PREFIX = "ftui-lint-"


def temp_dir() -> str:
    """A fresh temp dir named after this process, once the dirs of lints that died are gone.
    Why: the Data screen stops a lint by killing its process (``stream.lint_in_child``), which
    leaves its dir behind (a 1.5 GB file's spilled band hashes and worker states: ~400 MB)."""
    import shutil
    import tempfile

    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(TEMP_PREFIX)]
    except OSError:
        names = []
    for name in names:
        pid, _, rest = name[len(TEMP_PREFIX) :].partition("-")
        if pid.isdigit() and rest and not _alive(int(pid)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _range_worker(wid: int, info: SourceInfo, guess: formats.FormatGuess, opts: LintOptions, start: int, end: int, q: Any,
                  spill_dir: str) -> None:
    """Process entry point: lint rows in [start, end), stream progress/findings, send the state back."""
    try:
        linter = opts.new_state(info, guess)
        linter.base_row = 1 + _count_lines_before(info.path, start)
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

        drive(linter, iter_batches(info, start, end, linter.base_row), after_batch, None, threaded=False)
        q.put(("done", wid, _spill(linter.partial(), spill_dir)))
    except BaseException as exc:  # report, never hang the parent
        q.put(("error", wid, f"{type(exc).__name__}: {exc}"))
    # once the queue is flushed, skip tearing down 100k-entry tables: the parent waits on this exit
    q.close()
    q.join_thread()
    os._exit(0)


def _spill(partial: dict[str, Any], directory: str) -> str:
    """Write a worker's state to a file in ``directory`` and return its path. Why not the queue:
    it pickles the whole state into one buffer beside the state (a 1.5 GB file: ~250 MB twice
    per worker), and the parent would hold every worker's state at once; files are read back
    one at a time, just before each merge."""
    import pickle
    import tempfile

    fd, path = tempfile.mkstemp(prefix="part-", suffix=".pickle", dir=directory)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(partial, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _unspill(path: str) -> dict[str, Any]:
    import pickle

    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    finally:
        os.unlink(path)


def lint_parallel(
    info: SourceInfo,
    guess: formats.FormatGuess,
    opts: LintOptions,
    n: int,
    on_progress: ProgressFn | None,
    on_findings: FindingsFn | None,
    cancel: CancelFlag | None,
) -> tuple[LintState, bool]:
    import shutil

    try:
        spill_dir = temp_dir()  # the workers' states (``_spill``), removed whatever happens
    except OSError as exc:  # no writable temp dir: lint in this process
        raise ParallelFailed(str(exc)) from None
    try:
        return _lint_parallel(info, guess, opts, n, on_progress, on_findings, cancel, spill_dir)
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _lint_parallel(
    info: SourceInfo,
    guess: formats.FormatGuess,
    opts: LintOptions,
    n: int,
    on_progress: ProgressFn | None,
    on_findings: FindingsFn | None,
    cancel: CancelFlag | None,
    spill_dir: str,
) -> tuple[LintState, bool]:
    import queue

    ctx, forked = _context()
    # MinHash bands come from str hashes, salted per process: a spawned worker's (they share
    # _HASH_SEED) would not match this process's, so for near duplicates a spawned worker
    # takes the first range too. Every other key is a text_key, the same in any process;
    # forked workers share this process's salt anyway.
    own_first = forked or not opts.near_dups
    head_start = HEAD_START_FORK_S if forked else HEAD_START_S
    bounds = _range_bounds(info, n, int(head_start * HEAD_START_RATE) if own_first else 0)
    q = ctx.Queue()
    old_seed = os.environ.get("PYTHONHASHSEED")
    if not forked:
        os.environ["PYTHONHASHSEED"] = _HASH_SEED
    procs = []
    try:
        for wid, (a, b) in enumerate(bounds):
            if wid == 0 and own_first:
                continue
            p = ctx.Process(target=_range_worker, args=(wid, info, guess, opts, a, b, q, spill_dir), daemon=True, name=f"ftui-lint-{wid}")
            p.start()
            procs.append(p)
    except Exception as exc:  # no processes here (sandbox, no /dev/shm...): lint in-process
        for p in procs:
            p.kill()
        raise ParallelFailed(str(exc)) from None
    finally:
        if not forked:
            _restore_seed(old_seed)
    first = opts.new_state(info, guess) if own_first else None
    partials: list[dict[str, Any] | None] = [None] * len(bounds)
    rows = [0] * len(bounds)
    done = [0] * len(bounds)
    cancelled = False

    def report() -> None:
        if on_progress:
            on_progress(sum(rows), min(sum(done), info.size), info.size)

    def handle(msg: tuple[Any, ...]) -> None:
        kind, wid = msg[0], msg[1]
        if kind == "progress":
            rows[wid], done[wid] = msg[2], msg[3]
            if on_findings and msg[4]:
                on_findings(msg[4])
            report()
        elif kind == "done":
            partials[wid] = msg[2]
        else:
            raise ParallelFailed(msg[2])

    try:
        if first is not None:
            streamed = 0

            def after_batch(nbytes: int) -> None:
                nonlocal streamed
                rows[0] = first.n
                done[0] += nbytes
                if on_findings and len(first.pending) > streamed:
                    on_findings(first.pending[streamed:])
                    streamed = len(first.pending)
                while True:  # the workers' news, without waiting
                    try:
                        handle(q.get_nowait())
                    except queue.Empty:
                        break
                report()

            cancelled = drive(first, iter_batches(info, *bounds[0]), after_batch, cancel, threaded=False)
            partials[0] = {}
            if any(p is None for p in partials):  # a worker is still busy: load what finish() needs meanwhile
                from ftui.data.stats import load_prices

                load_prices()
        while not cancelled and any(p is None for p in partials):
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            try:
                msg = q.get(timeout=0.2)
            except queue.Empty:
                if any(not p.is_alive() and p.exitcode not in (None, 0) and partials[int(p.name.rsplit("-", 1)[1])] is None
                       for p in procs):
                    raise ParallelFailed("a lint worker died") from None
                continue
            handle(msg)
    finally:
        for p in procs:
            if cancelled or p.is_alive():
                p.join(timeout=0 if cancelled else 5)
            if p.is_alive():
                p.kill()
        q.close()
    if first is not None:
        parent = first
    else:
        parent = opts.new_state(info, guess) if not opts.eval_path else LintOptions(
            opts.profile, opts.tokenizer, opts.max_seq_len, opts.eval_path, False, opts.near_threshold,
            opts.spill_dir).new_state(info, guess)
        if opts.near_dups and parent.near is None:
            from ftui.data.dedup import MinHashLSH

            parent.near = MinHashLSH()
        if parent.eval is not None:
            parent.eval.lsh = None
    for k in range(1 if first is not None else 0, len(partials)):
        if partials[k] is None:
            break  # cancelled: merge the ranges that finished in order
        path, partials[k] = partials[k], None
        parent.merge(_unspill(path))
    return parent, cancelled
