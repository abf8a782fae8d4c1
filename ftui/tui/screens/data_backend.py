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
    on_rows: Callable[[dict[str, Any]], None] | None = None,
    profile: str = "trl",
) -> LintOutcome:
    """Lint ``path`` with ``ftui.data.lint.lint_file`` in a child process.

    The first ``MAX_DETAILED`` findings arrive in full through ``on_findings``; after
    that (a file with millions of findings) only ``{id: [severity, [1-based rows]]}``
    through ``on_rows``, so neither the pipe nor the screen's memory grows with messages.

    Why a process: the linter is CPU-bound Python; in a thread it holds the GIL and the
    UI thread waits for it on every event-loop turn (keys took ~2 s on a 1.5 GB file).
    The child (``python -m ftui.tui.screens.data_backend``) writes one JSON message per
    line; this function, run from a thread worker, reads them (blocking reads release
    the GIL) and hands findings and progress on. ``stop`` kills the child.
    Raises DatasetError (file level), NotAvailable (no linter), RuntimeError (linter failed).
    """
    import subprocess
    import sys

    import orjson

    from ftui.data.source import DatasetError

    try:
        import ftui.data.lint  # noqa: F401 - fail here, clearly, if the linter is missing
    except ImportError as exc:
        raise NotAvailable(f"the linter (ftui.data.lint) is not available in this build: {exc}") from None
    argv = [sys.executable, "-m", "ftui.tui.screens.data_backend", profile, str(Path(path).resolve())]
    if eval_path is not None:
        argv.append(str(Path(eval_path).resolve()))
    # explicit stdio: the TUI owns the terminal, and Textual replaces sys.stdout/stderr
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    finished = threading.Event()

    def kill_on_stop() -> None:
        while not finished.is_set():
            if stop.wait(0.1):
                proc.kill()
                return

    threading.Thread(target=kill_on_stop, name="lint-stop", daemon=True).start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            kind, payload = orjson.loads(line)
            if kind == "findings":
                on_findings(payload)
            elif kind == "rows":
                if on_rows is not None:
                    on_rows(payload)
            elif kind == "progress":
                on_progress(payload)
            elif kind == "done":
                return LintOutcome(**payload)
            elif kind == "dataset_error":
                raise DatasetError(payload)
            elif kind == "error":
                raise RuntimeError(payload)
        if stop.is_set():
            return LintOutcome()
        raise RuntimeError(f"the linter process ended without a result (exit code {proc.wait()})")
    finally:
        finished.set()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _plain(value: Any) -> Any:
    """JSON fallback for the child's messages: numpy scalars as numbers, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _lint_child(profile: str, path: str, eval_path: str | None) -> int:
    """The lint process: JSON lines on stdout (no Textual imported here)."""
    import os
    import sys
    import time

    import orjson

    from ftui.data.lint import lint_file
    from ftui.data.source import DatasetError
    from ftui.tui.screens.data_findings import MAX_DETAILED

    try:
        os.nice(10)  # background work: the UI process gets the CPU first
    except OSError:
        pass
    out = sys.stdout.buffer
    last = [0.0]
    detailed = [0]

    def send(kind: str, payload: Any) -> None:
        out.write(orjson.dumps([kind, payload], default=_plain, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        out.flush()

    def progress(rows_done: int, bytes_done: int, bytes_total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1:
            last[0] = now
            send("progress", bytes_done / bytes_total if bytes_total else 1.0)

    def findings(batch: list[Any]) -> None:
        full, rows = [], {}
        for f in batch:
            if detailed[0] < MAX_DETAILED or f.row is None:
                detailed[0] += 1
                full.append(f.to_dict())
            else:
                rows.setdefault(f.id, [f.severity, []])[1].append(f.row)
        if full:
            send("findings", full)
        if rows:
            send("rows", rows)

    try:
        report = lint_file(path, profile=profile, eval_path=eval_path, on_progress=progress, on_findings=findings)
        send("done", {"format": report.format_label or report.format, "rows": report.rows,
                      "summary": dict(report.summary), "stats": dict(report.stats)})
    except BrokenPipeError:  # the parent went away (screen closed, re-lint)
        return 0
    except DatasetError as exc:
        send("dataset_error", str(exc))
    except Exception as exc:  # reported on screen in one line, never a traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        send("error", f"the linter failed: {type(exc).__name__}: {first}")
    return 0


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


if __name__ == "__main__":
    import sys

    raise SystemExit(_lint_child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
