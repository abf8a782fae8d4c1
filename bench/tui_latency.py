"""Key-press-to-screen latency of the Train monitor, while the demo model trains in this process.

Presses ``l`` (log-y toggle, a visible change of the loss chart) N times and measures
the time from the press to the moment the loss chart is rendered in its new state
(the widget's ``render`` is what the compositor calls to paint it). Measured twice in
the same process: while a real LoRA run of the demo model trains in a worker thread
(as in the TUI), and with no training (baseline, a recorded log). Goal: p95 <= 100 ms.

    .venv/bin/python bench/tui_latency.py            # ~50 presses each
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


async def _measure(app, presses: int, training_worker=None) -> list[float]:  # noqa: ANN001
    """Latencies (ms) of ``presses`` log-y toggles on the monitor of the watched run."""
    from ftui.tui.widgets.metric_plot import MetricPlot

    stamps: list[tuple[float, str]] = []
    original = MetricPlot.render

    def render(self):  # noqa: ANN001, ANN202
        result = original(self)
        if self.id == "plot-loss":
            stamps.append((time.perf_counter(), self.title))
        return result

    MetricPlot.render = render  # type: ignore[method-assign]
    latencies: list[float] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = app.screen
            while not screen.form.checked:  # the form's first checks import the ML stack: not what we measure
                await asyncio.sleep(0.05)
            run_dir = Path(training_worker.run_dir) if training_worker else app._bench_run_dir  # noqa: SLF001
            screen.open_run(run_dir)
            deadline = time.monotonic() + 300
            while screen.monitor.history is None or len(screen.monitor.history.loss) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the run produced no loss points")
                await asyncio.sleep(0.05)
            for _ in range(2):  # warm-up: first paint of each state
                await pilot.press("l")
                await pilot.pause(0.1)
            for _ in range(presses):
                if training_worker is not None and not training_worker.is_alive():
                    print("  (the training ended before all presses; stopping early)")
                    break
                expected = "loss" if screen.ylog else "loss (log y)"
                t0 = time.perf_counter()
                await pilot.press("l")
                while not any(t > t0 and title == expected for t, title in stamps[-20:]):
                    if time.perf_counter() - t0 > 5:
                        raise RuntimeError("the screen did not update within 5 s")
                    await asyncio.sleep(0.0005)
                t1 = next(t for t, title in stamps[-20:] if t > t0 and title == expected)
                latencies.append((t1 - t0) * 1000)
                await asyncio.sleep(0.08)  # a human's pace, and lets the 4 Hz redraws interleave
    finally:
        MetricPlot.render = original  # type: ignore[method-assign]
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few presses, a short training")
    parser.add_argument("--presses", type=int, default=50)
    args = parser.parse_args()
    presses = 5 if args.quick else args.presses

    tmp = Path(tempfile.mkdtemp(prefix="ftui-bench-latency-"))
    os.environ.setdefault("FTUI_HOME", str(tmp / "home"))
    os.environ.setdefault("FTUI_CACHE_DIR", str(tmp / "cache"))
    os.environ["FTUI_RUNS_DIR"] = str(tmp / "runs")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from ftui.config import RunConfig
    from ftui.models.demo import ensure_demo_model
    from ftui.train.worker import start_run
    from ftui.tui.app import FtuiApp

    ensure_demo_model()

    # baseline: no training, a recorded log
    baseline_dir = tmp / "runs" / "baseline"
    _synthetic_log(baseline_dir / "events.jsonl")
    app = FtuiApp(start_mode="train")
    app._bench_run_dir = baseline_dir  # noqa: SLF001
    idle = asyncio.run(_measure(app, presses))

    # training: a LoRA run of the demo model in a worker thread of this process
    config = RunConfig(max_steps=20 if args.quick else 5000, micro_batch_size=4, max_seq_len=256, eval_steps=50,
                       save_steps=1000, learning_rate=1e-3, eval_path=None, eval_fraction=0.02)
    worker = start_run(config, share_cores=True)  # as the Train screen starts a run
    try:
        training = asyncio.run(_measure(FtuiApp(start_mode="train"), presses, worker))
        trained_steps = worker.last_step
    finally:
        worker.stop(save=False)
        worker.join(120)

    figures = {
        "p50_ms_training": round(statistics.median(training), 1) if training else None,
        "p95_ms_training": round(_percentile(training, 0.95), 1) if training else None,
        "p50_ms_idle": round(statistics.median(idle), 1),
        "p95_ms_idle": round(_percentile(idle, 0.95), 1),
        "presses_training": len(training),
        "presses_idle": len(idle),
    }
    print(f"key press -> updated loss chart, {len(idle)} presses idle, {len(training)} while training "
          f"(steps trained meanwhile: {trained_steps})")
    print(f"  idle:      p50 {figures['p50_ms_idle']:7.1f} ms   p95 {figures['p95_ms_idle']:7.1f} ms")
    if training:
        print(f"  training:  p50 {figures['p50_ms_training']:7.1f} ms   p95 {figures['p95_ms_training']:7.1f} ms")
    ok = bool(training) and figures["p95_ms_training"] <= GOAL_P95_MS
    print(json.dumps({"bench": "tui_latency", **figures, "goal_p95_ms": GOAL_P95_MS, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
