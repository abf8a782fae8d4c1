"""SVG snapshots of the Evaluate screens on the fixed demo session (seed 7, fixed clock):
the home list, the blind rating screen (wide and narrow) and the results after unblind."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.tui.app import FtuiApp
from ftui.tui.screenshots.eval_session import make_demo_session, rate_demo_session
from ftui.tui.screenshots.scenario import settle_workers

SIZE = (120, 40)
NAME = "tickets-base-vs-lora"


@pytest.fixture
def session_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "sessions"
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(root))
    return make_demo_session(root / NAME)


def _open(rater: str = "ana"):  # noqa: ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        from ftui import paths

        await pilot.pause()
        pilot.app.screen.open_session(paths.sessions_dir() / NAME, rater)
        await settle_workers(pilot.app)
        await pilot.pause()
        await settle_workers(pilot.app)
        await pilot.pause()

    return run_before


def test_eval_home(snap_compare, session_dir: Path) -> None:  # noqa: ANN001
    rate_demo_session(session_dir, "bo", limit=3)
    async def settle(pilot) -> None:  # noqa: ANN001
        await pilot.pause()
        await settle_workers(pilot.app)
        await pilot.pause()

    assert snap_compare(FtuiApp(start_mode="evaluate"), run_before=settle, terminal_size=SIZE)


def test_eval_rating_blinded(snap_compare, session_dir: Path) -> None:  # noqa: ANN001
    rate_demo_session(session_dir, "ana", limit=5)
    assert snap_compare(FtuiApp(start_mode="evaluate"), run_before=_open(), terminal_size=SIZE)


def test_eval_rating_narrow_stacks_panes(snap_compare, session_dir: Path) -> None:  # noqa: ANN001
    rate_demo_session(session_dir, "ana", limit=5)
    assert snap_compare(FtuiApp(start_mode="evaluate"), run_before=_open(), terminal_size=(80, 24))


def test_eval_results_after_unblind(snap_compare, session_dir: Path) -> None:  # noqa: ANN001
    rate_demo_session(session_dir, "ana", unblind=True)
    assert snap_compare(FtuiApp(start_mode="evaluate"), run_before=_open(), terminal_size=SIZE)
