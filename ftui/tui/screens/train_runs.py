"""The runs list and the comparison of two or more runs.

The list comes from ``ftui.train.runs.list_runs`` (read in a thread: a big runs
directory never blocks the UI). The comparison overlays the loss curves of the
marked runs and lists the config fields that differ between them.
"""

from __future__ import annotations

import math
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ftui.textsafe import one_line
from ftui.train.history import RunHistory, config_diff, format_duration, read_run_config
from ftui.tui.widgets.metric_plot import PALETTE, MetricPlot, PlotLine, PlotSpec

STATUS_TEXT = {
    "running": ("● running", "green"),
    "finished": ("✔ finished", "cyan"),
    "failed": ("✖ failed", "red"),
    "stopped": ("■ stopped", "yellow"),
    "interrupted": ("▲ interrupted", "yellow"),
    "created": ("○ created", "dim"),
}
RESUMABLE = ("stopped", "failed", "interrupted")


class RunsLoaded(Message):
    def __init__(self, summaries: list, error: str | None = None) -> None:  # list[runs.RunSummary]
        super().__init__()
        self.summaries = summaries
        self.error = error  # the runs directory could not be read: what to fix


class RunsPanel(Vertical):
    """A table of every run; space marks runs for comparison."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.summaries: list = []
        self.marked: list[Path] = []
        self.loaded = 0  # how many times the list was (re)loaded, for tests

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(
            Text("enter open (reattach if live) · space mark · c compare marked · u resume · n new run", style="dim"),
            id="runs-help",
        )

    def on_mount(self) -> None:
        self.border_title = "runs"
        table = self.query_one(DataTable)
        for key, label in (("mark", " "), ("run", "run"), ("status", "status"), ("method", "method"), ("model", "model"),
                           ("best", "best eval"), ("steps", "steps"), ("duration", "duration"), ("note", "note")):
            table.add_column(label, key=key)

    @work(thread=True, exclusive=True, group="runs-list", exit_on_error=False)
    def reload(self) -> None:
        from ftui.train.runs import RunDirError, list_runs

        try:
            self.post_message(RunsLoaded(list_runs()))
        except RunDirError as exc:
            self.post_message(RunsLoaded([], error=str(exc)))

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.summaries = message.summaries
        self.loaded += 1
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        existing = {s.run_dir for s in self.summaries}
        self.marked = [m for m in self.marked if m in existing]
        for s in self.summaries:
            label, style = STATUS_TEXT.get(s.status, (s.status, ""))
            if s.status == "running" and not s.live:
                label, style = STATUS_TEXT["interrupted"]
            steps = f"{s.last_step or 0}/{s.total_steps}" if s.total_steps else str(s.last_step or "—")
            table.add_row(
                Text("✓" if s.run_dir in self.marked else " ", style="bold green"),
                Text(one_line(s.run_id, 48)),
                Text(label, style=style),
                Text(one_line(s.method or "—", 10)),
                Text(one_line(_short(s.model or "—"), 28)),
                Text(f"{s.best_eval_loss:.4f}" if _finite(s.best_eval_loss) else "—", justify="right"),
                Text(steps, justify="right"),
                Text(format_duration(s.duration_s), justify="right"),
                Text(one_line(s.message or "", 34), style="red") if s.message else Text(""),
                key=str(s.run_dir),
            )
        if self.summaries:
            table.move_cursor(row=min(cursor, len(self.summaries) - 1))
        self.query_one("#runs-help", Static).display = True
        if message.error:
            table.add_row(Text(one_line(message.error, 200), style="red"), *[""] * 8, key="__error__")
        elif not self.summaries:
            table.add_row(Text("no runs yet: press n for a new run", style="dim"), *[""] * 8, key="__empty__")

    @property
    def selected(self):  # noqa: ANN201 - runs.RunSummary | None
        table = self.query_one(DataTable)
        if not self.summaries or table.cursor_row is None or table.cursor_row >= len(self.summaries):
            return None
        return self.summaries[table.cursor_row]

    def toggle_mark(self) -> None:
        summary = self.selected
        if summary is None:
            return
        if summary.run_dir in self.marked:
            self.marked.remove(summary.run_dir)
        else:
            self.marked.append(summary.run_dir)
        table = self.query_one(DataTable)
        table.update_cell(str(summary.run_dir), "mark",
                          Text("✓" if summary.run_dir in self.marked else " ", style="bold green"))


class ComparePanel(Vertical):
    """Overlaid train and eval loss of several runs, and what differs in their configs."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="cmp-plots"):
            yield MetricPlot("train loss", id="cmp-train")
            yield MetricPlot("eval loss", id="cmp-eval")
        with Horizontal(id="cmp-bottom"):
            yield DataTable(id="cmp-summary", cursor_type="none", show_cursor=False)
            yield DataTable(id="cmp-diff", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.border_title = "compare"
        self.query_one("#cmp-summary").border_title = "runs"
        self.query_one("#cmp-diff").border_title = "config differences"
        self.run_dirs: list[Path] = []
        self.histories: list[RunHistory] = []
        self.xaxis = "step"
        self.ylog = False

    def show_runs(self, run_dirs: list[Path], histories: list[RunHistory], configs: list[dict]) -> None:
        self.run_dirs = run_dirs
        self.histories = histories
        self._draw_plots()
        summary = self.query_one("#cmp-summary", DataTable)
        summary.clear(columns=True)
        for label in ("", "run", "final loss", "best eval", "@ step"):
            summary.add_column(label)
        for i, (run_dir, h) in enumerate(zip(run_dirs, histories, strict=True)):
            best = h.best_eval()
            summary.add_row(
                Text("━━", style=_rich_color(PALETTE[i % len(PALETTE)])),
                Text(f"{i + 1} " + one_line(run_dir.name, 28)),
                Text(f"{h.loss.last():.4f}" if _finite(h.loss.last()) else "—", justify="right"),
                Text(f"{best[1]:.4f}" if best else "—", justify="right"),
                Text(str(best[0]) if best else "—", justify="right"),
            )
        diff = self.query_one("#cmp-diff", DataTable)
        diff.clear(columns=True)
        diff.add_column("field")
        for i in range(len(run_dirs)):
            diff.add_column(Text(f"run {i + 1}", style=_rich_color(PALETTE[i % len(PALETTE)])))
        rows = config_diff(configs)
        for name, values in rows:
            diff.add_row(Text(name, style="bold"), *[Text(one_line(_fmt(v), 40)) for v in values])
        if not rows:
            diff.add_row(Text("the configs are identical", style="dim"), *[""] * len(run_dirs))

    def set_view(self, xaxis: str | None = None, ylog: bool | None = None) -> None:
        if xaxis is not None:
            self.xaxis = xaxis
        if ylog is not None:
            self.ylog = ylog
        self._draw_plots()

    def _draw_plots(self) -> None:
        train, evals = [], []
        for i, h in enumerate(self.histories):
            color = PALETTE[i % len(PALETTE)]
            label = f"run {i + 1}"
            train.append(PlotLine(label, h.loss.xs(self.xaxis), h.loss.values, color=color))
            evals.append(PlotLine(label, h.eval_loss.xs(self.xaxis), h.eval_loss.values, color=color))
        with self.app.batch_update():
            self.query_one("#cmp-train", MetricPlot).show(PlotSpec(train, xlabel=self.xaxis, ylog=self.ylog))
            self.query_one("#cmp-eval", MetricPlot).show(
                PlotSpec(evals, xlabel=self.xaxis, ylog=self.ylog, empty_text="no eval loss logged")
            )


def load_comparison(run_dirs: list[Path]) -> tuple[list[RunHistory], list[dict]]:
    """Histories and configs of the runs (call from a thread: reads whole logs)."""
    histories = [RunHistory.from_run_dir(d) for d in run_dirs]
    configs = [read_run_config(d) for d in run_dirs]
    for config in configs:
        config.pop("output_dir", None)  # always differs, says nothing
    return histories, configs


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _short(model: str) -> str:
    return model if len(model) <= 28 else "…" + model[-27:]


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _rich_color(plotext_color: str) -> str:
    return {"orange": "dark_orange", "white": "bright_white"}.get(plotext_color, plotext_color)
