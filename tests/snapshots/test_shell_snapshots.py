"""SVG snapshots of the shell (the frame every mode shares, and the help screen)."""

from __future__ import annotations

from ftui.tui.app import FtuiApp

SIZE = (120, 40)


def test_shell_help_screen(snap_compare, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(tmp_path / "sessions"))  # no other test's sessions in the picture
    assert snap_compare(FtuiApp(start_mode="evaluate"), press=["question_mark"], terminal_size=SIZE)
