"""SVG snapshots of the Train screen, fed from recorded event logs so every picture is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screenshots import train

SIZE = (120, 40)


@pytest.fixture
def recorded_runs(runs_dir: Path) -> Path:
    train._prepare_runs(runs_dir.parent)  # noqa: SLF001 - the same runs as the screenshots
    return runs_dir


def _setup(step):  # noqa: ANN001, ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        await step(pilot, Path("."))
        await pilot.pause(0.2)

    return run_before


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine has no GPU, whatever it has: the preflight and the checks see none (NVML, torch or FTUI_GPU_GB)."""
    from ftui.advisor import gpu

    monkeypatch.delenv("FTUI_GPU_GB", raising=False)
    monkeypatch.setattr(gpu, "detect_gpu", lambda: None)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)


def test_train_launcher(snap_compare, runs_dir: Path, no_gpu: None) -> None:
    assert snap_compare(FtuiApp(start_mode="train"), terminal_size=SIZE, run_before=_setup(train._launcher))  # noqa: SLF001


def test_train_monitor(snap_compare, recorded_runs: Path) -> None:
    assert snap_compare(FtuiApp(start_mode="train"), terminal_size=SIZE, run_before=_setup(train._monitor))  # noqa: SLF001


def test_train_runs_list(snap_compare, recorded_runs: Path) -> None:
    assert snap_compare(FtuiApp(start_mode="train"), terminal_size=SIZE, run_before=_setup(train._runs))  # noqa: SLF001


def test_train_compare(snap_compare, recorded_runs: Path) -> None:
    assert snap_compare(FtuiApp(start_mode="train"), terminal_size=SIZE, run_before=_setup(train._compare))  # noqa: SLF001
