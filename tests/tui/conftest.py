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




@pytest.fixture(autouse=True)
def _train_form_checks_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Train form's model and dataset check starts ``DEEP_CHECK_DELAY_S`` after the last change (0.6 s for
    a user's typing); tests that start runs wait for it (``form.checked``) dozens of times. 0.1 s here still
    puts it after a test's burst of keys; tests of the delay itself set their own."""
    from ftui.tui.screens import train_form

    monkeypatch.setattr(train_form, "DEEP_CHECK_DELAY_S", 0.1)


@pytest.fixture(autouse=True)
def _screens_built_ahead_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """An app asked to build screens ahead (``prebuild=True``) waits ``IDLE_S`` of quiet input before each step
    (0.5 s for a user; eight steps for four screens). Tests wait for ``app.prebuilt``: 0.05 s here."""
    from ftui.tui import prebuild

    monkeypatch.setattr(prebuild, "IDLE_S", 0.05)
