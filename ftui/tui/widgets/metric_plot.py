"""One training chart: a ``PlotextPlot`` with its own plotext figure.

The owner hands it complete curves (``PlotLine``) and calls ``show``; the widget
clears its figure, plots, and refreshes. Curves are thinned to about two points per
column first, so a 100k-step run draws as fast as a 100-step one. Non-finite values
(a NaN loss) are left out of the drawing — the diagnostics panel reports them.

The figure goes from plotext's character matrix straight into Rich text, one span per
run of equal colours (``matrix_text``), instead of plotext writing an ANSI string that
Rich parses back: the same text, and a chart's redraw 22-31 % cheaper (19.7 -> 15.4 ms at
58x17, 37 -> 25.5 ms at 118x34 on the shared 2-core box; plotext's own matrix build is the rest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual_plotext import PlotextPlot

# plotext colour names that read well on dark and light themes
PALETTE = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")


@dataclass
class PlotLine:
    label: str
    xs: list[float]
    ys: list[float]
    color: str = "cyan"
    marker: str = "braille"
    points: bool = False  # draw as scattered markers (few points, e.g. eval loss) instead of a line


@dataclass
class PlotSpec:
    """Everything one redraw needs; equal specs are not redrawn."""

    lines: list[PlotLine] = field(default_factory=list)
    xlabel: str = "step"
    ylog: bool = False
    empty_text: str = "waiting for the first points…"
    y_format: str = "{:.3g}"


class MetricPlot(PlotextPlot):
    """A titled chart of one or more curves sharing an x axis."""

    DEFAULT_CSS = """
    MetricPlot {
        height: 1fr;
        width: 1fr;
        min-height: 6;
    }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.title = title
        self._spec = PlotSpec()
        self.draws = 0  # how many times the figure was rebuilt (tests, bench)
        self._cache: tuple | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def render(self):  # noqa: ANN201 - RenderResult
        """Build the figure only when its data, size or theme changed (a build costs ~10 ms)."""
        key = (self.draws, self.size.width, self.size.height, self.app.theme, self.theme)
        if self._cache is None or self._cache[0] != key:
            if self._cache is not None and self._cache[0][0] == self.draws:
                self._plot_spec()  # same curves, new theme: plotext cannot build one figure twice (log-y fails)
            self._cache = (key, self._figure_text())
        return self._cache[1]

    def _figure_text(self) -> Text:
        """What ``PlotextPlot.render`` draws (same size and theme calls), without the ANSI round trip."""
        plot = self.plt
        width, height = self.size.width, self.size.height
        plot.plotsize(width, height)
        plot._set_size(width, height)  # noqa: SLF001 - the belt-and-braces resize PlotextPlot.render does
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        plot._set_sizes()  # noqa: SLF001 - plotext's build() minus its ANSI canvas
        plot._build_matrix()  # noqa: SLF001
        return matrix_text(plot.monitor.matrix)

    def show(self, spec: PlotSpec) -> None:
        """Replace the curves and redraw (clear data, plot, refresh)."""
        self._spec = spec
        self._draw()

    @property
    def point_count(self) -> int:
        return sum(len(line.ys) for line in self._spec.lines)

    def on_resize(self) -> None:
        self._draw()  # thinning depends on the width

    def _draw(self) -> None:
        self._plot_spec()
        self.draws += 1
        self.refresh()

    def _plot_spec(self) -> None:
        """Clear the plotext figure and plot the current spec into it."""
        plt = self.plt
        spec = self._spec
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel(spec.xlabel)
        width = max(20, self.size.width or 60)
        drawn = 0
        xs_all: list[float] = []
        ys_all: list[float] = []
        for line in spec.lines:
            xs, ys = _finite(line.xs, line.ys, positive=spec.ylog)
            xs, ys = _thin(xs, ys, 2 * width)
            if not xs:
                continue
            drawn += 1
            xs_all.extend((xs[0], xs[-1]))
            ys_all.extend((min(ys), max(ys)))
            if line.points:
                plt.scatter(xs, ys, label=line.label, color=line.color, marker=line.marker)
            else:
                plt.plot(xs, ys, label=line.label, color=line.color, marker=line.marker)
        if drawn == 0:
            plt.text(spec.empty_text, 0.5, 0.5, alignment="center", color="gray")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            plt.xticks([])
            plt.yticks([])
        else:
            if spec.ylog:
                plt.yscale("log")
            lo, hi = min(xs_all), max(xs_all)
            ticks = _nice_ticks(lo, hi, max(2, width // 16))
            plt.xticks(ticks, [_tick_label(t) for t in ticks])
            if not spec.ylog:
                # round values a reader can interpolate between (plotext's own labels skip rows)
                y_lo, y_hi = min(ys_all), max(ys_all)
                rows = max(2, (self.size.height or 12) - 6)
                yticks = _nice_ticks(y_lo, y_hi, max(3, min(6, rows // 2)))
                if len(yticks) < 3:  # a narrow range: the next finer step
                    yticks = _nice_ticks(y_lo, y_hi, 2 * max(3, min(6, rows // 2)))
                if len(yticks) >= 2:
                    plt.yticks(yticks, [_tick_label(t) if float(t).is_integer() else spec.y_format.format(t)
                                        for t in yticks])


def matrix_text(matrix) -> Text:  # noqa: ANN001 - plotext's matrix_class
    """A plotext character matrix as Rich text: the rows top down, one span per run of equal colours.

    Equal to ``Text.from_ansi(matrix.set_canvas())`` (tests/tui/test_metric_plot_render.py), which
    writes escape codes cell by cell only for Rich to parse them back.
    """
    text = Text()
    append = text.append
    for row in range(matrix.rows - 1, -1, -1):
        markers, fg, st, bg = matrix.marker[row], matrix.fullground[row], matrix.style[row], matrix.background[row]
        start, cols = 0, len(markers)
        for col in range(1, cols + 1):
            if col == cols or fg[col] != fg[start] or st[col] != st[start] or bg[col] != bg[start]:
                append("".join(markers[start:col]), _cell_style(fg[start], st[start], bg[start]))
                start = col
        append("\n")  # after the last row too, as plotext's canvas ends
    return text


_STYLES: dict[str, Style | None] = {}


def _cell_style(fullground, style, background) -> Style | None:  # noqa: ANN001 - plotext colour values
    """The Rich style of a plotext cell: its escape code as plotext writes it, parsed by Rich once."""
    key = repr((fullground, style, background))
    if key not in _STYLES:
        from plotext._utility import colors_to_ansi

        code = colors_to_ansi(fullground, style, background)
        spans = Text.from_ansi(f"{code}x").spans if code else []
        _STYLES[key] = spans[0].style if spans else None
    return _STYLES[key]


def _finite(xs: list[float], ys: list[float], positive: bool) -> tuple[list[float], list[float]]:
    out_x, out_y = [], []
    for x, y in zip(xs, ys, strict=False):
        if y is None or not math.isfinite(y) or (positive and y <= 0):
            continue
        out_x.append(x)
        out_y.append(y)
    return out_x, out_y


def _thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """Keep about ``limit`` points: every k-th plus the last (the newest point always shows)."""
    n = len(xs)
    if n <= limit:
        return xs, ys
    k = math.ceil(n / limit)
    idx = list(range(0, n, k))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round tick positions (1/2/5 × 10^k) covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    ticks = []
    value = start
    while value <= hi + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks or [lo]


def _tick_label(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}" if abs(value) < 1e6 else f"{value:.0e}"
    return f"{value:g}"
