"""``lint_file``: lint one dataset file, in this process or in parallel byte ranges, and build the report."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import ftui.data.lint.drive as drive
from ftui.data import formats
from ftui.data.checks.catalogue import ERROR, INFO, SEVERITY_ORDER, WARNING
from ftui.data.checks.structure import PROFILES
from ftui.data.lint.drive import LintOptions
from ftui.data.lint.finish import finish
from ftui.data.lint.report import CancelFlag, FindingsFn, LintReport, ProgressFn
from ftui.data.lint.state import LintState
from ftui.data.source import DatasetError, inspect_source

SPILL_MIN_BYTES = 2 << 20  # below this the band hashes stay in memory: ~65k chat rows, 18 MB even of 15-byte rows


def _identity(path: Path) -> tuple[int, int, int] | None:
    """(size, mtime_ns, inode) of a regular file, to notice it changing while we read it; None otherwise."""
    import os
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def lint_file(
    path: str | Path,
    profile: str = "trl",
    tokenizer: str | None = None,
    max_seq_len: int | None = None,
    eval_path: str | Path | None = None,
    near_dups: bool = True,
    near_threshold: float = 0.8,
    on_progress: ProgressFn | None = None,
    on_findings: FindingsFn | None = None,
    cancel: CancelFlag | None = None,
    workers: int | None = None,
) -> LintReport:
    """Lint ``path``. Raises ``DatasetError`` (file level: unreadable), ``TokenizerError`` or ``ValueError`` (bad profile).

    ``workers``: processes for a large JSONL file (default: one per CPU, up to 4, for files
    over 32 MB; 1 = in this process). Each lints a byte range; the parent merges them.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    start = time.perf_counter()
    info = inspect_source(path)
    if eval_path is not None:
        inspect_source(eval_path)
    guess = formats.detect_format(path, info)
    # near-duplicate band hashes past a few MB go to a file here (dedup.MinHashLSH.spill), read back band by band;
    # a smaller file cannot have that many rows (no temp dir for the TUI's every lint)
    spill_dir = _spill_dir() if near_dups and info.size >= SPILL_MIN_BYTES else None
    opts = LintOptions(profile, tokenizer, max_seq_len, str(eval_path) if eval_path else None, near_dups, near_threshold,
                       spill_dir)
    try:
        total = info.size
        from ftui.data.lint.parallel import ParallelFailed, lint_parallel, worker_count

        nworkers = worker_count(info, workers)
        linter: LintState | None = None
        cancelled = False
        streamed = 0
        identity = _identity(info.path)
        if nworkers > 1:
            try:
                linter, cancelled = lint_parallel(info, guess, opts, nworkers, on_progress, on_findings, cancel)
                streamed = len(linter.pending) if on_findings else 0
            except ParallelFailed:
                linter, nworkers = None, 1
        if linter is None:
            linter = opts.new_state(info, guess)
            done = 0

            def after_batch(nbytes: int) -> None:
                nonlocal done, streamed
                done += nbytes
                if on_findings and len(linter.pending) > streamed:
                    on_findings(linter.pending[streamed:])
                    streamed = len(linter.pending)
                if on_progress:
                    on_progress(linter.n, min(done, total), total)

            cancelled = drive.drive(linter, drive.iter_batches(info), after_batch, cancel)
        if not cancelled and identity is not None and _identity(info.path) != identity:
            # Findings of a file that changed under us describe no file at all: say so, never "0 errors".
            now = _identity(info.path)
            raise DatasetError(
                f"{path} changed while it was read ({identity[0]:,} bytes when the lint started, "
                f"{now[0] if now else 0:,} bytes now; {linter.n:,} rows read): lint it again once it is completely written"
            )
        if on_progress and not cancelled:
            on_progress(linter.n, total, total)
        stats_dict = finish(linter, guess.label)
        findings = linter.pending
        if on_findings and len(findings) > streamed:
            on_findings(findings[streamed:])
        findings.sort(key=lambda f: (f.row is not None, f.row or 0, SEVERITY_ORDER[f.severity], f.id))
        counts = Counter(f.severity for f in findings)
        by_id = Counter(f.id for f in findings)
        summary = {
            "errors": counts.get(ERROR, 0),
            "warnings": counts.get(WARNING, 0),
            "info": counts.get(INFO, 0),
            "rows_with_errors": len(linter.error_rows),
            "by_id": dict(sorted(by_id.items())),
            "format_votes": guess.votes,
            "tokens": linter.counter.label,
        }
        return LintReport(
            format=guess.format,
            rows=linter.n,
            findings=findings,
            summary=summary,
            stats=stats_dict,
            path=str(path),
            profile=profile,
            format_label=guess.label,
            cancelled=cancelled,
            seconds=round(time.perf_counter() - start, 3),
            extra={"container": info.kind, "near_seconds": round(linter.near_seconds, 3),
                   "error_rows": sorted(linter.base_row + s for s in linter.error_rows), "workers": nworkers, "fast_rows": linter.fast_rows},
        )
    finally:
        if spill_dir is not None:
            import shutil

            shutil.rmtree(spill_dir, ignore_errors=True)


def _spill_dir() -> str | None:
    """A fresh temp dir for this lint's spill files; None (all in memory) when none can be made."""
    from ftui.data.lint.parallel import temp_dir

    try:
        return temp_dir()
    except OSError:
        return None
