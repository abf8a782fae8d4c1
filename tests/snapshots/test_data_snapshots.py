"""SVG snapshots of the Data screen on a small deterministic file.

The linter is replaced by a fixed list of findings and stats so the snapshot shows the
screen's layout, not the linter's current wording (the linter has its own tests).
"""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screens import data_backend

SIZE = (120, 40)
LABELS = ["billing", "technical", "account", "other"]

FINDINGS = [
    {"id": "E002", "severity": "error", "row": 4, "offset": 0, "message": "invalid JSON: unexpected end of data at column 41"},
    {"id": "E006", "severity": "error", "row": 7, "offset": 0, "message": "the assistant answer is empty"},
    {"id": "W002", "severity": "warning", "row": 9, "offset": 0, "message": "exact duplicate of row 2"},
    {"id": "W012", "severity": "warning", "row": 11, "offset": 0, "message": "ANSI escape sequence in user content"},
]
STATS = {
    "format": "chat messages",
    "rows": 14,
    "valid_rows": 13,
    "tokens": {
        "method": "estimate: 4 characters per token (no tokenizer)",
        "estimated": True,
        "total": 1234,
        "trained_fraction": 0.08,
        "per_row": {"p50": 80, "p95": 130, "max": 150},
        "per_role": {
            "user": {"p50": 40, "p95": 90, "histogram": {"edges": [0, 20, 40, 60, 80, 100], "counts": [1, 4, 5, 2, 1]}},
            "assistant": {"p50": 2, "p95": 3, "histogram": {"edges": [1, 2, 3, 4], "counts": [6, 5, 2]}},
        },
    },
    "labels": {"billing": 5, "technical": 4, "account": 3, "other": 1},
    "turns_per_row": {"3": 13},
}


def _chat(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [
        {"role": "system", "content": "Classify the ticket."},
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
    ]})


def _dataset(path: Path) -> Path:
    lines = [_chat(f"Ticket {i}: my invoice shows the wrong amount for seat {i}", LABELS[i % 4]) for i in range(14)]
    lines[3] = b'{"messages": [{"role": "user", "content": "cut'
    lines[6] = _chat("Where is my refund?", "")
    lines[8] = lines[1]
    lines[10] = _chat("Looks \x1b[31mred\x1b[0m and [bold]bold[/bold] here", "technical")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def fixed_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    def run_lint(path: Path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None, profile="trl"):
        on_findings(list(FINDINGS))
        return data_backend.LintOutcome(format="chat messages", rows=14, stats=STATS, findings=list(FINDINGS))

    monkeypatch.setattr(data_backend, "run_lint", run_lint)


async def _settled(pilot) -> None:
    screen = pilot.app.screen
    for _ in range(200):
        if screen.lint_state != "running" and screen.index is not None and screen.index.done:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.05)


def test_data_screen_rows_findings_detail(snap_compare, tmp_path: Path, fixed_lint: None) -> None:
    app = FtuiApp(data_path=_dataset(tmp_path / "tickets.jsonl"), start_mode="data")

    async def run_before(pilot) -> None:
        await _settled(pilot)
        await pilot.press("n", "n")  # second finding: the empty answer on row 7
        await pilot.pause(0.05)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_data_screen_filtered_by_id(snap_compare, tmp_path: Path, fixed_lint: None) -> None:
    app = FtuiApp(data_path=_dataset(tmp_path / "tickets.jsonl"), start_mode="data")

    async def run_before(pilot) -> None:
        await _settled(pilot)
        pilot.app.screen.set_id_filter("W012")
        await pilot.pause(0.05)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_data_screen_stats(snap_compare, tmp_path: Path, fixed_lint: None) -> None:
    app = FtuiApp(data_path=_dataset(tmp_path / "tickets.jsonl"), start_mode="data")

    async def run_before(pilot) -> None:
        await _settled(pilot)
        await pilot.press("t")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_data_screen_file_error(snap_compare) -> None:
    app = FtuiApp(data_path="no-such-dataset.jsonl", start_mode="data")
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: pilot.pause(0.05))
