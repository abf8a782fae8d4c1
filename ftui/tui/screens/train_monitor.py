"""The run monitor: status, progress, four live charts, diagnostics, last log lines.

Fed by ``RunHistory`` (a snapshot) and batches of events from ``tui.bridge``; it
only marks itself dirty on events and redraws on a 4 Hz timer, so a fast run
costs at most four redraws a second. A tick rebuilds at most ONE chart (the loss
chart every other tick): a chart costs 15-60 ms of the UI thread while a run in this
process competes for the GIL, and a key pressed during a frame that rebuilt all four
waited for all four (bench/tui_latency.py). Everything shown is derived from the event log
alone (no wall clock), which is what makes a past run, a reattached run and a
snapshot test look the same as a live one.
"""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Static

from ftui.textsafe import neutralize, one_line
from ftui.train.diagnostics import Diagnosis, diagnose
from ftui.train.event_text import describe_event
from ftui.train.events import Event, Failed, Finished, Stopped
from ftui.train.history import RunHistory, format_duration, format_eval_time
from ftui.tui.widgets.hanging import hanging, indented
from ftui.tui.widgets.metric_plot import MetricPlot, PlotLine, PlotSpec

REDRAW_S = 0.25  # 4 Hz
DIAGNOSE_EVERY = 4  # ticks: diagnostics once a second
# one chart per tick, in this order: loss at 2 Hz, the others at 2/3 Hz while a run streams
CHART_TURNS = ("loss", "lr", "loss", "mem", "loss", "tps")
GB = 1e9
STATUS_STYLE = {
    "running": ("●", "bold green"),
    "finished": ("✔", "bold cyan"),
    "failed": ("✖", "bold red"),
    "stopped": ("■", "bold yellow"),
    "created": ("○", "dim"),
}
SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


