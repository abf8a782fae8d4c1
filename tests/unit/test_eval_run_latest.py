"""``run:latest`` picks the newest finished run's adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.evaluate.systems import SystemError_, run_adapter_dir
from ftui.train.events import EventLogWriter, Failed, Finished, Started


def _make_run(runs: Path, name: str, t: float, finished: bool) -> Path:
    run = runs / name
    (run / "adapter").mkdir(parents=True)
    with EventLogWriter(run / "events.jsonl") as log:
        log.write(Started(run_id=name, method="lora", model="demo", t=t))
        log.write(Finished(step=10, t=t + 5) if finished else Failed(message="boom", t=t + 5))
    return run


def test_latest_is_newest_finished_run(runs_dir: Path) -> None:
    _make_run(runs_dir, "old", 1000.0, finished=True)
    newest = _make_run(runs_dir, "newer", 2000.0, finished=True)
    _make_run(runs_dir, "newest-failed", 3000.0, finished=False)
    assert run_adapter_dir("latest") == newest / "adapter"


def test_latest_without_finished_run_says_what_to_do(runs_dir: Path) -> None:
    runs_dir.mkdir(parents=True)
    with pytest.raises(SystemError_, match="no finished training run"):
        run_adapter_dir("latest")
