"""Issue 13: the first switch to Data does its work before the first paint, not after it.

Each thing below used to cost the UI thread after the Data screen's first frame was in (another layout of the
whole screen, a repaint, or a timer that kept the app busy 60 ms longer: bench/mode_switch.py waits for idle).
Counts the work, not time.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widgets import Static

from ftui.data.index import RowIndex
from ftui.tui.app import FtuiApp
from ftui.tui.screens import data_backend
from ftui.tui.screens.data import DataScreen
from ftui.tui.widgets.conversation_view import ConversationView
from ftui.tui.widgets.findings_panel import FindingsPanel

SIZE = (160, 48)


async def _until(pilot, predicate, what: str, bound_s: float = 120.0) -> None:  # noqa: ANN001
    """Wait on state; the bound only ends a test that is already stuck."""
    deadline = time.monotonic() + bound_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def _lint_until_stopped(path: Path, on_findings, on_progress, stop: threading.Event, eval_path=None, on_rows=None,
                        profile="trl"):  # noqa: ANN001
    """A lint that is still running when the test looks: no finding arrives to change the screen."""
    stop.wait(60)
    return data_backend.LintOutcome()


async def test_first_switch_to_data_leaves_the_screen_alone_after_its_first_paint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_backend, "run_lint", _lint_until_stopped)
    painted = [False]
    note_updates: list[object] = []
    file_bar: list[str] = []
    tree_layouts: list[str] = []
    detail_repaints: list[str] = []

    plain_compositor_refresh = Screen._compositor_refresh

    def compositor_refresh(screen: Screen) -> None:
        plain_compositor_refresh(screen)
        if isinstance(screen, DataScreen):
            painted[0] = True

    plain_update = Static.update

    def update(static: Static, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if static.id == "findings-note":
            note_updates.append(args)
        if static.id == "data-file" and not painted[0]:
            file_bar.append(str(args[0]))
        plain_update(static, *args, **kwargs)

    plain_tree_refresh = FindingsPanel.refresh

    def tree_refresh(panel: FindingsPanel, *regions, repaint: bool = True, layout: bool = False,  # noqa: ANN002
                     recompose: bool = False) -> FindingsPanel:
        if painted[0] and layout:
            tree_layouts.append("layout")
        return plain_tree_refresh(panel, *regions, repaint=repaint, layout=layout, recompose=recompose)

    plain_view_refresh = ConversationView.refresh

    def view_refresh(view: ConversationView, *regions, repaint: bool = True, layout: bool = False,  # noqa: ANN002
                     recompose: bool = False) -> ConversationView:
        if painted[0] and not regions:
            detail_repaints.append("layout" if layout else "repaint")
        return plain_view_refresh(view, *regions, repaint=repaint, layout=layout, recompose=recompose)

    rows_after_wait: list[int] = []
    plain_wait = RowIndex.wait_for_rows

    def wait_for_rows(index: RowIndex, n: int, timeout: float = 5.0) -> bool:
        found = plain_wait(index, n, timeout)
        rows_after_wait.append(index.rows_known)
        return found

    monkeypatch.setattr(RowIndex, "wait_for_rows", wait_for_rows)
    monkeypatch.setattr(Screen, "_compositor_refresh", compositor_refresh)
    monkeypatch.setattr(Static, "update", update)
    monkeypatch.setattr(FindingsPanel, "refresh", tree_refresh)
    monkeypatch.setattr(ConversationView, "refresh", view_refresh)

    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        await pilot.pause()
        await pilot.press("f2")
        while app.current_mode != "data":
            await pilot.pause()
        await app.screen.settled.wait()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DataScreen) and painted[0]
        view = screen.query_one(ConversationView)
        assert view.border_title == "Row 1"
        # the findings note under the tree is empty and was never set to empty again (each Static.update lays the
        # whole screen out; the tree highlights its root as it mounts)
        assert note_updates == []
        # the first frame's file bar counts the rows the screen waited for (not "0 rows" until the next tick)
        assert rows_after_wait and file_bar, (rows_after_wait, file_bar)
        assert f"  {rows_after_wait[0]:,} rows" in file_bar[-1], (rows_after_wait, file_bar)
        # the tree does not drop its lines and lay the screen out again because the first layout sized it
        assert tree_layouts == []
        # the row the screen opened with is not shown a second time after the first paint, by a timer
        assert screen._detail_timer is None  # noqa: SLF001
        assert detail_repaints == []

        # what most sessions never see is built when first needed, not with the screen
        for unused in ("#data-error", "#text-filter", "#filter-bar", "#findings-note", "#stats"):
            assert not screen.query(unused), unused

        # the detail still follows the cursor once it rests on another row, and comes back to the first
        await pilot.press("down")
        await _until(pilot, lambda: view.border_title == "Row 2", "the detail of row 2")
        await pilot.press("up")
        await _until(pilot, lambda: view.border_title == "Row 1", "the detail of row 1 again")


async def test_parts_built_on_first_use_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search box, the filter bar and the stats panel appear, in their places, the first time they are used."""
    monkeypatch.setattr(data_backend, "run_lint", _lint_until_stopped)
    app = FtuiApp(start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DataScreen)
        await pilot.press("slash")
        box = screen.query_one("#text-filter")
        assert box.has_focus and box.display
        await pilot.press("escape")
        assert not box.display
        screen.set_id_filter("E002")
        await pilot.pause()
        pane = screen.query_one("#rows-pane")
        assert [child.id for child in pane.children] == ["text-filter", "filter-bar", "row-list"]
        assert screen.query_one("#filter-bar").display
        await pilot.press("escape")
        assert not screen.query_one("#filter-bar").display
        await pilot.press("t")
        stats = screen.query_one("#stats")
        assert stats.display and not screen.query_one("#detail").display
        assert stats.border_title == "Stats"
        await pilot.press("t")
        assert not stats.display and screen.query_one("#detail").display


