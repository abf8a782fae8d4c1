"""Dataset statistics as terminal charts: token lengths per role, label distribution.

One ``PlotextPlot`` per chart, each with its own ``plt`` (textual-plotext), replotted
from plain numbers the screen hands over; nothing here computes statistics. The charts
(and plotext, ~85 ms to import) are built when the panel is first shown or has numbers
to draw, not with the Data screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ftui.textsafe import one_line

ROLE_COLORS = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "orange"}


class StatsPanel(Vertical):
    """Summary line, a token-length histogram per role and a label bar chart."""

    DEFAULT_CSS = """
    StatsPanel { height: 1fr; }
    StatsPanel > #stats-summary { height: auto; max-height: 6; color: $text-muted; padding: 0 1; }
    StatsPanel > #stats-lengths { height: 3fr; min-height: 10; }
    StatsPanel > #stats-labels { height: 2fr; min-height: 8; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._charts = False  # the two charts are mounted
        self._numbers: tuple[dict[str, dict], dict[str, int], str] | None = None  # what they show

    def compose(self) -> ComposeResult:
        yield Static(Text("Stats appear when the lint finishes.", "dim"), id="stats-summary")

    def on_show(self) -> None:
        self.call_later(self._build_charts)

    async def _build_charts(self) -> None:
        if not self._charts:
            from textual_plotext import PlotextPlot

            self._charts = True
            await self.mount(PlotextPlot(id="stats-lengths", classes="stats-chart"),
                             PlotextPlot(id="stats-labels", classes="stats-chart"))
        if self._numbers is not None:
            self._plot(*self._numbers)

    def show_unavailable(self, message: str) -> None:
        self.query_one("#stats-summary", Static).update(Text(message, "dim"))
        self._numbers = None
        for plot in self.query(".stats-chart"):
            plot.plt.clear_data()  # type: ignore[attr-defined]
            plot.plt.clear_figure()  # type: ignore[attr-defined]
            plot.refresh()

    def show(
        self,
        lengths: dict[str, dict],
        labels: dict[str, int],
        summary: list[str],
        length_unit: str = "tokens",
    ) -> None:
        """Replot. ``lengths``: role -> {"edges": [...], "counts": [...], "p50", "p95"} (a histogram
        computed by the core); ``labels``: label -> count."""
        self.query_one("#stats-summary", Static).update(Text("\n".join(one_line(s, 300) for s in summary)))
        self._numbers = (lengths, labels, length_unit)
        if self._charts:
            self._plot(lengths, labels, length_unit)
        elif self.display:
            self.call_later(self._build_charts)
        # else drawn when the panel is first shown (on_show)

    def _plot(self, lengths: dict[str, dict], labels: dict[str, int], length_unit: str) -> None:
        from textual_plotext import PlotextPlot

        with self.app.batch_update():
            length_plot = self.query_one("#stats-lengths", PlotextPlot)
            plt = length_plot.plt
            plt.clear_data()
            plt.clear_figure()
            roles = [(r, h) for r, h in lengths.items() if h.get("counts") and len(h.get("edges") or []) == len(h["counts"]) + 1]
            order = {"user": 0, "assistant": 1, "system": 2, "tool": 3}
            roles = sorted(roles, key=lambda rh: order.get(rh[0], 9))[:2]  # the system prompt is usually constant
            if roles:
                plt.subplots(len(roles), 1)
                for i, (role, hist) in enumerate(roles, start=1):
                    edges, counts = hist["edges"], hist["counts"]
                    sub = plt.subplot(i, 1)
                    # evenly spaced bins by position (plotext draws numeric-x bars unevenly), labelled by edge
                    positions = list(range(1, len(counts) + 1))
                    sub.bar(positions, counts, color=ROLE_COLORS.get(role, "white"), width=0.9)
                    marks = sorted({1, (len(counts) + 1) // 2, len(counts)})
                    sub.xticks(marks, [f"{edges[m - 1]:,.0f}" for m in marks])
                    sub.title(f"{one_line(role, 12)} {length_unit}: p50 {hist.get('p50', 0):.0f} · p95 {hist.get('p95', 0):.0f}")
            else:
                plt.title(f"no {length_unit} counts")
            length_plot.refresh()

            label_plot = self.query_one("#stats-labels", PlotextPlot)
            plt = label_plot.plt
            plt.clear_data()
            plt.clear_figure()
            if labels:
                top = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
                plt.bar([one_line(k, 16) for k, _ in top], [v for _, v in top], orientation="horizontal", width=0.5)
                plt.title("labels (the assistant answers), top 10")
            else:
                plt.title("no label distribution: answers are free text")
            label_plot.refresh()

