"""Rows that cannot train, and the run's policy for them: ``on_bad_rows: refuse | skip``.

A row cannot train when the linter finds an error in it (not JSON, no answer, a prompt that
fills ``max_seq_len``, a broken preference pair...) or the model's chat template refuses it.
``refuse`` (the default) stops the run before it starts, naming the rows and both fixes;
``skip`` trains on the other rows and records each one it left out (its row number as
``ftui lint`` counts it, and why) in run.json (``bad_rows``) and in the run's ``data`` event,
so a skipped row is never a silent loss. Errors about the whole file are never skippable.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP = "skip"
REFUSE = "refuse"
SHOWN_MAX = 3  # lint errors a refusal names one by one before "and N more"
RECORD_MAX = 1000  # skipped rows listed in run.json (the count is always whole)
EVENT_MAX = 20  # skipped rows listed in the ``data`` event (the monitor shows the first few)
CACHED_MAX_BYTES = 32 << 20  # scans of files up to this size are remembered, keyed on their content
_SCANS: OrderedDict[tuple, BadRowScan] = OrderedDict()
_SCANS_LOCK = threading.Lock()


@dataclass(frozen=True)
class BadRow:
    """One row left out: its row number in the file, why, and which dataset it was in."""

    row: int | None
    reason: str
    dataset: str = "train"

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "row": self.row, "reason": self.reason}


@dataclass
class BadRowScan:
    """What the linter found in one file: the bad rows (row -> first error) and the file-level errors."""

    total: int = 0  # rows in the file
    rows: dict[int, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)  # every error, as 'ftui lint' prints it
    file_errors: list[str] = field(default_factory=list)  # about the whole file: skipping rows cannot fix them

    @property
    def rows_left(self) -> int:
        return max(0, self.total - len(self.rows))


def skips(config: Any) -> bool:
    """True when ``config`` (a RunConfig) trains on the rows it can and records the rest."""
    return getattr(config, "on_bad_rows", REFUSE) == SKIP


def scan_file(path: Path, max_seq_len: int | None = None) -> BadRowScan:
    """Lint ``path`` (no near-duplicate pass) and sort its errors into rows and file-level ones.

    ``max_seq_len``: the run's, so the length checks (E015) judge rows by the limit they will train
    at, not the profile's default of 1,024.

    Raises ``ftui.data.source.DatasetError`` when the file itself cannot be read.
    A file of up to 32 MB scanned before with the same content is not linted again: every check of
    a run (the form's on each change, ``train --check``, the run's start) scans the same files.
    """
    key = _scan_key(path, max_seq_len)
    if key is not None:
        with _SCANS_LOCK:
            if key in _SCANS:
                _SCANS.move_to_end(key)
                return copy.deepcopy(_SCANS[key])
    scan = _scan(path, max_seq_len)
    if key is not None:
        with _SCANS_LOCK:
            _SCANS[key] = copy.deepcopy(scan)
            while len(_SCANS) > 16:
                _SCANS.popitem(last=False)
    return scan


def _scan_key(path: Path, max_seq_len: int | None) -> tuple | None:
    """What a scan depends on: the file's place, identity and bytes, and the limit; None: not cached."""
    try:
        st = os.stat(path)
        if not os.path.isfile(path) or st.st_size > CACHED_MAX_BYTES:
            return None
        digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
        return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino, digest, max_seq_len)
    except OSError:
        return None


def _scan(path: Path, max_seq_len: int | None) -> BadRowScan:
    from ftui.data.lint import lint_file

    report = lint_file(path, max_seq_len=max_seq_len, near_dups=False)
    scan = BadRowScan(total=report.rows)
    for finding in report.findings:
        if not str(finding.severity).lower().endswith("error"):
            continue
        if finding.row is None:
            scan.file_errors.append(finding.message)
            scan.messages.append(finding.message)
            continue
        scan.rows.setdefault(finding.row, f"{finding.id} {finding.message}")
        scan.messages.append(f"row {finding.row}: {finding.message}")
    return scan


def skip_fix(bad: int, left: int) -> str:
    """The fix a bad-rows refusal names: the rows, or ``on_bad_rows: skip`` while any row is left to train."""
    if left <= 0:
        return "Fix the rows (see 'ftui lint') or pick another file: no row of it can train."
    rows = "row" if bad == 1 else "rows"
    return f"Fix the {rows} (see 'ftui lint'), or set on_bad_rows: skip to train on the other {left:,} rows."


def shown_messages(messages: list[str]) -> list[str]:
    """The first ``SHOWN_MAX`` errors, then how many more."""
    out = messages[:SHOWN_MAX]
    if len(messages) > SHOWN_MAX:
        out.append(f"and {len(messages) - SHOWN_MAX} more lint errors")
    return out


def record(rows: list[BadRow]) -> dict[str, Any]:
    """The run.json entry: the count, and the rows (the first ``RECORD_MAX``) with their reasons."""
    return {"policy": SKIP, "count": len(rows), "rows": [r.to_dict() for r in rows[:RECORD_MAX]]}


def describe(rows: list[BadRow], limit: int = 3) -> str:
    """One line for the run log: how many rows were skipped, and the first few with why."""
    shown = "; ".join(f"{r.dataset} row {r.row}: {r.reason}" if r.row is not None else f"{r.dataset}: {r.reason}"
                      for r in rows[:limit])
    more = f"; and {len(rows) - limit:,} more (run.json: bad_rows)" if len(rows) > limit else ""
    noun = "row" if len(rows) == 1 else "rows"
    return f"on_bad_rows: skip left out {len(rows):,} {noun} that cannot train: {shown}{more}"


def event_rows(rows: Any, dataset: str) -> tuple[list[dict[str, Any]] | None, int]:
    """(the first ``EVENT_MAX`` skipped rows of ``dataset`` for its ``data`` event, or None; how many there are)."""
    mine = [r for r in rows or () if r.dataset == dataset]
    return ([{"row": r.row, "reason": r.reason} for r in mine[:EVENT_MAX]] or None), len(mine)


def record_bad_rows(rows: Any, run_dir: Path, emit: Any, main: bool = True) -> None:
    """Say in the run log which rows ``on_bad_rows: skip`` left out, and keep them in run.json (rank 0)."""
    if not rows:
        return
    from ftui.train import runs
    from ftui.train.events import Message

    emit(Message(text=describe(list(rows)), level="warning"))
    if main:
        runs.update_run_metadata(run_dir, bad_rows=record(list(rows)))
