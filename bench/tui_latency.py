"""Key-press-to-screen latency of the Train monitor, while the demo model trains in this process.

Presses ``l`` (log-y toggle, a visible change of the loss chart) N times and measures
the time from the press to the moment the loss chart is rendered in its new state
(the widget's ``render`` is what the compositor calls to paint it). Measured twice in
the same process: while a real LoRA run of the demo model trains in a worker thread
(as in the TUI), and with no training (baseline, a recorded log). Also times opening the
help (``?``) and, while training, the stop dialog (``x``): press to the first paint of the
modal. Goal: p95 <= 100 ms for all three while training. The 1-minute load average is
printed with the figures: on a shared 2-core machine other processes move them.

    .venv/bin/python bench/tui_latency.py            # 50 presses each, ~1.5 min (stage times on stderr)
    .venv/bin/python bench/tui_latency.py --quick    # smoke run, a few presses
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOAL_P95_MS = 100.0
_START = time.perf_counter()


def _stage(what: str) -> None:
    """Where the bench's wall time goes: seconds since start at each stage, on stderr."""
    print(f"  [{time.perf_counter() - _START:6.1f} s] {what}", file=sys.stderr, flush=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _synthetic_log(path: Path, steps: int = 300) -> None:
    """A recorded-looking finished run for the baseline (no training)."""
    import math

    from ftui.train.events import Eval, EventLogWriter, Finished, Log, Memory, Started

    t0 = 1_700_000_000.0
    with EventLogWriter(path) as writer:
        writer.write(Started(run_id=path.parent.name, method="lora", model="demo", total_steps=steps, t=t0))
        for i in range(1, steps + 1):
            t = t0 + i
            writer.write(Log(step=i, epoch=i / 100, loss=2 * math.exp(-i / 80) + 0.3, lr=2e-4, tokens_per_s=5000, t=t))
            writer.write(Memory(step=i, source="cpu-rss", rss=1_400_000_000, t=t))
            if i % 25 == 0:
                writer.write(Eval(step=i, eval_loss=2 * math.exp(-i / 90) + 0.4, t=t))
        writer.write(Finished(step=steps, t=t0 + steps + 1))


class _Paints:
    """Timestamps of paints: the loss chart (with its title) and any widget of a modal screen."""

    def __init__(self) -> None:
        self.stamps: list[tuple[float, str]] = []
        self.painted = asyncio.Event()  # set at each paint: a waiter sleeps until one, it does not poll the loop

    def install(self):  # noqa: ANN201 - the undo callable
        from textual.widgets import Static

        from ftui.tui.screens.confirm import ChoiceScreen
        from ftui.tui.screens.help import HelpScreen
        from ftui.tui.widgets.metric_plot import MetricPlot

        stamps, painted = self.stamps, self.painted
        plot_render, static_render = MetricPlot.render, Static.render

        def plot(widget):  # noqa: ANN001, ANN202
            result = plot_render(widget)
            if widget.id == "plot-loss":
                stamps.append((time.perf_counter(), widget.title))
                painted.set()
            return result

        def static(widget):  # noqa: ANN001, ANN202
            result = static_render(widget)
            screen = widget.screen
            if isinstance(screen, (HelpScreen, ChoiceScreen)):
                stamps.append((time.perf_counter(), type(screen).__name__))
                painted.set()
            return result

        MetricPlot.render, Static.render = plot, static  # type: ignore[method-assign]

        def undo() -> None:
            MetricPlot.render, Static.render = plot_render, static_render  # type: ignore[method-assign]

        return undo

    async def after(self, t0: float, label: str) -> float:
        """Milliseconds from ``t0`` to the first paint of ``label`` after it."""
        while True:
            hit = next((t for t, what in self.stamps[-40:] if t > t0 and what == label), None)
            if hit is not None:
                return (hit - t0) * 1000
            self.painted.clear()
            try:
                await asyncio.wait_for(self.painted.wait(), max(0.0, t0 + 5 - time.perf_counter()))
            except TimeoutError:
                raise RuntimeError(f"the screen did not show {label} within 5 s") from None


def _send_key(app, key: str) -> None:  # noqa: ANN001
    """Post the key event ``Pilot.press`` posts, without the waits that follow it there.

    ``Pilot.press`` then waits twice for the process to go idle (up to 1 s each), and with a run
    training in the process it never does: ~2 s a press, 5 of the bench's 6 minutes, spent
    between samples. A sample is press -> paint, both ends timestamped, so it is the same.
    """
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key

    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)  # noqa: SLF001 - what Pilot.press does


