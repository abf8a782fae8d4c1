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
    """Lint ``path``; findings are handed to ``on_findings`` in batches as they are found."""
    try:
        from ftui.data import lint as core_lint
    except ImportError:
        raise NotAvailable("the linter (ftui.data.lint) is not available in this build") from None
    runner = getattr(core_lint, "lint_file", None) or getattr(core_lint, "lint", None)
    if runner is None:
        raise NotAvailable("ftui.data.lint has no lint_file() entry point")
    import inspect

    kwargs: dict[str, Any] = {}
    params = inspect.signature(runner).parameters
    if "on_finding" in params:
        batch: list[Any] = []
        kwargs["on_finding"] = batch.append
    else:
        batch = []
    if "on_progress" in params:
        kwargs["on_progress"] = on_progress
    if "progress" in params:
        kwargs["progress"] = on_progress
    if "stop" in params:
        kwargs["stop"] = stop
    if "eval_path" in params and eval_path is not None:
        kwargs["eval_path"] = eval_path
    report = runner(path, **kwargs)
    findings = list(getattr(report, "findings", None) or (report.get("findings", []) if isinstance(report, dict) else []))
    if not batch:
        on_findings(findings)
    else:
        on_findings(batch)
    return LintOutcome(
        format=str(_get(report, "format", "unknown")),
        rows=int(_get(report, "rows", 0) or 0),
        summary=dict(_get(report, "summary", {}) or {}),
        stats=dict(_get(report, "stats", {}) or {}),
        findings=findings,
    )


def _get(obj: Any, name: str, default: Any) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


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
