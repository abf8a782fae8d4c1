"""Issue 13 (8): the first switch to a mode, which builds its screen, shows progress at once."""

from __future__ import annotations

from ftui.tui.app import FtuiApp
from ftui.tui.widgets.mode_bar import ModeBar


async def test_the_first_switch_to_a_mode_says_so_before_the_screen_is_built(runs_dir) -> None:  # noqa: ANN001
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(ModeBar)
        await app.run_action("switch_mode('train')")  # F3
        assert app.current_mode == "plan", "the Train screen is built only after the notice is drawn"
        assert bar.opening == "train" and "Opening Train…" in bar.render().plain
        while app.current_mode != "train" or bar.opening is not None:  # the notice goes once the switch is done
            await pilot.pause(0.02)
        await app.run_action("switch_mode('plan')")  # built already: at once, no notice
        assert app.current_mode == "plan" and bar.opening is None


async def test_an_idle_data_screen_leaves_its_file_bar_alone(tmp_path) -> None:  # noqa: ANN001
    """The Data screen ticks at 4 Hz; an unchanged file bar must not be updated (each update relaid out and
    repainted the screen: under the Open dialog, the whole dimmed screen, ~1 s a typed letter on a busy machine)."""
    from textual.widgets import Static

    from ftui.tui.screens.data import DataScreen

    path = tmp_path / "d.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n')
    app = FtuiApp(data_path=path, start_mode="data")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DataScreen)
        while screen.lint_state == "running" or screen.index is None or not screen.index.done:
            await pilot.pause(0.02)
        screen._tick()
        bar = screen.query_one("#data-file", Static)
        updates: list[object] = []
        real_update = bar.update
        bar.update = lambda *a, **k: (updates.append(a), real_update(*a, **k))  # type: ignore[method-assign]
        for _ in range(5):
            screen._tick()
        assert updates == []
        screen.lint_state = "running"  # a change is still shown
        screen._tick()
        assert len(updates) == 1
