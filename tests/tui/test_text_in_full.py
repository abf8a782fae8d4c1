"""Issue 13 (6): text that matters is never lost to width: a finding opens in full on Enter, the Train
form shows its first problem's fix whole, and run ids are shortened from their common prefix."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screens import data_backend
from ftui.tui.screens.train_runs import shorten_ids
from ftui.tui.widgets.findings_panel import FindingsPanel

SIZE = (120, 40)
LONG = ("row uses 31,162 tokens: at max_seq_len 2048 it is cut, which drops the answer from training; "
        "the budget is 31,162 x 3 epochs; each epoch repeats the cut. Raise max_seq_len or split the row.")


@pytest.fixture
def long_finding(monkeypatch: pytest.MonkeyPatch) -> dict:
    finding = {"id": "W009", "severity": "warning", "row": 2, "offset": 0, "message": LONG,
               "hint": "split the conversation into turns under 2048 tokens"}

    def run_lint(path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None,  # noqa: ANN001
                 profile="trl"):  # noqa: ANN001
        on_findings([finding])
        return data_backend.LintOutcome(format="chat", rows=3, summary={"errors": 0, "warnings": 1},
                                        findings=[finding])

    monkeypatch.setattr(data_backend, "run_lint", run_lint)
    return finding


async def test_enter_on_a_finding_shows_its_whole_message(tmp_path: Path, long_finding: dict) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for _ in range(3)))
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        panel = app.screen.query_one(FindingsPanel)
        for _ in range(200):
            if panel.group_ids():
                break
            await pilot.pause(0.02)
        panel.focus()
        panel.expand_group("W009")
        await pilot.pause()
        panel.move_cursor(panel.root.children[0].children[0])
        await pilot.press("enter")
        await pilot.pause()
        assert panel.last_shown is not None and LONG in panel.last_shown
        assert "split the conversation" in panel.last_shown
        assert any(LONG in str(n.message) for n in app._notifications)  # noqa: SLF001


async def test_the_first_problem_of_the_train_form_is_shown_whole(runs_dir: Path) -> None:
    from textual.widgets import Static

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        form = app.screen.form
        fix = "Fix: run 'hf download Qwen/Qwen2.5-0.5B-Instruct' on a machine with internet, " * 3
        form.parse_errors = {"model": fix.strip()}
        form._update_problems()  # noqa: SLF001
        await pilot.pause()
        shown = str(form.query_one("#form-problems", Static).render())
        assert fix.strip().split(" ")[-1] in shown.replace("\n", " ") and "…" not in shown


def test_ids_are_shortened_from_their_common_prefix() -> None:
    ids = ["20261202-101500-lora-support-tickets-lr2e-4", "20261202-101500-lora-support-tickets-lr5e-5"]
    shown = shorten_ids(ids, 28)
    assert shown[0] != shown[1] and shown[0].endswith("lr2e-4") and shown[1].endswith("lr5e-5")
    assert all(len(s) <= 28 for s in shown)
    assert shorten_ids(["short", "other"], 28) == ["short", "other"]
