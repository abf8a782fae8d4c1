"""Lint in a child process and stream what it finds: the API a UI calls (the Data screen does).

Why a process: the linter is CPU-bound Python; in a thread it holds the GIL and a UI
thread waits for it on every event-loop turn (keys took ~2 s on a 1.5 GB file). The
child (``python -m ftui.data.lint``) writes one JSON message per line; ``lint_in_child``,
run from a worker thread, reads them (blocking reads release the GIL) and hands findings
and progress on. Nothing heavy is imported here until a lint runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_DETAILED = 50_000  # findings sent in full; past this, only their ids and rows


@dataclass
class LintOutcome:
    """What a caller shows of a lint run (plain values: it crossed a pipe)."""

    format: str = "unknown"
    rows: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)


def lint_in_child(
    path: Path,
    on_findings: Callable[[list[dict[str, Any]]], None],
    on_progress: Callable[[float], None],
    stop: threading.Event,
    eval_path: Path | None = None,
    on_rows: Callable[[dict[str, Any]], None] | None = None,
    profile: str = "trl",
    max_detailed: int = MAX_DETAILED,
) -> LintOutcome:
    """Lint ``path`` with ``lint_file`` in a child process; ``stop`` kills the child.

    The first ``max_detailed`` findings arrive in full (``Finding.to_dict()``) through
    ``on_findings``; after that (a file with millions of findings) only
    ``{id: [severity, [1-based rows]]}`` through ``on_rows``, so neither the pipe nor the
    caller's memory grows with messages. ``on_progress`` gets the fraction of bytes done.
    Raises DatasetError (file level) or RuntimeError (the linter failed).
    """
    import subprocess
    import sys

    import orjson

    from ftui.data.source import DatasetError

    argv = [sys.executable, "-m", "ftui.data.lint", profile, str(max_detailed), str(Path(path).resolve())]
    if eval_path is not None:
        argv.append(str(Path(eval_path).resolve()))
    # explicit stdio: a TUI owns the terminal (and Textual replaces sys.stdout/stderr)
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


def lint_counts(path: Path, profile: str = "trl") -> dict[str, int]:
    """``path``'s errors, warnings and rows with errors as ``ftui lint`` and the Data screen count them.

    The same lint as theirs (every check, near duplicates included) in the same child process, so
    a form that shows a file's counts can never disagree with them (the Train form's own in-thread
    lint without the near-duplicate pass said 28 warnings where the Data screen said 29).
    Raises DatasetError or RuntimeError as ``lint_in_child`` does.
    """
    outcome = lint_in_child(path, lambda _batch: None, lambda _done: None, threading.Event(), profile=profile,
                            max_detailed=0)
    return {key: int(outcome.summary.get(key, 0)) for key in ("errors", "warnings", "rows_with_errors")}


def _plain(value: Any) -> Any:
    """JSON fallback for the child's messages: numpy scalars as numbers, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def child_main(argv: list[str]) -> int:
    """The lint process (``python -m ftui.data.lint PROFILE MAX_DETAILED PATH [EVAL_PATH]``): JSON lines on stdout."""
    import os
    import sys
    import time

    import orjson

    from ftui.data.lint.api import lint_file
    from ftui.data.source import DatasetError

    profile, max_detailed, path = argv[0], int(argv[1]), argv[2]
    eval_path = argv[3] if len(argv) > 3 else None
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
            if detailed[0] < max_detailed or f.row is None:
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
