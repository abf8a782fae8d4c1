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
