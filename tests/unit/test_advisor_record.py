"""The Markdown decision record."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ftui.advisor.architectures import PRESETS
from ftui.advisor.record import render_record, save_record
from ftui.advisor.tree import walk
from ftui.advisor.vram import TrainSetup, estimate

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)


def test_record_has_answers_reasoning_and_estimate(tmp_path: Path) -> None:
    walker = walk(["2", "n", "1", "2"])
    est = estimate(PRESETS["8B"], TrainSetup("qlora"), gpu_gb=24)
    text = render_record(walker, est, now=NOW)
    assert "2026-01-02 03:04 UTC" in text
    assert "Style, tone or output format" in text  # an answer
    assert walker.outcome.title in text and walker.outcome.why in text
    assert "lora_r=16" in text and "Risks" in text
    assert "| **total** |" in text and "fits" in text
    path = save_record(text, tmp_path / "rec.md")
    assert path.read_text() == text


def test_record_mid_walk_and_default_location(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    text = render_record(walk({"gap": "1"}), now=NOW)
    assert "Not reached yet" in text
    path = save_record(text)
    assert path.parent == tmp_path and path.name.startswith("ftui-decision-")
