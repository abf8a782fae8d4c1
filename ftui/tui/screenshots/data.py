"""Data screenshots: the clean sample linted, the dirty sample at its first error, the stats view,
and a preference file at a pair that reverses an earlier one (both sides and the preference findings)."""

from __future__ import annotations

from pathlib import Path

from ftui.paths import sample_data
from ftui.tui.screenshots.scenario import Scenario
from ftui.tui.widgets.findings_panel import FindingsPanel


async def _lint_settled(pilot, home: Path) -> None:  # noqa: ANN001
    screen = pilot.app.screen
    for _ in range(200):  # wait for the index and the lint worker (or its "not available")
        index = getattr(screen, "index", None)
        if getattr(screen, "lint_state", "running") != "running" and (index is None or index.done):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def _dirty_first_error(pilot, home: Path) -> None:  # noqa: ANN001
    await _lint_settled(pilot, home)
    screen = pilot.app.screen
    panel = screen.query_one(FindingsPanel)
    ids = panel.group_ids()
    if ids:
        panel.expand_group(ids[1] if len(ids) > 1 else ids[0])
    await pilot.press("n")
    await pilot.pause(0.1)


async def _stats(pilot, home: Path) -> None:  # noqa: ANN001
    await _lint_settled(pilot, home)
    await pilot.press("t")
    await pilot.pause(0.2)


async def _preference_pair(pilot, home: Path) -> None:  # noqa: ANN001
    await _lint_settled(pilot, home)
    screen = pilot.app.screen
    # every finding id at a glance (E006 E016 W002 W004 ... I006 with the pair figures): expanding one
    # would push I006 below the fold; the row's own W004 shows beside its two sides
    rows = screen.query_one("RowList")
    for _ in range(17):  # row 18: chosen and rejected of row 6, swapped
        await pilot.press("down")
    for _ in range(100):
        if rows.current_row == 17:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.2)


SCENARIOS: list[Scenario] = [
    Scenario("data", "data", _lint_settled),
    Scenario("data-dirty", "data", _dirty_first_error, data_path=str(sample_data("dirty.jsonl"))),
    Scenario("data-stats", "data", _stats),
    Scenario("data-preference", "data", _preference_pair, data_path=str(sample_data("preference_dirty.jsonl"))),
]
