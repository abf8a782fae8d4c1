"""Browsing a big JSONL: time to the first rows and to the last row, vs a bare scan.

Generates a ~1.5 GB / 2M-row chat JSONL in a temp dir (``--quick``: ~15 MB / 20k rows),
then measures, in one process:

- first rows: open + start the background index + read and parse the first page
  (what the Data screen needs to paint). Goal <= 1 s.
- index build: time until the whole file is indexed, and its MB/s.
- jump to last: once the index is complete, read and parse the last page of rows
  (pread on demand, cold LRU cache). Goal <= 0.2 s.
- baseline: a bare sequential read of the same file counting newlines with
  ``bytes.count`` (Python's ``wc -l``): the fastest a full scan can be here.

The file was just written, so it is in the page cache for both the index and the
baseline (a cold-disk run is slower for both alike).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from ftui.data.index import RowIndex, row_preview  # noqa: E402

PAGE = 50  # rows on one screen of the row list, with margin
TOPICS = ["billing", "technical", "account", "feature_request", "other"]
WORDS = (
    "invoice charged twice refund login password reset error crash export csv dashboard "
    "slow timeout api key webhook plan upgrade downgrade seat admin sso token quota"
).split()


def _row(rng: random.Random, i: int) -> bytes:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 130)))
    return orjson.dumps(
        {
            "messages": [
                {"role": "system", "content": "Classify the support ticket into one category."},
                {"role": "user", "content": f"Ticket #{i}: {text}"},
                {"role": "assistant", "content": rng.choice(TOPICS)},
            ]
        }
    )


def generate(path: Path, rows: int) -> int:
    """Write ``rows`` chat rows: a block of distinct rows repeated (generation is not what we measure)."""
    rng = random.Random(0)
    block = b"\n".join(_row(rng, i) for i in range(min(rows, 10_000))) + b"\n"
    per_block = block.count(b"\n")
    with open(path, "wb") as f:
        written = 0
        while written + per_block <= rows:
            f.write(block)
            written += per_block
        if written < rows:
            f.write(b"\n".join(block.split(b"\n")[: rows - written]) + b"\n")
    return path.stat().st_size


def baseline_scan(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    lines = 0
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(16 << 20)
        while n := f.readinto(buf):
            lines += buf.count(b"\n", 0, n)
    return time.perf_counter() - start, lines


def render_page(index: RowIndex, first: int, count: int) -> int:
    """What the row list does to paint: read + parse + one-line preview of each row."""
    width = 0
    for k in range(first, min(first + count, index.rows_known)):
        width += len(row_preview(index.display_row(k), 200))
    return width


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small file (smoke run in seconds)")
    parser.add_argument("--rows", type=int, default=None, help="rows to generate (default 2,000,000; quick 20,000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 2_000_000)

    tmp = Path(tempfile.mkdtemp(prefix="ftui-browse-"))
    path = tmp / "chat.jsonl"
    try:
        t = time.perf_counter()
        size = generate(path, rows)
        mb = size / 1e6
        print(f"generated {rows:,} rows, {mb:,.0f} MB in {time.perf_counter() - t:.1f} s")

        base_s, base_lines = baseline_scan(path)
        assert base_lines == rows, (base_lines, rows)

        t0 = time.perf_counter()
        index = RowIndex(path).start()
        index.wait_for_rows(PAGE, timeout=30)
        render_page(index, 0, PAGE)
        first_s = time.perf_counter() - t0
        rows_at_first = index.rows_known

        index.wait()
        build_s = time.perf_counter() - t0
        assert index.error is None, index.error
        assert index.rows_known == rows, (index.rows_known, rows)

        t1 = time.perf_counter()
        last = index.rows_known - 1
        render_page(index, last - PAGE + 1, PAGE)
        assert index.display_row(last).row == rows
        jump_s = time.perf_counter() - t1
        index.close()

        index_mb_s = mb / build_s
        base_mb_s = mb / base_s
        print(f"first rows        {first_s * 1000:8.1f} ms  (index had {rows_at_first:,} rows)   goal <= 1000 ms")
        print(f"jump to last row  {jump_s * 1000:8.1f} ms  (page of {PAGE} rows, cold LRU)      goal <= 200 ms")
        print(f"index build       {build_s:8.2f} s   {index_mb_s:8.0f} MB/s")
        print(f"baseline scan     {base_s:8.2f} s   {base_mb_s:8.0f} MB/s  (read + bytes.count)")
        print(f"index / baseline  {index_mb_s / base_mb_s:8.2f}")
        ok = first_s <= 1.0 and jump_s <= 0.2
        print(
            json.dumps(
                {
                    "bench": "browse",
                    "rows": rows,
                    "file_mb": round(mb, 1),
                    "first_rows_s": round(first_s, 4),
                    "jump_last_s": round(jump_s, 4),
                    "index_build_s": round(build_s, 3),
                    "index_mb_s": round(index_mb_s, 1),
                    "baseline_mb_s": round(base_mb_s, 1),
                    "ratio": round(index_mb_s / base_mb_s, 3),
                    "goal_first_rows_s": 1.0,
                    "goal_jump_last_s": 0.2,
                    "ok": ok,
                }
            )
        )
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
