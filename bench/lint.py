"""Benchmark the dataset linter against a bare orjson parse of the same file.

Generates a chat JSONL (~150 MB / 200k rows; ``--quick``: ~15 MB / 20k rows) in a temp dir
with a realistic sprinkling of defects (exact and near duplicates, PII, empty answers),
then measures in one process:

  (a) a bare ``for line in f: orjson.loads(line)`` loop        -> MB/s (the baseline)
  (b) ``lint_file(..., near_dups=False)``: every other check   -> MB/s, ratio b/a
  (c) ``lint_file(..., near_dups=True)``: the near-duplicate part (MinHash + LSH +
      verification), timed inside the linter                    -> seconds

Goals (issues #3, #17): (b) >= 25% of (a), the median of three alternating (a)/(b) pairs;
(c) <= 30 s for 200k rows on 2 cores; peak RSS <= 1 GB. Ends with one JSON line.

What the linter imports on first use (pyarrow for the prefilter, ~0.35 s; the price table)
is imported before anything is timed, as orjson is for (a): (b) is throughput, and the
one-time cost is printed on its own ("warmup_s").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "account backup billing bucket cache cluster console credit dashboard database deploy disk domain export firewall "
    "folder gateway image instance invoice key latency limit log metric migration monitor network node object plan "
    "policy quota region replica restore role route schedule secret server snapshot storage subnet team template "
    "token upload usage user version volume webhook zone alert archive branch bundle certificate channel client the a "
    "to of and in is it for on with please can my your we you this that not how do why when where what"
).split()
PAIRS = 3  # (a)/(b) measured alternately this many times (--quick: once)
SYSTEM = "You are the support assistant for Acme Cloud. Answer clearly, politely and briefly."


def generate(path: Path, rows: int, seed: int = 0) -> int:
    """Write ``rows`` chat rows (~750 bytes each); returns the file size."""
    rng = random.Random(seed)
    choice = rng.choice
    recent: list[bytes] = []
    with open(path, "wb", buffering=1 << 20) as f:
        for i in range(rows):
            r = rng.random()
            if r < 0.01 and recent:  # exact duplicate
                f.write(choice(recent))
                continue
            if r < 0.02 and recent:  # near duplicate: one word changed at the end
                obj = orjson.loads(choice(recent))
                obj["messages"][2]["content"] = obj["messages"][2]["content"].rsplit(" ", 1)[0] + " thanks."
                f.write(orjson.dumps(obj) + b"\n")
                continue
            user = " ".join(choice(WORDS) for _ in range(39)).capitalize() + "?"
            answer = " ".join(choice(WORDS) for _ in range(50)).capitalize() + "."
            if r < 0.025:
                user += f" Reach me at user{i}@example.com."
            if r > 0.999:
                answer = ""
            line = orjson.dumps({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
                                              {"role": "assistant", "content": answer}]}) + b"\n"
            f.write(line)
            if i % 97 == 0:
                recent.append(line)
                if len(recent) > 500:
                    recent.pop(0)
    return path.stat().st_size


def warm_up() -> float:
    """Import what a lint pass loads on its first large file; returns the seconds it took."""
    start = time.perf_counter()
    import pyarrow.compute  # noqa: F401 - the prefilter's RE2 and the columnar fast path
    import pyarrow.json  # noqa: F401

    from ftui.data.stats import load_prices

    load_prices()
    return time.perf_counter() - start


def bare_parse(path: Path) -> float:
    start = time.perf_counter()
    loads = orjson.loads
    with open(path, "rb") as f:
        for line in f:
            loads(line)
    return time.perf_counter() - start


def peak_rss_mb() -> tuple[float, float]:
    """(this process, the largest child process) peak RSS in MB (ru_maxrss is KiB on Linux)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: the load-independent cost."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 MB / 20k rows smoke run")
    parser.add_argument("--rows", type=int, help="rows to generate (default 200000, quick 20000)")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 200_000)

    from ftui.data.lint import lint_file

    with tempfile.TemporaryDirectory(prefix="ftui-bench-lint-") as tmp:
        path = Path(tmp) / "chat.jsonl"
        t = time.perf_counter()
        size = generate(path, rows)
        mb = size / 1e6
        print(f"generated {rows:,} rows, {mb:.1f} MB in {time.perf_counter() - t:.1f} s  (cpus: {os.cpu_count()})")
        warm = warm_up()
        print(f"one-time imports of the lint pass (pyarrow, price table): {warm:.2f} s, before timing")
        rss_before = peak_rss_mb()[0]

        # (a) and (b) alternate, PAIRS times: the machine is shared, and a neighbour's load that
        # comes or goes between one (a) and one (b) would decide the ratio. Each pair's ratio is
        # printed; the median pair is the figure (both sides measured the same way, every run shown).
        pairs = []
        for k in range(PAIRS if not args.quick else 1):
            c0 = cpu_seconds()
            a = bare_parse(path)
            a_cpu = cpu_seconds() - c0
            print(f"(a) bare orjson parse loop : {a:6.2f} s  {mb / a:7.1f} MB/s   ({mb / a_cpu:.0f} MB per CPU-second)")
            t = time.perf_counter()
            c0 = cpu_seconds()
            rb = lint_file(path, near_dups=False)
            b = time.perf_counter() - t
            b_cpu = cpu_seconds() - c0
            workers = rb.extra["workers"]
            print(f"(b) lint, no near-dups     : {b:6.2f} s  {mb / b:7.1f} MB/s  ratio b/a {a / b:.3f}  "
                  f"({rb.summary['errors']} errors, {rb.summary['warnings']} warnings; {workers} worker processes; "
                  f"{mb / b_cpu:.0f} MB per CPU-second, {b_cpu:.1f} CPU-s; {rb.extra['fast_rows']:,} rows on the columnar fast path)"
                  + (f"  [pair {k + 1} of {PAIRS}]" if not args.quick else ""))
            pairs.append((a / b, a, b, a_cpu, b_cpu))
        pairs.sort()
        _, a, b, a_cpu, b_cpu = pairs[len(pairs) // 2]
        if len(pairs) > 1:
            print(f"ratios of the {len(pairs)} pairs: {', '.join(f'{p[0]:.3f}' for p in pairs)}; the median is the figure")
        t = time.perf_counter()
        rc = lint_file(path, near_dups=True)
        c_total = time.perf_counter() - t
        c = rc.extra["near_seconds"]
        near_rows = rc.stats["duplicates"]["near_duplicate_rows"]
        print(f"(c) near-duplicate detection: {c:6.2f} s for {rows:,} rows ({rows / c:,.0f} rows/s; "
              f"{near_rows} near-duplicate rows found; whole lint with it {c_total:.1f} s)")
        peak_self, peak_child = peak_rss_mb()
        # the tree at once is at most this process's peak plus each worker's (a worker's is at
        # most the largest child's): an upper bound, never an undercount
        peak = peak_self + peak_child * (workers - 1)
        print(f"peak RSS {peak_self:.0f} MB in this process, {peak_child:.0f} MB in the largest worker "
              f"(after generating the data: {rss_before:.0f} MB)")
        load = os.getloadavg()[0]
        print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs"
              + ("  (a shared, busy machine: wall-clock MB/s understate; see MB per CPU-second)" if load > (os.cpu_count() or 1) else ""))

    b_mb_s = mb / b
    ratio = a / b
    near_goal = 30.0 * rows / 200_000
    ok_b = ratio >= 0.25  # issue 17: the ratio is the goal (the absolute MB/s depends on the shared machine)
    ok_c = c <= near_goal
    ok_rss = peak <= 1024
    result = {
        "bench": "lint",
        "rows": rows,
        "mb": round(mb, 1),
        "parse_mb_s": round(mb / a, 1),
        "lint_mb_s": round(b_mb_s, 1),
        "ratio": round(ratio, 3),
        "pair_ratios": [round(p[0], 3) for p in pairs],
        "near_dup_s": round(c, 2),
        "near_rows_per_s": round(rows / c),
        "peak_rss_mb": round(peak),
        "parse_mb_per_cpu_s": round(mb / a_cpu, 1),
        "lint_mb_per_cpu_s": round(mb / b_cpu, 1),
        "cpu_ratio": round(a_cpu / b_cpu, 3),
        "workers": workers,
        "warmup_s": round(warm, 2),
        "load_avg": round(load, 1),
        "goal_ratio": 0.25,
        "goal_near_dup_s": round(near_goal, 1),
        "goal_peak_rss_mb": 1024,
        "ok": bool(ok_b and ok_c and ok_rss),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
