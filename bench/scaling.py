"""Does ftui stay linear as the data grows? Lint + Data-screen open at 3 file sizes, evaluation at 3 item counts.

Data (chat JSONL, generated into a temp dir and deleted after): 15 MB, 150 MB, 1.5 GB.
Each size runs in its own child process (so each peak RSS is that size's own), measuring:

- lint: ``lint_file(path)`` with its defaults (every check, near-duplicates too), as ``ftui lint``;
- first rows: what the Data screen does on open (``RowIndex(path).start()``, then the first
  page of rows read and parsed) until that page can paint; then the whole index;
- peak RSS: the child and every process it starts (lint workers), summed, sampled at 20 Hz.

Evaluation (generation excluded; the outputs are synthetic): 100, 1,000, 10,000 items of two
systems: metrics (``score_outputs``), blind-session creation (``BlindSession.create``), the
first pair shown (open the session, ``current``), one vote per pair (reported, not a goal),
and the report (unblind + ``results``).

Goals: the largest size takes <= 11x the middle one (lint; evaluation total), peak RSS <= 1 GB
at the largest size, first rows (first pair) <= 1 s at every size.

    .venv/bin/python bench/scaling.py           # ~1.7 GB written; several minutes on 2 cores
    .venv/bin/python bench/scaling.py --quick   # 1.5 / 15 MB and 30 / 300 items: the smoke run the tests use
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 11.0  # 10x the data in at most 11x the time
GOAL_RSS_MB = 1000.0
GOAL_FIRST_S = 1.0
PAGE = 50
DATA_MB = (15, 150, 1500)
DATA_MB_QUICK = (1.5, 15)
EVAL_ITEMS = (100, 1_000, 10_000)
EVAL_ITEMS_QUICK = (30, 300)


class PeakRss:
    """Peak of (this process + all its descendants) RSS, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._me = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except Exception:  # noqa: BLE001 - a worker that just ended
                pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._sample())

    def __enter__(self) -> PeakRss:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())
        # ru_maxrss (KiB on Linux) catches a peak between two samples of this process or its largest child
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        self.peak = max(self.peak, own, child)


def generate(path: Path, target_bytes: int) -> int:
    """Chat rows with all-distinct texts until ``target_bytes``: words drawn Zipf-like from a
    5,000-word vocabulary (a repeated block would be mostly duplicates, which is another workload)."""
    import numpy as np
    import orjson

    rng = np.random.default_rng(0)
    syllables = ["ka", "lo", "mi", "tre", "san", "vo", "pel", "dor", "ux", "bri", "nal", "fe", "gor", "tis", "em"]
    vocab = sorted({"".join(rng.choice(syllables, size=rng.integers(1, 4))) + str(i % 7) for i in range(5000)})
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    labels = ["billing", "technical", "account", "feature_request", "other"]
    written = 0
    row = 0
    with open(path, "wb") as f:
        while written < target_bytes:
            draws = rng.choice(len(vocab), size=(1000, 130), p=weights)
            lengths = rng.integers(60, 131, size=1000)
            chunk = []
            for k in range(1000):
                text = " ".join([vocab[j] for j in draws[k, : lengths[k]]])
                chunk.append(orjson.dumps({"messages": [
                    {"role": "system", "content": "Classify the support ticket into one category."},
                    {"role": "user", "content": f"Ticket #{row}: {text}"},
                    {"role": "assistant", "content": labels[row % len(labels)]},
                ]}))
                row += 1
            block = b"\n".join(chunk) + b"\n"
            f.write(block)
            written += len(block)
    return path.stat().st_size