async def test_findings_panel_takes_its_style_once_per_style_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree asked ``rich_style`` (a walk up every ancestor's styles) for each line it painted."""
    from textual.app import App, ComposeResult
    from textual.dom import DOMNode

    class One(App):
        def compose(self) -> ComposeResult:
            yield FindingsPanel(id="findings")

    asked: list[int] = []
    plain = DOMNode.rich_style
    monkeypatch.setattr(FindingsPanel, "rich_style", property(lambda panel: asked.append(1) or plain.fget(panel)))
    app = One()
    async with app.run_test(size=(60, 14)) as pilot:
        panel = app.query_one(FindingsPanel)
        await pilot.pause()
        asked.clear()
        dark = [panel.render_line(y) for y in range(10)]
        assert len(asked) <= 1
        app.theme = "textual-light"
        await pilot.pause()
        light = panel.render_line(0)
        assert next(iter(light)).style != next(iter(dark[0])).style  # a theme change is seen


async def test_the_file_bar_is_repainted_not_laid_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each lint batch (and each tick while a big file is indexed) changes the one-line file bar: a repaint."""
    monkeypatch.setattr(data_backend, "run_lint", _lint_until_stopped)
    app = FtuiApp(start_mode="data")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DataScreen)
        bar = screen.query_one("#data-file", Static)
        asked: list[bool] = []
        plain = Static.refresh

        def refresh(static: Static, *regions, repaint: bool = True, layout: bool = False,  # noqa: ANN002
                    recompose: bool = False) -> Static:
            if static is bar:
                asked.append(layout)
            return plain(static, *regions, repaint=repaint, layout=layout, recompose=recompose)

        monkeypatch.setattr(Static, "refresh", refresh)
        screen.lint_state = "failed"
        screen._update_filebar()  # noqa: SLF001
        assert asked == [False]
        await pilot.pause()
        assert "lint (trl): failed" in str(bar.render())
