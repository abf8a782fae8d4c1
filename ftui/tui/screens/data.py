"""The Data mode: browse a dataset of any size, see lint findings next to their rows, fix it.

Layout: a file bar (path, rows, format, index/lint progress), the row list (lazy, Line
API, read through the background row index), and on the right the findings grouped by
check id above the selected row's conversation (or the stats charts, ``t``).

Nothing heavy runs on the UI thread: the index builds in its own thread, the linter
and the text search run in thread workers, and their results arrive in time-batched
messages (~4 per second), so the screen stays responsive on a multi-GB file.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, ProgressBar, Static

from ftui.data.index import RowIndex
from ftui.data.source import DatasetError
from ftui.textsafe import one_line
from ftui.tui.screens import data_backend as backend
from ftui.tui.screens.base import ModeScreen
from ftui.tui.screens.data_findings import FindingStore
from ftui.tui.widgets.conversation_view import ConversationView
from ftui.tui.widgets.field import TextField
from ftui.tui.widgets.findings_panel import FindingsPanel, finding_attr
from ftui.tui.widgets.row_list import RowList
from ftui.tui.widgets.stats_panel import StatsPanel

BATCH_SECONDS = 0.25
DETAIL_DELAY = 0.06
SEVERITY_CYCLE = (None, "error", "warning", "info")


class DataCommands(Provider):
    """Every Data screen key is also a command in the palette (ctrl+p), by its description."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        screen = self.screen
        out = []
        for binding in DataScreen.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                key = binding.key_display or binding.key
                action = binding.action.split("(")[0]
                out.append((f"Data: {binding.description}", f"key {key}", getattr(screen, f"action_{action}", None)))
        return [c for c in out if c[2] is not None]

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)