# ----------------------------------------------------------------------------- children
def child_data(path: Path) -> dict:
    from ftui.data.index import RowIndex, row_preview
    from ftui.data.lint import lint_file

    with PeakRss() as rss:
        t0 = time.perf_counter()
        index = RowIndex(path).start()
        index.wait_for_rows(PAGE, timeout=60)
        for k in range(min(PAGE, index.rows_known)):
            row_preview(index.display_row(k), 200)
        first_s = time.perf_counter() - t0
        index.wait()
        index_s = time.perf_counter() - t0
        rows = index.rows_known
        index.close()
        t1, c1 = time.perf_counter(), _cpu_s()
        report = lint_file(path)
        lint_s, lint_cpu_s = time.perf_counter() - t1, _cpu_s() - c1
    return {"first_rows_s": first_s, "index_s": index_s, "lint_s": lint_s, "lint_cpu_s": lint_cpu_s, "rows": rows,
            "findings": len(getattr(report, "findings", []) or []), "peak_rss_mb": rss.peak / 1e6}


def _cpu_s() -> float:
    """CPU seconds of this process and its ended children (the lint workers): on a shared machine the
    wall-clock ratio of a 6-minute and a 30-second lint also measures how the load changed between them."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _eval_items(n: int) -> tuple[list, dict[str, dict[str, str]]]:
    from ftui.evaluate.items import EvalItem

    rng = random.Random(n)
    words = ("refund invoice login error crash export plan seat token quota webhook timeout dashboard api key "
             "password reset charge twice upgrade downgrade admin").split()
    items, base, tuned = [], {}, {}
    for i in range(n):
        reference = " ".join(rng.choice(words) for _ in range(rng.randint(6, 24)))
        item_id = f"item-{i:06d}"
        items.append(EvalItem(item_id, ({"role": "user", "content": f"Ticket {i}: summarise the issue."},), reference))
        ref_words = reference.split()
        tuned[item_id] = " ".join(w if rng.random() < 0.8 else rng.choice(words) for w in ref_words)
        base[item_id] = " ".join(rng.choice(words) for _ in range(rng.randint(6, 24)))
    return items, {"base": base, "tuned": tuned}


def child_eval(n: int, directory: Path) -> dict:
    from ftui.evaluate.ab import BlindSession
    from ftui.evaluate.scoring import score_outputs

    items, outputs = _eval_items(n)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        score_outputs(items, outputs)
        metrics_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        BlindSession.create(directory, items, outputs, "bench", seed=1).close()
        create_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        session = BlindSession(directory, "bench")
        shown = session.current()
        first_s = time.perf_counter() - t2
        assert shown is not None
        rng = random.Random(0)
        t3 = time.perf_counter()
        while session.current() is not None:
            session.vote(rng.choice(["left", "right", "tie"]), dwell_ms=5_000)
        votes_s = time.perf_counter() - t3
        t4 = time.perf_counter()
        session.unblind()
        session.results()
        report_s = time.perf_counter() - t4
        session.close()
    return {"metrics_s": metrics_s, "create_s": create_s, "first_pair_s": first_s, "votes_s": votes_s,
            "report_s": report_s, "total_s": metrics_s + create_s + first_s + report_s, "peak_rss_mb": rss.peak / 1e6}


# ----------------------------------------------------------------------------- parent
def _run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in about a minute")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, arg, *rest = args.child
        result = child_data(Path(arg)) if kind == "data" else child_eval(int(arg), Path(rest[0]))
        print(json.dumps(result))
        return 0

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sizes_mb = DATA_MB_QUICK if args.quick else DATA_MB
    counts = EVAL_ITEMS_QUICK if args.quick else EVAL_ITEMS
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="ftui-bench-scaling-"))
    data: list[dict] = []
    evals: list[dict] = []
    try:
        print(f"data: chat JSONL at {', '.join(f'{mb:g} MB' for mb in sizes_mb)} (each in a fresh process)")
        for mb in sizes_mb:
            path = tmp / f"chat-{mb:g}mb.jsonl"
            size = generate(path, int(mb * 1e6))
            result = {"mb": round(size / 1e6, 1), **_run_child("data", str(path))}
            path.unlink()
            result["lint_s_per_gb"] = result["lint_s"] / (size / 1e9)
            data.append(result)
            print(f"  {result['mb']:8,.1f} MB  lint {result['lint_s']:7.2f} s ({result['lint_s_per_gb']:6.1f} s/GB,"
                  f" {result['lint_cpu_s']:6.1f} CPU-s)"
                  f"  first rows {result['first_rows_s'] * 1000:6.0f} ms  index {result['index_s']:6.2f} s"
                  f"  peak RSS {result['peak_rss_mb']:6.0f} MB")
        print(f"evaluation: {', '.join(f'{n:,}' for n in counts)} items, two systems (generation excluded)")
        for n in counts:
            result = {"items": n, **_run_child("eval", str(n), str(tmp / f"session-{n}"))}
            evals.append(result)
            print(f"  {n:8,} items  metrics {result['metrics_s']:6.2f} s  session {result['create_s']:6.2f} s"
                  f"  first pair {result['first_pair_s'] * 1000:5.0f} ms  report {result['report_s']:6.2f} s"
                  f"  (votes {result['votes_s']:6.2f} s)  peak RSS {result['peak_rss_mb']:5.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lint_ratio = data[-1]["lint_s"] / data[-2]["lint_s"]
    lint_cpu_ratio = data[-1]["lint_cpu_s"] / data[-2]["lint_cpu_s"]
    eval_ratio = evals[-1]["total_s"] / evals[-2]["total_s"]
    size_ratio = data[-1]["mb"] / data[-2]["mb"]
    worst_first = max(d["first_rows_s"] for d in data)
    worst_pair = max(e["first_pair_s"] for e in evals)
    rss_top = max(data[-1]["peak_rss_mb"], evals[-1]["peak_rss_mb"])
    print(f"lint {data[-1]['mb']:g} MB / {data[-2]['mb']:g} MB: {lint_ratio:.2f}x the time for {size_ratio:.1f}x the data"
          f"   goal <= {GOAL_RATIO:g}x  (CPU seconds: {lint_cpu_ratio:.2f}x)")
    print(f"evaluation {counts[-1]:,} / {counts[-2]:,} items: {eval_ratio:.2f}x   goal <= {GOAL_RATIO:g}x")
    print(f"peak RSS at the largest size {rss_top:.0f} MB (goal <= {GOAL_RSS_MB:g});  first rows <= {worst_first:.2f} s,"
          f" first pair <= {worst_pair:.2f} s (goal <= {GOAL_FIRST_S:g} s);  load average {load_before:.2f} ->"
          f" {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    figures = {
        "lint_s": [round(d["lint_s"], 3) for d in data],
        "lint_s_per_gb": [round(d["lint_s_per_gb"], 1) for d in data],
        "first_rows_s": [round(d["first_rows_s"], 3) for d in data],
        "data_peak_rss_mb": [round(d["peak_rss_mb"]) for d in data],
        "lint_ratio": round(lint_ratio, 2),
        "lint_cpu_s": [round(d["lint_cpu_s"], 2) for d in data],
        "lint_cpu_ratio": round(lint_cpu_ratio, 2),
        "eval_total_s": [round(e["total_s"], 3) for e in evals],
        "eval_first_pair_s": [round(e["first_pair_s"], 3) for e in evals],
        "eval_peak_rss_mb": [round(e["peak_rss_mb"]) for e in evals],
        "eval_ratio": round(eval_ratio, 2),
    }
    ok = (lint_ratio <= GOAL_RATIO and eval_ratio <= GOAL_RATIO and rss_top <= GOAL_RSS_MB
          and worst_first <= GOAL_FIRST_S and worst_pair <= GOAL_FIRST_S)
    print(json.dumps({"bench": "scaling", "quick": args.quick, **figures, "goal_ratio": GOAL_RATIO,
                      "goal_peak_rss_mb": GOAL_RSS_MB, "goal_first_s": GOAL_FIRST_S, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