class RunMonitor(Vertical):
    """Everything about one run. ``load`` a snapshot, ``apply`` new events."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.history: RunHistory | None = None
        self.run_dir: Path | None = None
        self.ylog = False
        self.xaxis = "step"
        self.diagnoses: list[Diagnosis] = []
        self._dirty = False
        self._stale: set[str] = set()  # charts whose data changed since they were drawn
        self._turn = 0
        self._ticks = 0
        self.redraws = 0
        self._built = False  # the charts exist (the Train screen builds this panel when first needed)

    def compose(self) -> ComposeResult:
        with Vertical(id="mon-head"):
            yield Static(Text("No run open. Start one (F5 on the form) or pick one in the runs list (r).", style="dim"),
                         id="mon-status")
            yield Static("", id="mon-progress")
        with Grid(id="mon-plots"):
            yield MetricPlot("loss", id="plot-loss")
            yield MetricPlot("learning rate", id="plot-lr")
            yield MetricPlot("memory (GB)", id="plot-mem")
            yield MetricPlot("tokens / s", id="plot-tps")
        with Horizontal(id="mon-bottom"):
            yield Static("", id="mon-diag")
            yield Static("", id="mon-log")

    def on_mount(self) -> None:
        self.query_one("#mon-diag").border_title = "diagnostics"
        self.query_one("#mon-log").border_title = "log"
        self.set_interval(REDRAW_S, self._tick)
        self._built = True
        if self.history is not None:  # loaded before the panel was built
            self.redraw()

    # ------------------------------------------------------------------ feeding
    def load(self, run_dir: Path, history: RunHistory) -> None:
        """Show ``history`` (replacing whatever was shown) and redraw now."""
        self.run_dir = Path(run_dir)
        self.history = history
        self.diagnoses = diagnose(history)
        self.redraw()

    def apply(self, events: list[Event]) -> None:
        if self.history is None:
            return
        self.history.extend(events)
        self._dirty = True
        self._stale.update(CHART_TURNS)

    def set_ylog(self, value: bool) -> None:
        self.ylog = value
        if self._built:
            self._redraw_loss()

    def set_xaxis(self, axis: str) -> None:
        self.xaxis = axis
        self.redraw()

    def _tick(self) -> None:
        self._ticks += 1
        if self.history is None or not (self._dirty or self._stale):
            return
        if self.history.terminal is not None:  # the last picture is drawn whole at once
            self.diagnoses = diagnose(self.history)
            self.redraw()
            return
        if self._ticks % DIAGNOSE_EVERY == 0:
            self.diagnoses = diagnose(self.history)
        with self.app.batch_update():
            if self._dirty:
                self._dirty = False
                self.redraws += 1
                self._draw_texts()
            self._draw_next_chart()

    def _draw_next_chart(self) -> None:
        for _ in CHART_TURNS:
            name = CHART_TURNS[self._turn % len(CHART_TURNS)]
            self._turn += 1
            if name in self._stale:
                self._chart_drawers()[name]()
                return

    def _chart_drawers(self) -> dict:
        return {"loss": self._redraw_loss, "lr": self._draw_lr, "mem": self._draw_memory, "tps": self._draw_tps}

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        """Everything, now (a run opened, the x axis switched, the run ended)."""
        if not self._built:
            return  # on_mount draws it
        self._dirty = False
        self.redraws += 1
        with self.app.batch_update():
            self._draw_texts()
            for draw in self._chart_drawers().values():
                draw()

    def _draw_texts(self) -> None:
        self._draw_head()
        self._draw_diagnoses()
        self._draw_log()

    def _redraw_loss(self) -> None:
        self._stale.discard("loss")
        h = self.history
        plot = self.query_one("#plot-loss", MetricPlot)
        if h is None:
            plot.show(PlotSpec(empty_text="no run"))
            return
        lines = [
            PlotLine("train", h.loss.xs(self.xaxis), h.loss.values, color="cyan"),
            PlotLine("eval", h.eval_loss.xs(self.xaxis), h.eval_loss.values, color="orange", marker="dot",
                     points=len(h.eval_loss) < 3),
        ]
        if len(h.eval_loss) >= 3:
            lines[1].marker = "braille"
        plot.title = "loss (log y)" if self.ylog else "loss"
        plot.show(PlotSpec(lines, xlabel=self.xaxis, ylog=self.ylog))

    def _draw_lr(self) -> None:
        """The learning rate; a preference run's rewards (chosen, rejected, margin) in its place."""
        self._stale.discard("lr")
        h = self.history
        plot = self.query_one("#plot-lr", MetricPlot)
        if h is not None and h.is_preference:
            plot.title = "rewards"
            lines = [PlotLine("chosen", h.rewards_chosen.xs(self.xaxis), h.rewards_chosen.values, color="green"),
                     PlotLine("rejected", h.rewards_rejected.xs(self.xaxis), h.rewards_rejected.values, color="red"),
                     PlotLine("margin", h.rewards_margin.xs(self.xaxis), h.rewards_margin.values, color="cyan")]
            plot.show(PlotSpec(lines, xlabel=self.xaxis))
            return
        plot.title = "learning rate"
        lines = [PlotLine("lr", h.lr.xs(self.xaxis), h.lr.values, color="green")] if h else []
        plot.show(PlotSpec(lines, xlabel=self.xaxis))

    def _draw_tps(self) -> None:
        """Tokens/s; a preference run's reward accuracy (pairs where chosen beats rejected) in its place, or KTO's KL."""
        self._stale.discard("tps")
        h = self.history
        plot = self.query_one("#plot-tps", MetricPlot)
        if h is not None and h.is_preference and h.rewards_accuracy:
            plot.title = "reward accuracy"
            acc = h.rewards_accuracy
            plot.show(PlotSpec([PlotLine("accuracy", acc.xs(self.xaxis), acc.values, color="magenta")], xlabel=self.xaxis))
            return
        if h is not None and h.is_preference and h.kl:  # KTO: no pairs to rank, its KL estimate instead
            plot.title = "KL (policy ‖ reference)"
            plot.show(PlotSpec([PlotLine("KL", h.kl.xs(self.xaxis), h.kl.values, color="magenta")], xlabel=self.xaxis))
            return
        plot.title = "tokens / s"
        lines = [PlotLine("tokens/s", h.tokens_per_s.xs(self.xaxis), h.tokens_per_s.values, color="magenta")] if h else []
        plot.show(PlotSpec(lines, xlabel=self.xaxis))

    def _draw_memory(self) -> None:
        """Per-interval peaks (what the steps needed, not what is left at step end) against the estimate.

        The estimate is drawn on the peaks' basis: ``estimate_torch_gb`` (no CUDA context, like the
        allocator's reserved peak) when the run reports it, else ``estimate_gb``. NVML's device-used
        (context, other processes and all) is its own line. Logs written before per-interval peaks
        existed fall back to the step-end values.
        """
        self._stale.discard("mem")
        h = self.history
        plot = self.query_one("#plot-mem", MetricPlot)
        if h is None or not h.memory:
            plot.title = "memory (GB)"
            plot.show(PlotSpec(empty_text="no memory samples yet"))
            return
        xs = [float(p.step if p.step is not None else i) for i, p in enumerate(h.memory)]
        if self.xaxis == "epoch":
            xs = _steps_to_epochs(h, xs)
        lines: list[PlotLine] = []

        def add(label: str, attr: str, color: str) -> bool:
            ys = [_gb(getattr(p, attr)) for p in h.memory]
            if all(math.isnan(y) for y in ys):
                return False
            lines.append(PlotLine(label, xs, ys, color=color))
            return True

        if h.memory_source == "cpu-rss":
            plot.title = "memory (GB) · process RSS (no GPU)"
            if not add("peak RSS", "rss_peak", "cyan"):
                add("process RSS", "rss", "cyan")
            estimate = h.estimate_gb
        else:
            if add("peak reserved", "peak_reserved", "cyan"):
                plot.title = "GPU memory (GB) · peak per interval"
                add("peak allocated", "peak_allocated", "blue")
            else:
                plot.title = "GPU memory (GB)"
                add("allocated", "allocated", "cyan")
                add("reserved", "reserved", "blue")
            add("device used", "device_used", "magenta")  # NVML: context and other processes too
            limit = h.memory_limit_bytes()
            if limit:
                lines.append(PlotLine("total", [xs[0], xs[-1]], [limit / GB] * 2, color="red"))
            estimate = h.estimate_torch_gb or h.estimate_gb
        if estimate:
            label = "estimate (no CUDA ctx)" if h.estimate_torch_gb and h.memory_source != "cpu-rss" else "estimate"
            lines.append(PlotLine(label, [xs[0], xs[-1]], [estimate] * 2, color="yellow"))
        plot.show(PlotSpec(lines, xlabel=self.xaxis))

    def _draw_head(self) -> None:
        h = self.history
        status_widget = self.query_one("#mon-status", Static)
        progress_widget = self.query_one("#mon-progress", Static)
        if h is None:
            return
        icon, style = STATUS_STYLE.get(h.status, ("?", ""))
        line = Text()
        line.append(f"{icon} {h.status}", style=style)
        line.append("  ")
        line.append(one_line(neutralize(h.run_id)), style="bold")
        details = [h.method, _short_model(h.model), h.device or ""]
        line.append("  · " + " · ".join(neutralize(d) for d in details if d), style="dim")
        if h.resumed_from_step:
            line.append(f"  (resumed from step {h.resumed_from_step})", style="dim")
        ended = describe_event(h.terminal) if isinstance(h.terminal, (Failed, Stopped)) else None
        if ended is not None:
            line.append("   " + one_line(ended.text, 160), style=ended.style)
        status_widget.update(line)
        progress_widget.update(self._progress_text(h))

    def _progress_text(self, h: RunHistory) -> Text:
        width = max(10, min(24, (self.size.width or 100) // 5))
        fraction = h.progress
        text = Text()
        if fraction is None:
            text.append("░" * width, style="dim")
        else:
            full = int(round(fraction * width))
            text.append("█" * full, style="green" if h.status != "failed" else "red")
            text.append("░" * (width - full), style="dim")
            text.append(f" {fraction * 100:3.0f}%", style="bold")
        total = f"/{h.total_steps}" if h.total_steps else ""
        parts = [f"step {h.last_step}{total}"]
        if h.last_epoch is not None:
            parts.append(f"epoch {h.last_epoch:.2f}" + (f"/{h.num_epochs:g}" if h.num_epochs else ""))
        parts.append(f"elapsed {format_duration(h.elapsed_s())}")
        if h.status == "running":
            parts.append(f"ETA {format_duration(h.eta_s())}")
        loss = h.loss.last()
        if loss is not None:
            parts.append(f"loss {loss:.4g}")
        best = h.best_eval()
        if best is not None:
            parts.append(f"best eval {best[1]:.4g} @ {best[0]}")
        if h.eval_runtime_s is not None:
            parts.append(f"eval took {format_eval_time(h.eval_runtime_s)}")
        tps = h.tokens_per_s.last()
        if tps is not None:
            parts.append(f"{tps:,.0f} tok/s")
        # the figures wrap a whole figure at a time, under the first one (a narrow terminal cut the line at
        # "... eval took 0.3s · 2,679…"); the bar stays on the first line
        room = self.query_one("#mon-progress", Static).content_size.width or self.size.width or 100
        indent = text.cell_len + 2
        used = indent
        text.append("  ")
        for i, part in enumerate(parts):
            sep = "  ·  " if i else ""
            if i and used + len(sep) + len(part) > room:
                text.append("\n" + " " * indent)
                used, sep = indent, ""
            text.append(sep + part)
            used += len(sep) + len(part)
        return text

    def on_resize(self) -> None:
        if self._built and self.history is not None:
            self._draw_head()  # the progress figures wrap to the new width

    def _in_run(self, path: str) -> str:
        return one_line(neutralize(_relative(path, self.run_dir)), 120)

    def _draw_diagnoses(self) -> None:
        h = self.history
        widget = self.query_one("#mon-diag", Static)
        blocks: list[RenderableType] = []  # each part wraps under itself, right of its mark or 'fix:'
        terminal = h.terminal if h else None
        if isinstance(terminal, Failed):
            failed = describe_event(terminal)
            blocks.append(hanging([(Text("✖ run ", style="bold red"), Text(failed.text))]))
            if failed.detail:
                blocks.append(hanging([(Text("  fix: ", style="bold"), Text(failed.detail))]))
        for d in self.diagnoses:
            style = SEVERITY_STYLE.get(d.severity, "")
            blocks += [hanging([(Text("▲ " if d.severity != "error" else "✖ ", style=style), Text(d.title, style=style))]),
                       indented(Text(d.detail, style="dim"), 2),
                       hanging([(Text("  fix: ", style="bold"), Text(d.fix))])]
        if h is not None and not self.diagnoses and not isinstance(terminal, Failed):
            blocks.append(Text("✔ nothing unusual in the curves so far", style="green"))
        widget.update(Group(*blocks))

    def _draw_log(self) -> None:
        h = self.history
        widget = self.query_one("#mon-log", Static)
        if h is None:
            widget.update("")
            return
        text = Text()
        ckpt = h.last_checkpoint
        text.append("last checkpoint: ", style="bold")
        text.append(f"{self._in_run(ckpt.path)} (step {ckpt.step})" if ckpt else "none yet", style="")
        text.append("\n")
        for account in sorted(h.data_accounting.values(), key=lambda a: a.dataset != "train"):
            if account.dataset == "train" or account.dropped or account.truncated or account.skipped_rows:
                said = describe_event(account)
                text.append(said.text + "\n", style=said.style)
        terminal = h.terminal
        if isinstance(terminal, Finished) and terminal.adapter_path:
            text.append("output: ", style="bold")
            text.append(self._in_run(terminal.adapter_path) + "\n")
        for msg in list(h.messages)[-6:]:
            said = describe_event(msg)
            text.append("· " + said.text[:200] + "\n", style="" if said.tone == "dim" else said.style)
        widget.update(text)


def _relative(path: str, run_dir: Path | None) -> str:
    """A path inside the run directory as ``./checkpoints/...``: short, and the same on every machine."""
    if run_dir is not None:
        try:
            return "./" + str(Path(path).relative_to(run_dir))
        except ValueError:
            pass
    return path


def _gb(value: int | None) -> float:
    return value / GB if value else math.nan


def _short_model(model: str) -> str:
    return model if len(model) <= 40 else "…" + model[-39:]


def _steps_to_epochs(h: RunHistory, steps: list[float]) -> list[float]:
    """Map memory sample steps to epochs via the loss curve (memory events carry no epoch)."""
    if not h.loss.steps or any(e is None for e in h.loss.epochs):
        return steps
    per_step = (h.loss.epochs[-1] or 0) / max(1, h.loss.steps[-1])
    return [s * per_step for s in steps]
