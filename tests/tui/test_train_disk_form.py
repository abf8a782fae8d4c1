"""The Train form says, before a start, that the run's disk cannot hold what it writes (with the fix)."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest
from textual.widgets import Static

from ftui.train.preflight import disk
from ftui.tui.app import FtuiApp
from tests.tui.test_train_screen import SIZE, open_train, shown, wait_for

Usage = namedtuple("Usage", "total used free")


async def test_the_form_names_a_disk_too_small_for_the_run(runs_dir: Path, demo_model: Path,  # noqa: ARG001
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**9, 10**9, 1000.0))
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        form = screen.form
        await wait_for(pilot, lambda: form.checked and any(p.field == "output_dir" for p in form.deep_problems), 60,
                       "the disk problem")
        side = shown(form.query_one("#form-problems", Static)).replace("\n", " ")
        assert "1.0 kB free" in side and "Free disk space" in side
