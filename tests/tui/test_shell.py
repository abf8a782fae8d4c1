"""The app shell: modes, help, command palette, quit guard."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from ftui.train import live
from ftui.tui.app import FtuiApp
from ftui.tui.screens.help import HelpScreen

SIZE = (120, 40)


async def test_opens_on_plan_and_switches_modes_with_function_keys() -> None:
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "plan"
        for key, mode in (("f2", "data"), ("f3", "train"), ("f4", "evaluate"), ("f1", "plan")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert app.screen.query_one(Footer)


async def test_start_mode_and_workspace_from_arguments(tmp_path) -> None:
    data = tmp_path / "mine.jsonl"
    data.write_text('{"messages": []}\n')
    app = FtuiApp(data_path=data, start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "data"
        assert app.workspace.data_path == data
        assert not app.workspace.is_demo or app.workspace.model == "demo"


async def test_command_palette_reaches_every_mode() -> None:
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for label in ("Plan", "Data", "Train", "Evaluate"):
            assert f"Go to {label}" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to train")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "train"


async def test_help_lists_mode_keys_and_closes_with_escape() -> None:
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {row[0]: row[1] for row in app.screen.rows}
        for key, label in (("f1", "Plan"), ("f2", "Data"), ("f3", "Train"), ("f4", "Evaluate"), ("ctrl+q", "Quit")):
            assert keys.get(key.upper() if key.startswith("f") else key) == label
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_help_summarises_a_tables_movement_keys_in_one_row() -> None:
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        rows = app.screen.rows
        descriptions = [row[1] for row in rows]
        assert not any(d in ("Page Right", "Page Left", "Cursor left") for d in descriptions)
        assert sum(d.startswith("Move in the focused list") for d in descriptions) == 1
        assert "Generate & metrics" in descriptions  # the screen's own keys stay


async def test_quit_without_active_run_exits_at_once() -> None:
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 and not app.keep_running


class _FakeRun:
    run_id = "20261123-lora-demo"

    def __init__(self) -> None:
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive


async def test_quit_asks_while_a_run_is_active() -> None:
    run = _FakeRun()
    live.register(run)
    try:
        app = FtuiApp()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.is_running, "quit must ask first while a run is active"
            assert "active" in str(app.screen.query("Static").first().render())
            await pilot.press("escape")  # stay
            await pilot.pause()
            assert app.is_running
            await pilot.press("ctrl+q")
            await pilot.pause()
            await pilot.press("k")  # keep it running in the background
            await pilot.pause()
        assert app.return_code == 0 and app.keep_running
    finally:
        run.alive = False


async def test_notifications_show_untrusted_text_literally_and_accept_rich_text() -> None:
    from rich.text import Text
    from textual.widgets._toast import Toast

    app = FtuiApp(start_mode="plan")
    hostile = "cannot read [/bold] [link=http://x]runs/[red]a\x1b[31m b"
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # tests hide toasts by default
        await pilot.pause()
        app.screen.notify(hostile, title="Run [b]failed")
        app.screen.notify(Text("Training 20261201-lora-demo"), title=Text("Run started"))
        await pilot.pause(0.3)
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 2
        shown = " ".join(str(t.render()) for t in toasts)
        assert "[/bold] [link=http://x]runs/[red]a" in shown and "Run [b]failed" in shown
        assert "\x1b" not in shown
        assert "Training 20261201-lora-demo" in shown


async def test_the_app_shortens_the_gil_switch_interval_while_it_runs_and_restores_it() -> None:
    import sys

    before = sys.getswitchinterval()
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert sys.getswitchinterval() == pytest.approx(0.001)
    assert sys.getswitchinterval() == pytest.approx(before)


async def test_a_quit_while_the_plan_calculator_mounts_ends_cleanly(monkeypatch) -> None:  # noqa: ANN001
    """Shutting down mid-mount makes Textual's TabbedContent raise; the app's exit waits for the mount."""
    from ftui.tui.screens.plan import PlanScreen

    mount = PlanScreen._mount_calculator

    async def quit_as_it_mounts(self: PlanScreen) -> None:
        self.app.exit()  # a Ctrl+Q or SIGTERM just after start-up
        await mount(self)

    monkeypatch.setattr(PlanScreen, "_mount_calculator", quit_as_it_mounts)
    app = FtuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)
    assert app.return_code == 0  # run_test re-raises an exception in the app
