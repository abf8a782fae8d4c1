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
    """A fix the user confirms: what it does and the files it will write (nothing written yet)."""

    kind: str  # clean | split | convert
    source: Path
    outputs: list[Path]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def replaces(self) -> list[Path]:
        return [p for p in self.outputs if p.exists()]


@dataclass
class FixQuestion:
    """The confirmation to show: the question, one-key choices, and the plan behind each choice."""

    question: str
    choices: list[tuple[str, str, str]]
    plans: dict[str, FixPlan]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _writes(outputs: list[Path]) -> str:
    return "\n".join(f"  {_shown(p)}" + ("   (exists: will be replaced)" if p.exists() else "") for p in outputs)


def fix_question(kind: str, source: Path, fmt: str | None = None) -> FixQuestion:
    """What ``kind`` (clean / split / convert) would do to ``source``, as a question to confirm."""
    try:
        from ftui.data import fix  # noqa: F401 - is the fix module there?
    except ImportError as exc:
        raise NotAvailable(f"{kind} is not available in this build (ftui.data.fix: {exc})") from None
    stem = source.stem
    if kind == "clean":
        out = source.with_name(f"{stem}.clean.jsonl")
        plans = {
            "exact": FixPlan("clean", source, [out], {"drop_near_duplicates": False}),
            "near": FixPlan("clean", source, [out], {"drop_near_duplicates": True}),
        }
        question = (
            f"Clean {source.name}: drop rows with errors and duplicates (keeping the first), "
            f"normalise to chat JSONL.\n\nWrites:\n{_writes([out])}\n\nThe input file is not changed."
        )
        choices = [("y", "drop exact duplicates", "exact"), ("a", "also near duplicates", "near"), ("n", "cancel", "")]
        return FixQuestion(question, choices, plans)
    if kind == "split":
        out_dir = source.with_name(f"{stem}_split")
        outputs = [out_dir / n for n in ("train.jsonl", "val.jsonl", "test.jsonl")]
        plans = {"go": FixPlan("split", source, outputs, {"val": 0.1, "test": 0.1, "seed": 0})}
        question = (
            f"Split {source.name} into train / val / test = 80 / 10 / 10 %, seed 0; stratified by label when the "
            f"answers are labels; duplicate and near-duplicate clusters stay on one side.\n\nWrites:\n{_writes(outputs)}"
            "\n\nThe input file is not changed."
        )
        return FixQuestion(question, [("y", "split", "go"), ("n", "cancel", "")], plans)
    if kind == "convert":
        to_chat = source.with_name(f"{stem}.chat.jsonl")
        to_openai = source.with_name(f"{stem}.openai.jsonl")
        plans = {
            "chat": FixPlan("convert", source, [to_chat], {"to": "chat"}),
            "openai": FixPlan("convert", source, [to_openai], {"to": "openai"}),
        }
        question = (
            f"Convert {source.name}" + (f" ({fmt})" if fmt else "") + ":\n"
            f"  1  to chat messages JSONL (TRL):\n{_writes([to_chat])}\n"
            f"  2  to OpenAI fine-tuning JSONL:\n{_writes([to_openai])}\n\nThe input file is not changed."
        )
        return FixQuestion(question, [("1", "chat", "chat"), ("2", "OpenAI", "openai"), ("n", "cancel", "")], plans)
    raise ValueError(f"unknown fix {kind!r}")


def run_fix(plan: FixPlan) -> list[str]:
    """Write the files of a confirmed ``plan``; returns the human summary lines.

    Raises ``ftui.data.fix.FixError`` / DatasetError with a one-line message when it cannot.
    """
    from ftui.data import fix

    if plan.kind == "clean":
        result = fix.clean(plan.source, out=plan.outputs[0], overwrite=True, **plan.options)
    elif plan.kind == "split":
        result = fix.split(plan.source, out_dir=plan.outputs[0].parent, overwrite=True, **plan.options)
    elif plan.kind == "convert":
        result = fix.convert(plan.source, out=plan.outputs[0], overwrite=True, **plan.options)
    else:
        raise ValueError(f"unknown fix {plan.kind!r}")
    return result.lines()
