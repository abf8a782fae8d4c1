"""The Data screen's bridge to the core linter, stats and fixes (no Textual here).

The screen runs these in thread workers. Each function adapts the core API in
``ftui.data`` (lint / stats / clean / split / convert) to the few plain values the
screen shows, so the screen does not depend on the core's internal types. When a core
piece is missing the function raises :class:`NotAvailable` and the screen says so —
it never shows made-up numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class NotAvailable(Exception):
    """This capability is not in this build; the message says what is missing."""


@dataclass
class LintOutcome:
    """What the screen needs from a lint run."""

    format: str = "unknown"
    rows: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)


def check_titles() -> dict[str, str]:
    """Check id -> short title, from the catalogue (empty if it is not there)."""
    try:
        from ftui.data.checks.catalogue import CHECKS
    except ImportError:
        return {}
    return {cid: c.title for cid, c in CHECKS.items()}


def check_hint(check_id: str) -> str:
    try:
        from ftui.data.checks.catalogue import CHECKS
    except ImportError:
        return ""
    info = CHECKS.get(check_id)
    return info.hint if info else ""


def run_lint(
    path: Path,
    on_findings: Callable[[list[Any]], None],
    on_progress: Callable[[float], None],
    stop: threading.Event,
    eval_path: Path | None = None,
) -> LintOutcome:
    """Lint ``path`` with ``ftui.data.lint.lint_file``; findings are handed to ``on_findings``
    in batches as the linter streams them, progress as a 0..1 fraction of bytes read.

    Raises DatasetError (file level), NotAvailable (no linter in this build).
    """
    try:
        from ftui.data.lint import lint_file
    except ImportError as exc:
        raise NotAvailable(f"the linter (ftui.data.lint) is not available in this build: {exc}") from None

    def progress(rows_done: int, bytes_done: int, bytes_total: int) -> None:
        on_progress(bytes_done / bytes_total if bytes_total else 1.0)

    report = lint_file(path, eval_path=eval_path, on_progress=progress, on_findings=on_findings, cancel=stop)
    return LintOutcome(
        format=report.format_label or report.format,
        rows=report.rows,
        summary=dict(report.summary),
        stats=dict(report.stats),
        findings=list(report.findings),
    )


@dataclass
class FixPlan:
    """A fix the user is asked to confirm: what it does, the files it will write."""

    kind: str  # clean | split | convert
    source: Path
    describe: str
    outputs: list[Path]
    options: dict[str, Any] = field(default_factory=dict)


def plan_fix(kind: str, source: Path) -> FixPlan:
    """What ``kind`` would write for ``source`` (nothing is written yet)."""
    raise NotAvailable(f"{kind} is not available in this build yet (ftui.data.{kind} is missing)")


def run_fix(plan: FixPlan) -> str:
    """Write the files of ``plan``; returns a one-line summary."""
    raise NotAvailable(f"{plan.kind} is not available in this build yet")