class DataScreen(ModeScreen):
    MODE = "data"
    TITLE_TEXT = "Data"
    AUTO_FOCUS = "#row-list"
    COMMANDS = {DataCommands}

    BINDINGS = [
        Binding("o", "open", "Open", id="data.open"),
        Binding("slash", "search", "Search", id="data.search", key_display="/"),
        Binding("f", "filter_id", "Filter id", id="data.filter_id"),
        Binding("e", "filter_severity", "Severity", id="data.filter_severity"),
        Binding("escape", "clear_filters", "Clear filters", id="data.clear_filters", show=False),
        Binding("n", "next_finding", "Next finding", id="data.next_finding"),
        Binding("N", "previous_finding", "Prev finding", id="data.previous_finding", show=False),
        Binding("l", "lint", "Re-lint", id="data.lint"),
        Binding("p", "toggle_profile", "Lint profile trl/openai", id="data.profile", show=False),
        Binding("t", "toggle_stats", "Stats", id="data.stats"),
        Binding("c", "clean", "Clean", id="data.clean"),
        Binding("s", "split", "Split", id="data.split"),
        Binding("v", "convert", "Convert", id="data.convert"),
        Binding("g", "top", "First row", id="data.top", show=False),
        Binding("G", "bottom", "Last row", id="data.bottom", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.index: RowIndex | None = None
        self.path: Path | None = None
        self.store = FindingStore()
        self._shown = False  # the workspace's dataset is opened on its first show, not at mount
        self.id_filter: str | None = None
        self.severity_filter: str | None = None
        self.text_filter: str = ""
        self.text_matches: list[int] | None = None
        self.lint_outcome: backend.LintOutcome | None = None
        self.lint_state = "not run"
        self.lint_error: str | None = None
        self.file_error: str | None = None
        self._lint_stop = threading.Event()
        self._search_stop = threading.Event()
        self._eval_pair: tuple[Path, Path] | None = None
        self.last_fix: tuple[backend.FixPlan, list[str]] | None = None
        self._detail_timer: Timer | None = None
        self._detail_shown: tuple[Any, ...] | None = None  # what the detail shows (see _detail_key)
        self._findings_version = 0  # bumped whenever the findings change
        self.profile = "trl"
        self._index_error_shown: RowIndex | None = None
        self._filebar_shown: Text | None = None
        # built on first use (see _error_box and below): most sessions never need them, and the first switch to
        # Data mounts, styles and lays out six widgets fewer
        self._error: Static | None = None
        self._search_box: TextField | None = None
        self._filter_bar: Static | None = None
        self._note: Static | None = None
        self._stats: StatsPanel | None = None
        self._stats_state: tuple[Any, ...] = ("unavailable", "Stats appear when the lint finishes.")

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="data-filebar"):
            yield Static(Text("no dataset open", "dim"), id="data-file")
            # no percentage: it sat beyond the bar's 30 columns (the bar alone is 32 wide), never seen
            yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="data-progress")
        # the body lays the two panes side by side under the file bar, which is docked (data.tcss): no container of
        # its own around them, which every frame would paint under them. #data-error (in their place),
        # #text-filter and #filter-bar (above the rows), #findings-note (under the findings) and #stats (in place
        # of the detail, t) are built when first needed
        with Vertical(id="rows-pane", classes="data-main"):
            yield RowList(id="row-list")
        with Vertical(id="side-pane", classes="data-main"):
            yield FindingsPanel(id="findings", titles=backend.check_titles())
            yield ConversationView(id="detail")  # no ContentSwitcher around it either

    def on_mount(self) -> None:
        # only widgets here: a Data screen built ahead (ftui.tui.prebuild) opens no file, starts no thread
        self.query_one("#rows-pane").border_title = "Rows"
        self.query_one("#findings").border_title = "Findings"
        self.query_one("#detail").border_title = "Row"
        self.set_interval(BATCH_SECONDS, self._tick)

    def _open_workspace_data(self) -> None:
        """The first show: the workspace's dataset is opened, indexed and linted (threads and a lint process)."""
        self._shown = True
        workspace = getattr(self.app, "workspace", None)
        path = workspace.data_path if workspace is not None else None
        if path and workspace.eval_path:
            self._eval_pair = (Path(path), Path(workspace.eval_path))
        if path:
            self.open_path(Path(path))
        else:
            self._set_file_error("no dataset: press o to open a JSONL file")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if not self._shown:
            self._open_workspace_data()
            return
        workspace = getattr(self.app, "workspace", None)
        wanted = workspace.data_path if workspace is not None else None
        if wanted and self.path is not None and Path(wanted) != self.path and Path(wanted) != (self.index.path if self.index else None):
            self.open_path(Path(wanted))  # another screen chose a different dataset

    def on_unmount(self) -> None:
        self._lint_stop.set()
        self._search_stop.set()
        if self.index is not None:
            self.index.close()

    # ------------------------------------------------------------------ opening
    def open_path(self, path: Path) -> None:
        """Open ``path``: a file-level problem is shown as one message; otherwise index + lint."""
        self._lint_stop.set()
        self._search_stop.set()
        if self.index is not None:
            self.index.close()
            self.index = None
        self.path = path
        row_list = self.query_one(RowList)
        try:
            self.index = RowIndex(path).start()
        except DatasetError as exc:
            row_list.set_index(None)
            self._reset_findings()
            self._set_file_error(str(exc))
            return
        self._set_file_error(None)
        workspace = getattr(self.app, "workspace", None)
        if workspace is not None:
            workspace.open_data(Path(self.index.path))  # the held-out file follows its own dataset
        row_list.set_index(self.index)
        self.text_filter, self.text_matches, self.id_filter, self.severity_filter = "", None, None, None
        self.index.wait_for_rows(1, timeout=0.2)  # the first chunk is tiny: paint real rows (and their count) at once
        self.action_lint()  # resets the findings, which the row shown next depends on; sets the file bar
        self._apply_view()  # sizes the list and shows the row under the cursor
        row_list.focus()

    def _set_file_error(self, message: str | None) -> None:
        self.file_error = message
        for pane in self.query(".data-main"):
            pane.display = message is None
        if self._error is not None:
            self._error.display = message is not None
        if message is not None:
            self.set_focus(None)  # nothing hidden may keep the keys
            error = self._error
            if error is None:
                error = self._error = Static("", id="data-error")
                rows = self.query_one("#rows-pane")
                assert isinstance(rows.parent, Widget)
                rows.parent.mount(error, before=rows)
            error.display = True
            text = Text()
            text.append("Cannot open this dataset\n\n", "bold")
            text.append(one_line(message, 1000))
            text.append("\n\nPress o to open another file.", "dim")
            error.update(text)
        self._update_filebar()

    def action_open(self) -> None:
        def opened(path: Path | None) -> None:
            if path is not None:
                self.open_path(path)

        # the dialogs are imported when first opened, not with the screen
        from ftui.tui.widgets.path_input import OpenFileScreen

        start = str(self.path.parent) + os.sep if self.path else None
        self.app.push_screen(OpenFileScreen(start), opened)

    # ------------------------------------------------------------------ ticking
    def _tick(self) -> None:
        """Pick up index growth; cheap, runs 4x a second."""
        if self.index is None or not self.display:  # a screen being removed reads as not displayed: its widgets go first
            return
        row_list = self.query_one(RowList)
        if row_list.view is None:
            before = row_list.row_count
            row_list.sync_size()
            if before == 0 and row_list.row_count:
                self._show_current()
        self._update_filebar()
        if self.index.error and self._index_error_shown is not self.index:
            self._index_error_shown = self.index  # once per opened file
            self.notify(one_line(self.index.error, 400), severity="error", markup=False, timeout=10)

    def _update_filebar(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        progress = self.query_one("#data-progress", ProgressBar)
        if self.path is None:
            text.append("no dataset open", "dim")
        else:
            text.append(one_line(self.path.name, 60), "bold")
            if self.index is not None:
                idx = self.index
                text.append(f"  {idx.rows_known:,} rows", "")
                if not idx.done:
                    text.append(f" (indexing {idx.progress:.0%})", "dim")
                kind = "" if idx.info.kind == "jsonl" else f" {idx.info.kind}"  # say the container only when unusual
                text.append(f" · {_size(idx.size)}{kind}", "dim")
            text.append(f" · lint ({self.profile}): ", "dim")
            counts = self.store.severity_counts
            if self.lint_state == "running":
                text.append("running", "yellow")
            elif self.lint_state == "done":
                text.append(f"{counts.get('error', 0)} errors", "bold red" if counts.get("error") else "green")
                text.append(f", {counts.get('warning', 0)} warnings", "yellow" if counts.get("warning") else "dim")
                text.append(f", {counts.get('info', 0)} info", "dim")
            else:
                text.append(one_line(self.lint_state, 80), "dim")
            if self.index is not None and self.lint_outcome is not None:
                # last: a long format ("preference data ... (plain + conversational, implicit prompt)") is what the
                # ellipsis may cut at 160 columns, never the counts
                text.append(f" · {self.lint_outcome.format}", "dim")
        # the 4 Hz tick calls this: an unchanged bar is left alone, and a changed one is repainted, not laid out
        # (one line of a fixed size whatever it says; a layout is of the whole screen, and under a dialog (Open)
        # it repainted the whole dimmed screen below it, ~0.2 s a time)
        if text != self._filebar_shown:
            self._filebar_shown = text
            self.query_one("#data-file", Static).update(text, layout=False)
        running = self.lint_state == "running"
        if progress.display != running:
            progress.display = running

    # ------------------------------------------------------------------ lint
    def _reset_findings(self) -> None:
        self.store = FindingStore()
        self._findings_version += 1
        self.lint_outcome = None
        self.lint_state = "not run"
        self.query_one(FindingsPanel).reset_findings()
        self._finding_note(None)
        self.query_one(RowList).set_marks(self.store.mark, False)
        self._set_stats("unavailable", "Stats appear when the lint finishes.")

    def action_lint(self) -> None:
        if self.index is None or self.path is None:
            self.notify("Open a dataset first (o).", severity="warning")
            return
        self._lint_stop.set()
        self._reset_findings()
        self._lint_stop = threading.Event()
        self.lint_state = "running"
        self.query_one("#data-progress", ProgressBar).update(total=100, progress=0)
        self._update_filebar()
        # the workspace's eval file belongs to its data file: check leakage only for that pair
        eval_path = self._eval_pair[1] if self._eval_pair and self._eval_pair[0] == self.path else None
        self._lint_worker(self.path, self._lint_stop, eval_path, self.profile)

    @work(thread=True, exclusive=True, group="lint")
    def _lint_worker(self, path: Path, stop: threading.Event, eval_path: Path | None, profile: str) -> None:
        pending: list[Any] = []
        compact: dict[str, list[Any]] = {}  # id -> [severity, rows]: findings known by row only
        lock = threading.Lock()
        last = [time.monotonic()]
        progress = [0.0]

        def flush(force: bool = False) -> None:
            now = time.monotonic()
            if not force and now - last[0] < BATCH_SECONDS:
                return
            last[0] = now
            with lock:
                batch, pending[:] = list(pending), []
                rows = dict(compact)
                compact.clear()
            if not stop.is_set():
                self.app.call_from_thread(self._lint_batch, batch, rows, progress[0], stop)

        def on_findings(batch: list[Any]) -> None:
            with lock:
                pending.extend(batch)
            flush()

        def on_rows(batch: dict[str, list[Any]]) -> None:
            with lock:
                for check_id, (severity, rows) in batch.items():
                    compact.setdefault(check_id, [severity, []])[1].extend(rows)
            flush()

        def on_progress(fraction: float) -> None:
            progress[0] = fraction
            flush()

        try:
            outcome = backend.run_lint(path, on_findings, on_progress, stop, eval_path, on_rows=on_rows, profile=profile)
        except backend.NotAvailable as exc:
            self.app.call_from_thread(self._lint_failed, str(exc), stop)
            return
        except DatasetError as exc:
            self.app.call_from_thread(self._lint_failed, str(exc), stop)
            return
        except Exception as exc:  # a linter bug must not take the screen down
            self.app.call_from_thread(self._lint_failed, f"the linter failed: {type(exc).__name__}: {exc}", stop)
            return
        flush(force=True)
        if not stop.is_set():
            self.app.call_from_thread(self._lint_done, outcome, stop)

    def _lint_batch(self, batch: list[Any], rows: dict[str, Any], fraction: float, stop: threading.Event) -> None:
        if stop.is_set():
            return
        if batch or rows:
            self._add_findings(batch, rows)
        self.query_one("#data-progress", ProgressBar).update(progress=fraction * 100)
        self._update_filebar()

    def _add_findings(self, batch: list[Any], compact: dict[str, Any] | None = None) -> None:
        kept = self.store.add(batch) if batch else []
        self._findings_version += 1
        for check_id, (severity, rows) in (compact or {}).items():
            self.store.add_rows(check_id, severity, rows)
        panel = self.query_one(FindingsPanel)
        panel.add_findings(kept)
        if compact:
            panel.set_counts(self.store.count_by_id, self.store.severity_by_id)
        self.query_one(RowList).set_marks(self.store.mark, self.store.total > 0)
        if self.id_filter or self.severity_filter:
            self._apply_view()

    @property
    def findings(self) -> list[Any]:
        """Every finding kept in detail (file-level ones first), for tests and summaries."""
        return self.store.file_level + [f for row in sorted(self.store.by_row) for f in self.store.by_row[row]]

    def _lint_done(self, outcome: backend.LintOutcome, stop: threading.Event) -> None:
        if stop.is_set():
            return
        self.lint_outcome = outcome
        self.lint_state = "done"
        self._update_filebar()
        self._show_stats(outcome.stats)
        self._show_current()

    def _lint_failed(self, message: str, stop: threading.Event) -> None:
        if stop.is_set():
            return
        self.lint_state = "not available" if "not available" in message else "failed"
        self.lint_error = message
        self.notify(one_line(message, 300), severity="error", markup=False, timeout=8)
        self._set_stats("unavailable", f"Stats not available: {message}")
        self._update_filebar()

    def _show_stats(self, stats: dict[str, Any]) -> None:
        if not stats:
            self._set_stats("unavailable", "The linter returned no stats for this file.")
            return
        lengths, unit = _lengths_from_stats(stats)
        labels = _labels_from_stats(stats)
        summary = _summary_from_stats(stats, self.lint_outcome)
        self._set_stats("show", lengths, labels, summary, unit)

    def _set_stats(self, *state: Any) -> None:
        """What the stats panel shows: ("unavailable", message) or ("show", lengths, labels, summary, unit),
        kept for the panel, which is built when first shown (``t``)."""
        self._stats_state = state
        if self._stats is not None:
            self._apply_stats(self._stats)

    def _apply_stats(self, panel: StatsPanel) -> None:
        kind, *values = self._stats_state
        if kind == "show":
            panel.show(*values)
        else:
            panel.show_unavailable(*values)

    # ------------------------------------------------------------------ detail
    @on(RowList.Highlighted)
    def _row_highlighted(self, event: RowList.Highlighted) -> None:
        # The list moves at once; the detail (a re-layout) follows when the cursor rests,
        # so holding a key down scrolls smoothly through a big file.
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        row = event.row
        if self._detail_shown is not None and self._detail_shown == self._detail_key(row):
            # the detail shows this row already (the cursor is put on the row the screen opened with, which is
            # shown at once): a timer would only wake the app 60 ms after the first paint of the Data screen
            return
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_row_under_cursor)

    def _show_row_under_cursor(self) -> None:
        """The delayed detail: the row under the cursor when it fires, not the row that set it off. A jump
        (``n``) that came between a move's highlight and its timer showed its row at once; the older timer then
        put the row it was set for in the detail, under a cursor on another row, until the next move."""
        self._detail_timer = None
        row = self.query_one(RowList).current_row
        if row is not None and self._detail_shown != self._detail_key(row):
            self._show_row(row)

    @on(RowList.Selected)
    def _row_selected(self, event: RowList.Selected) -> None:
        self._show_side(stats=False)
        self.query_one(ConversationView).focus()

    def _show_current(self) -> None:
        row = self.query_one(RowList).current_row
        view = self.query_one(ConversationView)
        if row is None:
            self._detail_shown = None
            view.show(None)
        else:
            self._show_row(row)

    def _detail_key(self, row: int) -> tuple[Any, ...]:
        """What the detail of ``row`` depends on: the file, the row and the findings known so far."""
        return (self.index, row, self._findings_version)

    def _show_row(self, row: int) -> None:
        if self.index is None:
            return
        view = self.query_one(ConversationView)
        self._detail_shown = None
        try:
            shown = self.index.display_row(row)
        except (IndexError, OSError) as exc:
            view.show_message(f"cannot read row {row + 1}: {exc}", "red")
            return
        findings = [_with_hint(f) for f in self.store.findings_at(row)]
        mark = self.store.mark(row)
        if mark and len(findings) < len(mark[1].split(",")) and self.store.truncated:
            findings.append({"id": mark[1], "severity": mark[0], "message": (
                f"details not kept: the file has {self.store.total:,} findings and the screen keeps the first "
                f"{self.store.max_detailed:,}; run ftui lint FILE --json for all of them")})
        view.show(shown, findings)
        self._detail_shown = self._detail_key(row)
        title = f"Row {row + 1:,}"
        if view.border_title != title:  # setting it repaints the panel, even to the same title
            view.border_title = title

    @on(FindingsPanel.JumpToRow)
    def _jump_to_finding(self, event: FindingsPanel.JumpToRow) -> None:
        self.jump_to_row(event.row)

    def jump_to_row(self, row: int) -> None:
        """Show 0-based ``row``; clears a filter that hides it."""
        row_list = self.query_one(RowList)
        if self.index is not None and row >= self.index.rows_known:
            self.index.wait_for_rows(row + 1, timeout=0.5)
            row_list.sync_size()
        if not row_list.go_to_row(row):
            self._clear_filters(quiet=True)
            row_list.go_to_row(row)
        self._show_row(row)

    # ------------------------------------------------------------------ filters
    def _apply_view(self) -> None:
        row_list = self.query_one(RowList)
        rows: list[int] | None = None
        if self.id_filter:
            rows = list(self.store.rows_for(self.id_filter))
        if self.severity_filter:
            by_sev = self.store.rows_with_severity(self.severity_filter)
            rows = by_sev if rows is None else sorted(set(rows) & set(by_sev))
        if self.text_matches is not None:
            rows = list(self.text_matches) if rows is None else sorted(set(rows) & set(self.text_matches))
        row_list.set_view(None if rows is None else sorted(set(rows)))
        self._update_filter_bar()
        self._show_current()

    def _update_filter_bar(self) -> None:
        bar = self._filter_bar
        parts = []
        if self.id_filter:
            parts.append(f"id {self.id_filter}")
        if self.severity_filter:
            parts.append(f"severity {self.severity_filter}")
        if self.text_filter:
            parts.append(f'text "{self.text_filter}"' + (" (searching…)" if self.text_matches is None else ""))
        if not parts:
            if bar is not None:
                bar.display = False
            return
        shown = self.query_one(RowList).row_count
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" filter ", "bold reverse")
        text.append(" " + one_line(" · ".join(parts), 200))
        text.append(f"   {shown:,} rows   Esc clears", "dim")
        if bar is None:
            bar = self._filter_bar = Static(text, id="filter-bar")
            self.query_one("#rows-pane").mount(bar, before=self.query_one(RowList))
        else:
            bar.update(text)
        bar.display = True

    def action_filter_id(self) -> None:
        """Filter by the id under the Findings cursor, else the current row's first id, else the first group."""
        if self.id_filter:
            self.id_filter = None
            self._apply_view()
            return
        panel = self.query_one(FindingsPanel)
        check_id = panel.highlighted_id if panel.has_focus else None
        if check_id is None:
            row = self.query_one(RowList).current_row
            mark = self.store.mark(row) if row is not None else None
            check_id = mark[1].split(",")[0] if mark else panel.highlighted_id
        if check_id is None:
            ids = panel.group_ids()
            if not ids:
                self.notify("No findings to filter by yet.", severity="warning")
                return
            check_id = ids[0]
        self.id_filter = check_id
        self._apply_view()

    def set_id_filter(self, check_id: str | None) -> None:
        self.id_filter = check_id
        self._apply_view()

    def action_filter_severity(self) -> None:
        i = SEVERITY_CYCLE.index(self.severity_filter)
        self.severity_filter = SEVERITY_CYCLE[(i + 1) % len(SEVERITY_CYCLE)]
        self._apply_view()
        self.notify(f"Severity filter: {self.severity_filter or 'all rows'}", timeout=2)

    async def action_search(self) -> None:
        if self.index is None:
            self.notify("Open a dataset first (o).", severity="warning")
            return
        box = self._search_box
        if box is None:
            box = self._search_box = TextField(self.text_filter, placeholder="search rows (Enter to apply, Esc to clear)",
                                               id="text-filter")
            await self.query_one("#rows-pane").mount(box, before=0)
        else:
            box.value = self.text_filter
        box.display = True
        box.focus()

    @on(Input.Submitted, "#text-filter")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_text_filter(event.value.strip())
        self.query_one(RowList).focus()

    def set_text_filter(self, needle: str) -> None:
        self._search_stop.set()
        self.text_filter = needle
        if not needle or self.index is None:
            self.text_matches = None
            if self._search_box is not None:
                self._search_box.display = bool(needle)
            self._apply_view()
            return
        self.text_matches = []
        self._search_stop = threading.Event()
        self._apply_view()
        self._search_worker(self.index, needle, self._search_stop)

    @work(thread=True, exclusive=True, group="search")
    def _search_worker(self, index: RowIndex, needle: str, stop: threading.Event) -> None:
        found: list[int] = []
        last = time.monotonic()
        for row in index.search(needle, stop=stop):
            found.append(row)
            if time.monotonic() - last > BATCH_SECONDS:
                last = time.monotonic()
                self.app.call_from_thread(self._search_batch, list(found), stop, False)
        if not stop.is_set():
            self.app.call_from_thread(self._search_batch, found, stop, True)

    def _search_batch(self, rows: list[int], stop: threading.Event, done: bool) -> None:
        if stop.is_set():
            return
        self.text_matches = rows
        self._apply_view()
        if done:
            self.notify(f"{len(rows):,} rows contain “{one_line(self.text_filter, 40)}”", timeout=3, markup=False)

    def action_clear_filters(self) -> None:
        box = self._search_box
        if box is not None and box.has_focus:
            box.value = ""
            box.display = False
        self._clear_filters()

    def _clear_filters(self, quiet: bool = False) -> None:
        self._search_stop.set()
        had = self.id_filter or self.severity_filter or self.text_filter
        self.id_filter = self.severity_filter = None
        self.text_filter, self.text_matches = "", None
        if self._search_box is not None:
            self._search_box.display = False
        self._apply_view()
        self.query_one(RowList).focus()
        if had and not quiet:
            self.notify("Filters cleared.", timeout=2)

    # ------------------------------------------------------------------ movement
    def action_next_finding(self) -> None:
        self._step_finding(1)

    def action_previous_finding(self) -> None:
        self._step_finding(-1)

    def _step_finding(self, direction: int) -> None:
        current = self.query_one(RowList).current_row
        target = self.store.next_row(-1 if current is None else current, direction, self.id_filter)
        if target is None:
            self.notify("No findings." if self.lint_state == "done" else "No findings yet.", timeout=2)
            return
        self.jump_to_row(target)

    def action_top(self) -> None:
        self.query_one(RowList).action_edge(0)

    def action_bottom(self) -> None:
        row_list = self.query_one(RowList)
        if self.index is not None and not self.index.done and row_list.view is None:
            self.notify(f"Still indexing ({self.index.progress:.0%}): showing the last row found so far.", timeout=3)
        row_list.action_edge(1)

    def action_toggle_profile(self) -> None:
        """Lint by OpenAI fine-tuning rules instead of TRL's, or back."""
        self.profile = "openai" if self.profile == "trl" else "trl"
        self.notify(f"Lint profile: {self.profile}", timeout=2)
        self.action_lint()

    async def action_toggle_stats(self) -> None:
        showing = self._stats is not None and self._stats.display
        if self._stats is None:
            panel = self._stats = StatsPanel(id="stats")
            panel.border_title = "Stats"
            panel.display = False
            await self.query_one("#side-pane").mount(panel)
            self._apply_stats(panel)
        self._show_side(stats=not showing)

    def _show_side(self, stats: bool) -> None:
        """The row's detail, or the stats charts in its place (they need the height: the findings go too)."""
        self.query_one(ConversationView).display = not stats
        if self._stats is not None:
            self._stats.display = stats
        self._show_findings(not stats)

    def _show_findings(self, shown: bool) -> None:
        self.query_one(FindingsPanel).display = shown
        note = self._note
        if note is not None:
            note.display = shown and note.has_class("-filled")

    @on(FindingsPanel.NodeHighlighted, "#findings")
    def _finding_highlighted(self, event: FindingsPanel.NodeHighlighted) -> None:
        self._finding_note(event.node.data)

    def _finding_note(self, data: Any) -> None:
        """A check's whole name (E004 'format undetectable or not the file's majority') or a
        finding's whole message under the tree, which cuts its lines at the panel's width."""
        panel, note = self.query_one(FindingsPanel), self._note
        shown = panel.full_text(data) if data is not None else None
        if shown is None and (note is None or not note.has_class("-filled")):
            # already empty: every Static.update lays the whole screen out again, and the tree highlights its
            # root once as it mounts, before the Data screen's first frame (one more layout on the first switch)
            return
        if note is None:
            note = self._note = Static(id="findings-note")  # the line under the cursor in full
            self.query_one("#side-pane").mount(note, after=panel)
        note.set_class(shown is not None, "-filled")
        note.display = shown is not None and panel.display
        note.update(shown if shown is not None else "")

    # ------------------------------------------------------------------ fixes
    def action_clean(self) -> None:
        self._fix("clean")

    def action_split(self) -> None:
        self._fix("split")

    def action_convert(self) -> None:
        self._fix("convert")

    def _fix(self, kind: str) -> None:
        if self.path is None or self.index is None:
            self.notify("Open a dataset first (o).", severity="warning")
            return
        fmt = self.lint_outcome.format if self.lint_outcome else None
        try:
            ask = backend.fix_question(kind, self.path, fmt)
        except backend.NotAvailable as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return

        def answer(choice: str | None) -> None:
            plan = ask.plans.get(choice or "")
            if plan is not None:
                self.notify(f"{kind}: writing…", timeout=2)
                self._fix_worker(plan)

        from ftui.tui.screens.confirm import ChoiceScreen

        self.app.push_screen(ChoiceScreen(ask.question, ask.choices), answer)

    @work(thread=True, exclusive=True, group="fix")
    def _fix_worker(self, plan: backend.FixPlan) -> None:
        try:
            lines = backend.run_fix(plan)
        except Exception as exc:  # FixError / DatasetError / OSError: one line on screen, never a traceback
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.app.call_from_thread(self._fix_failed, plan, message)
            return
        self.app.call_from_thread(self._fix_done, plan, lines)

    def _fix_done(self, plan: backend.FixPlan, lines: list[str]) -> None:
        self.last_fix = (plan, lines)
        text = "\n".join(one_line(line, 200) for line in lines[:8])
        self.notify(text + "\nPress o to open a written file.", title=f"{plan.kind} done", markup=False, timeout=12)

    def _fix_failed(self, plan: backend.FixPlan, message: str) -> None:
        self.last_fix = (plan, [])
        self.notify(one_line(f"{plan.kind} failed: {message}", 300), severity="error", markup=False, timeout=10)


