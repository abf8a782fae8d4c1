"""Pilot tests answer confirmation dialogs as soon as they appear.

A real user's keys are ignored for ``ChoiceScreen.GUARD_S`` after a dialog appears (so a key
typed twice cannot answer it); a test presses a dialog's key once it is on screen, which is
the state the guard protects. The guard itself is tested with it switched back on.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _answer_dialogs_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.tui.screens.confirm import ChoiceScreen

    monkeypatch.setattr(ChoiceScreen, "GUARD_S", 0.0)

