"""Evaluate screenshots: the home with a canned session, rating midway, results, a drill-down, generation."""

from __future__ import annotations

from pathlib import Path

from ftui.tui.screenshots.scenario import Scenario, settle_workers


def _demo_session(home: Path) -> Path:
    """A small deterministic session (two systems, support-ticket labels) for screenshots."""
    from ftui.tui.screenshots.eval_session import make_demo_session

    return make_demo_session(home / "home" / "sessions" / "tickets-base-vs-lora")


def _prepare_rated(home: Path) -> None:
    from ftui.tui.screenshots.eval_session import rate_demo_session

    rate_demo_session(_demo_session(home), "ana", unblind=True)


def _prepare_partly_rated(home: Path) -> None:
    from ftui.tui.screenshots.eval_session import rate_demo_session

    rate_demo_session(_demo_session(home), "ana", limit=5)


async def _open(pilot, rater: str, results: bool = False) -> None:  # noqa: ANN001
    from ftui import paths

    screen = pilot.app.screen
    screen.open_session(paths.sessions_dir() / "tickets-base-vs-lora", rater, results=results)
    await settle_workers(pilot.app)
    await pilot.pause()


async def _shot_rating(pilot, home: Path) -> None:  # noqa: ANN001
    await _open(pilot, "ana")


async def _shot_results(pilot, home: Path) -> None:  # noqa: ANN001
    await _open(pilot, "ana")
    await settle_workers(pilot.app)
    await pilot.pause()


async def _shot_drill(pilot, home: Path) -> None:  # noqa: ANN001
    await _shot_results(pilot, home)
    await pilot.press("a")
    await pilot.pause()


async def _shot_generate(pilot, home: Path) -> None:  # noqa: ANN001
    await pilot.press("g")
    await pilot.pause()


async def _shot_home(pilot, home: Path) -> None:  # noqa: ANN001
    await settle_workers(pilot.app)
    await pilot.pause()


SCENARIOS = [
    Scenario("evaluate", "evaluate", _shot_home, prepare=lambda home: (_demo_session(home), None)[1]),
    Scenario("evaluate-rating", "evaluate", _shot_rating, prepare=_prepare_partly_rated),
    Scenario("evaluate-results", "evaluate", _shot_results, prepare=_prepare_rated),
    Scenario("evaluate-drilldown", "evaluate", _shot_drill, prepare=_prepare_rated),
    Scenario("evaluate-generate", "evaluate", _shot_generate),
]
