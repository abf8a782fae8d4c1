"""The Data screen's store of lint findings, bounded in memory whatever the file size.

A 2M-row file can produce millions of findings (every row a duplicate). Keeping a dict
per finding would cost gigabytes and make the UI thread crawl, so the store keeps:

- the first ``MAX_DETAILED`` findings in full (message, hint) for the detail pane and
  the findings tree;
- for every finding, its row in a per-check-id ``array('Q')`` (8 bytes a row), which
  serves the id / severity filters, ``n``/``N`` and the row-list marks (found by
  bisecting those arrays for the ~40 visible rows, so no per-row dict exists).

No Textual here: the screen calls it from its message handlers.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from typing import Any

MAX_DETAILED = 50_000
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def attr(finding: Any, name: str) -> Any:
    return finding.get(name) if isinstance(finding, dict) else getattr(finding, name, None)


class FindingStore:
    """Findings by row and by check id; rows are 0-based.

    Rows of one id arrive in sorted batches, but not in file order (the linter may work
    on parts of the file in parallel), so each id keeps a few sorted *runs* that are
    merged pairwise as they grow (timsort merges two runs in C), and lookups bisect every
    run: adding stays cheap while the linter streams, and no full sort happens per batch.
    """

    def __init__(self, max_detailed: int = MAX_DETAILED) -> None:
        self.max_detailed = max_detailed
        self.detailed = 0
        self.by_row: dict[int, list[Any]] = defaultdict(list)
        self.file_level: list[Any] = []
        self.count_by_id: Counter[str] = Counter()
        self.severity_by_id: dict[str, str] = {}
        self.severity_counts: Counter[str] = Counter()
        self._runs: dict[str, list[array]] = {}
        self._merged: dict[str, array] = {}  # rows_for cache: sorted, unique

    @property
    def total(self) -> int:
        return sum(self.count_by_id.values())

    @property
    def truncated(self) -> bool:
        """Some findings are counted and located but their messages were not kept."""
        return self.total > self.detailed

    def add(self, findings: list[Any]) -> list[Any]:
        """Add full findings; returns those kept in detail (the rest only counted and located)."""
        kept: list[Any] = []
        rows: dict[str, list[int]] = defaultdict(list)
        for f in findings:
            check_id = str(attr(f, "id"))
            severity = str(attr(f, "severity") or "info")
            row = attr(f, "row")
            located = isinstance(row, int) and row >= 1
            self._count(check_id, severity, 1)
            if located:
                rows[check_id].append(row - 1)
            if self.detailed < self.max_detailed or not located:
                self.detailed += 1
                kept.append(f)
                if located:
                    self.by_row[row - 1].append(f)
                else:
                    self.file_level.append(f)
        for check_id, located_rows in rows.items():
            self._add_run(check_id, located_rows)
        return kept

    def add_rows(self, check_id: str, severity: str, rows: list[int]) -> None:
        """Add findings known only by id and 1-based rows (the compact form for big files)."""
        self._count(check_id, severity, len(rows))
        self._add_run(check_id, [r - 1 for r in rows])

    def _count(self, check_id: str, severity: str, n: int) -> None:
        self.count_by_id[check_id] += n
        self.severity_by_id.setdefault(check_id, severity)
        self.severity_counts[severity] += n

    def _add_run(self, check_id: str, rows: list[int]) -> None:
        if not rows:
            return
        runs = self._runs.setdefault(check_id, [])
        run = array("Q", rows if all(b >= a for a, b in zip(rows, rows[1:], strict=False)) else sorted(rows))
        if runs and run[0] >= runs[-1][-1]:
            runs[-1].extend(run)  # the common case: continues the last run
        else:
            runs.append(run)
            while len(runs) > 1 and len(runs[-2]) <= 2 * len(runs[-1]):
                last = runs.pop()
                runs[-1] = array("Q", sorted(runs[-1] + last))
        self._merged.pop(check_id, None)

    def rows_for(self, check_id: str) -> array:
        """Sorted unique rows with a finding ``check_id``."""
        merged = self._merged.get(check_id)
        if merged is None:
            runs = self._runs.get(check_id, [])
            if len(runs) == 1:
                merged = array("Q", sorted(set(runs[0]))) if _has_repeats(runs[0]) else runs[0]
            else:
                merged = array("Q", sorted(set().union(*runs)))
            self._merged[check_id] = merged
        return merged

    def ids(self) -> list[str]:
        return sorted(self.count_by_id, key=lambda c: (SEVERITY_ORDER.get(self.severity_by_id[c], 9), c))

    def rows_with_severity(self, severity: str) -> list[int]:
        rows: set[int] = set()
        for check_id, sev in self.severity_by_id.items():
            if sev == severity:
                rows.update(self.rows_for(check_id))
        return sorted(rows)

    def mark(self, row: int) -> tuple[str, str] | None:
        """(worst severity, "ID,ID") of the findings on ``row``, or None (bisects, no merge)."""
        worst, names = None, []
        for check_id, runs in self._runs.items():
            for run in runs:
                i = bisect_left(run, row)
                if i < len(run) and run[i] == row:
                    names.append(check_id)
                    severity = self.severity_by_id[check_id]
                    if worst is None or SEVERITY_ORDER.get(severity, 9) < SEVERITY_ORDER.get(worst, 9):
                        worst = severity
                    break
        if worst is None:
            return None
        names.sort(key=lambda c: (SEVERITY_ORDER.get(self.severity_by_id[c], 9), c))
        return worst, ",".join(names)

    def next_row(self, current: int, direction: int, check_id: str | None = None) -> int | None:
        """The nearest row with a finding after (direction 1) or before (-1) ``current``, wrapping."""
        ids = [check_id] if check_id else list(self._runs)
        runs = [r for c in ids for r in self._runs.get(c, []) if len(r)]
        if not runs:
            return None
        if direction > 0:
            after = [r[i] for r in runs if (i := bisect_right(r, current)) < len(r)]
            return min(after) if after else min(r[0] for r in runs)
        before = [r[i - 1] for r in runs if (i := bisect_left(r, current)) > 0]
        return max(before) if before else max(r[-1] for r in runs)

    def findings_at(self, row: int) -> list[Any]:
        return self.by_row.get(row, [])


def _has_repeats(run: array) -> bool:
    return any(b == a for a, b in zip(run, run[1:], strict=False)) if len(run) < 100_000 else len(set(run)) != len(run)
