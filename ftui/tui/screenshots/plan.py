"""Plan screenshots: the wizard midway, an outcome card, the estimator, the cost calculator (a fixed 24 GB GPU)."""

from __future__ import annotations

from pathlib import Path

from ftui.tui.screenshots.scenario import Scenario


def _fixed_gpu(home: Path) -> None:
    import os

    os.environ["FTUI_GPU_GB"] = "24"


async def _wizard_midway(pilot, home: Path) -> None:  # noqa: ANN001
    await pilot.press("2", "n")


async def _outcome_card(pilot, home: Path) -> None:  # noqa: ANN001
    await pilot.press("2", "n", "1", "2")


async def _estimator(pilot, home: Path) -> None:  # noqa: ANN001
    from textual.widgets import Select

    screen = pilot.app.screen
    await pilot.press("2", "n", "1", "2")
    screen.query_one("#f-method", Select).value = "full"
    await pilot.pause()


async def _cost(pilot, home: Path) -> None:  # noqa: ANN001
    from textual.widgets import Input

    await pilot.press("3", "y", "y", "n", "c")  # the cost form is built when its tab first shows
    screen = pilot.app.screen
    screen.query_one("#c-requests", Input).value = "200000"
    await pilot.pause()


SCENARIOS: list[Scenario] = [
    Scenario("plan-wizard", "plan", _wizard_midway, _fixed_gpu),
    Scenario("plan-outcome", "plan", _outcome_card, _fixed_gpu),
    Scenario("plan-estimator", "plan", _estimator, _fixed_gpu),
    Scenario("plan-cost", "plan", _cost, _fixed_gpu),
]
