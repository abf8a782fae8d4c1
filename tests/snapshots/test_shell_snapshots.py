"""SVG snapshots of the shell (the frame every mode shares, and the help screen)."""

from __future__ import annotations

from ftui.tui.app import FtuiApp

SIZE = (120, 40)


def test_shell_help_screen(snap_compare) -> None:
    assert snap_compare(FtuiApp(start_mode="evaluate"), press=["question_mark"], terminal_size=SIZE)
