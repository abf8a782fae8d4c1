"""SVG snapshots of the Plan screen: the wizard mid-way, an outcome card, the estimator not fitting.

The GPU size is pinned with FTUI_GPU_GB so the picture is the same on a GPU box and a
laptop; the cost tab (whose figures depend on the sample data) is covered by Pilot tests.
"""

from __future__ import annotations

import pytest
from textual.widgets import Select

from ftui.tui.app import FtuiApp
from ftui.tui.screenshots.scenario import settle_workers

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _fixed_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_GPU_GB", "24")


async def _settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await settle_workers(pilot.app)
    await pilot.pause()


def _keys(*keys: str):  # noqa: ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        await _settle(pilot)
        await pilot.press(*keys)
        await _settle(pilot)

    return run_before


def test_plan_wizard_midway(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(FtuiApp(start_mode="plan"), run_before=_keys("2", "n"), terminal_size=SIZE)


def test_plan_outcome_card(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(FtuiApp(start_mode="plan"), run_before=_keys("2", "n", "1", "2"), terminal_size=SIZE)


def test_plan_estimator_does_not_fit(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await _settle(pilot)
        pilot.app.screen.query_one("#f-method", Select).value = "full"
        await _settle(pilot)

    assert snap_compare(FtuiApp(start_mode="plan"), run_before=run_before, terminal_size=SIZE)
