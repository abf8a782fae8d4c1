"""The training chart draws plotext's matrix straight into Rich text: the same cells and colours
as plotext's ANSI output parsed by Rich (what ``PlotextPlot.render`` returns), for lines, points,
log scale, the empty chart, several sizes and both app themes."""

from __future__ import annotations

import math

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from ftui.tui.widgets.metric_plot import MetricPlot, PlotLine, PlotSpec, matrix_text


def cells(text: Text) -> list[Segment]:
    """The text as a terminal gets it: segments with their styles, merged where equal."""
    console = Console(width=400, color_system="truecolor", force_terminal=True, legacy_windows=False)
    return list(Segment.simplify(console.render(text, console.options.update(no_wrap=True))))


def curve(n: int, scale: float = 1.0) -> tuple[list[float], list[float]]:
    xs = [float(i) for i in range(1, n + 1)]
    return xs, [scale * (2 * math.exp(-i / 80) + 0.3) for i in range(1, n + 1)]


SPECS = {
    "empty": PlotSpec(),
    "one-line": PlotSpec([PlotLine("train", *curve(300))]),
    "line-and-points": PlotSpec([PlotLine("train", *curve(300)),
                                 PlotLine("eval", *curve(12, 1.1), color="orange", points=True)]),
    "log-y": PlotSpec([PlotLine("loss", *curve(50))], ylog=True),
    "many-colours": PlotSpec([PlotLine(f"gpu {i}", *curve(40, 1 + i / 10), color=c)
                              for i, c in enumerate(("cyan", "orange", "green", "magenta", "red"))]),
}


@pytest.mark.parametrize("theme", ["pro", "dark", "clear"])
def test_matrix_text_equals_plotext_ansi_parsed_by_rich(theme: str) -> None:
    plot = Plot()
    xs, ys = curve(200)
    plot.title("loss")
    plot.xlabel("step")
    plot.plot(xs, ys, label="train", color="cyan", marker="braille")
    plot.scatter(xs[::20], ys[::20], label="eval", color="orange", marker="braille")
    plot.plotsize(90, 24)
    plot.theme(theme)
    expected = Text.from_ansi(plot.build())
    assert matrix_text(plot.monitor.matrix).plain == expected.plain
    assert cells(matrix_text(plot.monitor.matrix)) == cells(expected)


class PlotApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MetricPlot("loss", id="plot")


@pytest.mark.parametrize("size", [(60, 14), (118, 30)], ids=["small", "wide"])
async def test_the_widget_draws_what_plotext_plot_would(size: tuple[int, int]) -> None:
    app = PlotApp()
    async with app.run_test(size=size) as pilot:
        plot = app.query_one(MetricPlot)
        for app_theme in ("textual-dark", "textual-light"):
            app.theme = app_theme
            await pilot.pause()
            for name, spec in SPECS.items():
                # a fresh figure for each build (no await in between, so no paint either): plotext's
                # build is not repeatable on one figure in log scale
                plot.show(spec)
                expected = PlotextPlot.render(plot)  # the library's own path: ANSI string -> Text.from_ansi
                plot.show(spec)
                ours = plot._figure_text()
                assert ours.plain == expected.plain, (app_theme, name)
                assert cells(ours) == cells(expected), (app_theme, name)


async def test_a_log_scale_chart_redraws_after_a_theme_change() -> None:
    """Same curves, new theme: the figure is plotted again before it is built (plotext fails building one twice)."""
    app = PlotApp()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(MetricPlot)
        plot.show(SPECS["log-y"])
        await pilot.pause()
        first = plot.render()
        app.theme = "textual-light"
        await pilot.pause()
        assert plot.render().plain == first.plain