async def _measure(app, presses: int, training_worker=None) -> dict[str, list[float]]:  # noqa: ANN001
    """Latencies (ms): log-y toggles of the loss chart, opening ``?``, and (training) opening the stop dialog."""
    from ftui.tui.screens.confirm import ChoiceScreen

    ChoiceScreen.GUARD_S = 0.0  # the dialog's key guard would swallow the Esc that closes it between samples
    paints = _Paints()
    undo = paints.install()
    out: dict[str, list[float]] = {"chart": [], "help": [], "stop": []}

    def running() -> bool:
        if training_worker is not None and not training_worker.is_alive():
            print("  (the training ended before all presses; stopping early)")
            return False
        return True

    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            _stage("app up")
            screen = app.screen
            while not screen.form.checked:  # the form's first checks import the ML stack: not what we measure
                await asyncio.sleep(0.05)
            _stage("form checked")
            run_dir = Path(training_worker.run_dir) if training_worker else app._bench_run_dir  # noqa: SLF001
            screen.open_run(run_dir)
            deadline = time.monotonic() + 300
            while screen.monitor.history is None or len(screen.monitor.history.loss) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the run produced no loss points")
                await asyncio.sleep(0.05)
            _stage("loss points shown")
            for i in range(2 + presses):  # the first two: warm-up, the first paint of each state
                if not running():
                    break
                expected = "loss" if screen.ylog else "loss (log y)"
                t0 = time.perf_counter()
                _send_key(app, "l")
                took = await paints.after(t0, expected)
                if i >= 2:
                    out["chart"].append(took)
                await asyncio.sleep(0.08)  # a human's pace, and lets the 4 Hz redraws interleave
            _stage("chart presses done")
            dialogs = [("question_mark", "HelpScreen")] + ([("x", "ChoiceScreen")] if training_worker else [])
            for key, name in dialogs:
                for i in range(max(3, presses // 2) + 1):
                    if not running():
                        break
                    t0 = time.perf_counter()
                    _send_key(app, key)
                    took = await paints.after(t0, name)
                    if i:  # the first opening builds the screen's CSS: a warm-up
                        out["help" if name == "HelpScreen" else "stop"].append(took)
                    _send_key(app, "escape")
                    while app.screen is not screen:
                        await asyncio.sleep(0.005)
                    await asyncio.sleep(0.08)
                _stage(f"{name} presses done")
    finally:
        undo()
    _stage("app closed")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few presses, a short training")
    parser.add_argument("--presses", type=int, default=50)
    args = parser.parse_args()
    presses = 5 if args.quick else args.presses

    load_before = os.getloadavg()[0]  # a shared machine: the figures only mean something next to its load
    tmp = Path(tempfile.mkdtemp(prefix="ftui-bench-latency-"))
    os.environ.setdefault("FTUI_HOME", str(tmp / "home"))
    os.environ.setdefault("FTUI_CACHE_DIR", str(tmp / "cache"))
    os.environ["FTUI_CONFIG_DIR"] = str(tmp / "config")  # what the TUI remembers stays in the bench's temp dir
    os.environ["FTUI_RUNS_DIR"] = str(tmp / "runs")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from ftui.config import RunConfig
    from ftui.models.demo import ensure_demo_model
    from ftui.train.worker import start_run
    from ftui.tui.app import FtuiApp

    _stage("imports")
    ensure_demo_model()
    _stage("demo model")

    # baseline: no training, a recorded log
    baseline_dir = tmp / "runs" / "baseline"
    _synthetic_log(baseline_dir / "events.jsonl")
    app = FtuiApp(start_mode="train")
    app._bench_run_dir = baseline_dir  # noqa: SLF001
    idle = asyncio.run(_measure(app, presses))

    # training: a LoRA run of the demo model in a worker thread of this process
    config = RunConfig(max_steps=40 if args.quick else 5000, micro_batch_size=4, max_seq_len=256, eval_steps=50,
                       save_steps=1000, learning_rate=1e-3, eval_path=None, eval_fraction=0.02)
    worker = start_run(config, share_cores=True)  # as the Train screen starts a run
    _stage("training started")
    try:
        training = asyncio.run(_measure(FtuiApp(start_mode="train"), presses, worker))
        trained_steps = worker.last_step
    finally:
        _stage("training measured")
        worker.stop(save=False)
        worker.join(120)
        _stage("training stopped")

    chart, chart_idle = training["chart"], idle["chart"]

    def p(values: list[float], q: float) -> float | None:
        return round(statistics.median(values) if q == 0.5 else _percentile(values, q), 1) if values else None

    figures = {
        "p50_ms_training": p(chart, 0.5),
        "p95_ms_training": p(chart, 0.95),
        "p50_ms_idle": p(chart_idle, 0.5),
        "p95_ms_idle": p(chart_idle, 0.95),
        "help_p95_ms_training": p(training["help"], 0.95),
        "help_p95_ms_idle": p(idle["help"], 0.95),
        "stop_dialog_p95_ms_training": p(training["stop"], 0.95),
        "presses_training": len(chart),
        "presses_idle": len(chart_idle),
        "steps_trained": trained_steps,
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(f"key press -> updated screen, {len(chart_idle)} chart presses idle, {len(chart)} while training "
          f"(steps trained meanwhile: {trained_steps}; 1-min load average before/after: "
          f"{figures['load_avg_1m'][0]} / {figures['load_avg_1m'][1]} on {os.cpu_count()} cores)")
    rows = [("log-y toggle", chart_idle, chart), ("? help", idle["help"], training["help"]),
            ("stop dialog", [], training["stop"])]
    for label, quiet, busy in rows:
        cells = []
        for name, values in (("idle", quiet), ("training", busy)):
            if values:
                cells.append(f"{name}: p50 {p(values, 0.5):7.1f} ms  p95 {p(values, 0.95):7.1f} ms (n={len(values)})")
        print(f"  {label:13s} " + "   ".join(cells))
    measured = [figures["p95_ms_training"], figures["help_p95_ms_training"], figures["stop_dialog_p95_ms_training"]]
    ok = all(v is not None and v <= GOAL_P95_MS for v in measured)
    print(json.dumps({"bench": "tui_latency", **figures, "goal_p95_ms": GOAL_P95_MS, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
