"""Every key the footer shows fits at 120 columns: none cut off behind the command-palette key."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.geometry import Region

from ftui.tui.app import FtuiApp
from ftui.tui.screenshots.runs import write_fixture_run
from ftui.tui.screenshots.scenario import settle_workers
from ftui.tui.widgets.key_footer import KeyFooter

SIZE = (120, 40)


def _cut_keys(app: FtuiApp) -> list[str]:
    footer = app.screen.query_one(KeyFooter)
    keys = list(footer.query("FooterKey"))
    palette = [w for w in footer.query("FooterKey") if "-command-palette" in w.classes]
    limit = palette[0].region.x if palette else footer.region.right
    return [str(k.render()) for k in keys if k not in palette and k.region.right > limit]


async def _settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await settle_workers(pilot.app)
    await pilot.pause()


@pytest.mark.parametrize("mode", ["plan", "data", "evaluate"])
async def test_mode_footers_fit(mode: str, runs_dir: Path) -> None:
    app = FtuiApp(start_mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        assert not _cut_keys(app)


async def test_every_train_panel_footer_fits(runs_dir: Path) -> None:
    write_fixture_run(runs_dir, "compare_a")
    write_fixture_run(runs_dir, "compare_b")
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert not _cut_keys(app), "launcher"
        await pilot.press("r")
        while not screen.runs_panel.loaded:
            await pilot.pause(0.05)
        await _settle(pilot)
        assert not _cut_keys(app), "runs"
        keys = screen.runs_panel.query_one("#runs-help")  # the line of every Runs key, under the tables
        shown = " ".join(s.text.strip() for s in keys.render_lines(Region(0, 0, *keys.region.size)))
        assert shown.endswith("u resume · b blind vs parent"), shown
        await pilot.press("space", "down", "space", "c")
        while screen.panel != "compare":
            await pilot.pause(0.05)
        await _settle(pilot)
        assert not _cut_keys(app), "compare"
        table = screen.query_one("#cmp-summary")
        assert table.virtual_size.width <= table.scrollable_content_region.width, "the runs summary is cut"
        screen.open_run(screen.runs_panel.summaries[0].run_dir)
        while screen.monitor.history is None:
            await pilot.pause(0.05)
        await _settle(pilot)
        assert not _cut_keys(app), "monitor"


async def test_screens_without_the_mode_bar_show_help_in_the_footer(runs_dir: Path) -> None:
    from ftui.tui.screens.eval_generate import GenerateScreen
    from ftui.tui.screens.help import HelpScreen

    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GenerateScreen)
        app.screen.set_focus(None)
        shown = {b.key for _, b, _, _ in app.screen.active_bindings.values() if b.show}
        assert "question_mark" in shown and not _cut_keys(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