def _with_hint(finding: Any) -> Any:
    if finding_attr(finding, "hint"):
        return finding
    check_id = str(finding_attr(finding, "id"))
    return {
        "id": check_id,
        "severity": finding_attr(finding, "severity"),
        "message": finding_attr(finding, "message"),
        "hint": backend.check_hint(check_id),
    }


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _lengths_from_stats(stats: dict[str, Any]) -> tuple[dict[str, dict], str]:
    """Per-role histograms from the linter's ``stats["tokens"]``."""
    tokens = stats.get("tokens") or {}
    unit = "tokens (estimate)" if tokens.get("estimated") else "tokens"
    out: dict[str, dict] = {}
    for role, info in (tokens.get("per_role") or {}).items():
        if isinstance(info, dict) and isinstance(info.get("histogram"), dict):
            out[str(role)] = {**info["histogram"], "p50": info.get("p50", 0), "p95": info.get("p95", 0)}
    return out, unit


def _labels_from_stats(stats: dict[str, Any]) -> dict[str, int]:
    labels = stats.get("labels") or {}
    return {str(k): int(v) for k, v in labels.items() if isinstance(v, (int, float))} if isinstance(labels, dict) else {}


def _summary_from_stats(stats: dict[str, Any], outcome: backend.LintOutcome | None) -> list[str]:
    """Four short lines: rows and turns, tokens, OpenAI cost, duplicates."""
    lines = []
    rows = stats.get("rows", outcome.rows if outcome else 0)
    turns = stats.get("turns_per_row") or {}
    turn_text = ", ".join(f"{k}×{v:,}" for k, v in list(turns.items())[:4])
    lines.append(f"{rows:,} rows, {stats.get('valid_rows', rows):,} usable" + (f" · turns per row {turn_text}" if turn_text else ""))
    tokens = stats.get("tokens") or {}
    if tokens:
        per_row = tokens.get("per_row") or {}
        lines.append(
            f"tokens {tokens.get('total', 0):,} · per row p50 {per_row.get('p50', 0):.0f} p95 {per_row.get('p95', 0):.0f} "
            f"max {per_row.get('max', 0):,} · trained {tokens.get('trained_fraction', 0):.0%}"
            + (" · estimated" if tokens.get("estimated") else "")
        )
    cost = stats.get("cost") or {}
    models = cost.get("models") or {}
    if models:
        name, cheapest = min(models.items(), key=lambda kv: kv[1].get("usd", 0))
        as_of = str(cost.get("prices_as_of", "?")).split(" ")[0]
        lines.append(
            f"OpenAI {cost.get('billable_tokens', 0):,} billable tokens × {cost.get('epochs', '?')} epochs "
            f"· from ${cheapest.get('usd', 0):,.2f} ({name.split('-20')[0]}) · prices {as_of}"
        )
    dups = stats.get("duplicates") or {}
    if dups:
        lines.append(
            f"duplicates {dups.get('exact_duplicate_rows', 0):,} exact, {dups.get('near_duplicate_rows') or 0:,} near, "
            f"{dups.get('contradictions', 0):,} contradictions · diversity {dups.get('diversity', 0):.0%}"
        )
    return lines
