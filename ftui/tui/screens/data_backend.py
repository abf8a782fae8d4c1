"""The Data screen's bridge to the core linter, stats and fixes (no Textual here).

The screen runs these in thread workers. Linting is the core's streaming API
(``ftui.data.lint.lint_in_child``) with this screen's detail budget; the rest adapts
``ftui.data`` (clean / split / convert) to the few plain values the screen shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.data.lint.stream import LintOutcome

__all__ = ["FixPlan", "FixQuestion", "LintOutcome", "NotAvailable", "check_hint", "check_titles", "fix_question",
           "run_fix", "run_lint"]


class NotAvailable(Exception):
    """This capability is not in this build; the message says what is missing."""


def check_titles() -> dict[str, str]:
    """Check id -> short title, from the catalogue."""
    from ftui.data.checks.catalogue import CHECKS

    return {cid: c.title for cid, c in CHECKS.items()}


def check_hint(check_id: str) -> str:
    from ftui.data.checks.catalogue import CHECKS

    info = CHECKS.get(check_id)
    return info.hint if info else ""


def run_lint(
    path: Path,
    on_findings: Callable[[list[Any]], None],
    on_progress: Callable[[float], None],
    stop: threading.Event,
    eval_path: Path | None = None,
    on_rows: Callable[[dict[str, Any]], None] | None = None,
    profile: str = "trl",
) -> LintOutcome:
    """Lint ``path`` in a child process (see ``ftui.data.lint.stream``), keeping the first
    ``data_findings.MAX_DETAILED`` findings in full. Raises DatasetError or RuntimeError."""
    from ftui.data.lint.stream import lint_in_child
    from ftui.tui.screens.data_findings import MAX_DETAILED

    return lint_in_child(path, on_findings, on_progress, stop, eval_path=eval_path, on_rows=on_rows, profile=profile,
                         max_detailed=MAX_DETAILED)


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
    stem = source.stem
    if kind == "clean":
        out = source.with_name(f"{stem}.clean.jsonl")
        plans = {
            "exact": FixPlan("clean", source, [out], {"drop_near_duplicates": False}),
            "near": FixPlan("clean", source, [out], {"drop_near_duplicates": True}),
            "images": FixPlan("clean", source, [out], {"drop_near_duplicates": False, "drop_images": True}),
        }
        question = (
            f"Clean {source.name}: drop rows with errors and duplicates (keeping the first), "
            f"normalise to chat JSONL.\n\nWrites:\n{_writes([out])}\n\nThe input file is not changed."
        )
        choices = [("y", "drop exact duplicates", "exact"), ("a", "also near duplicates", "near"),
                   ("i", "also rows with images", "images"), ("n", "cancel", "")]
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
    from ftui.data.formats import FORMAT_LABELS, PREFERENCE

    if kind == "convert" and fmt and (fmt == PREFERENCE or fmt.startswith(FORMAT_LABELS[PREFERENCE])):
        to_trl, to_openai = source.with_name(f"{stem}.trl.jsonl"), source.with_name(f"{stem}.openai.jsonl")
        plans = {"trl": FixPlan("convert", source, [to_trl], {"to": "trl"}),
                 "openai": FixPlan("convert", source, [to_openai], {"to": "openai"})}
        question = (
            f"Convert {source.name} ({fmt}):\n"
            f"  1  to TRL preference rows (explicit prompt; DPO / ORPO pairs or KTO rows):\n{_writes([to_trl])}\n"
            f"  2  to OpenAI preference fine-tuning JSONL (pairs only):\n{_writes([to_openai])}\n\nThe input file is not changed."
        )
        return FixQuestion(question, [("1", "TRL", "trl"), ("2", "OpenAI", "openai"), ("n", "cancel", "")], plans)
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
