"""bench/lint.py --quick runs end to end and prints its figures as one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_lint_quick_smoke() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "lint.py"), "--quick", "--rows", "4000"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["bench"] == "lint" and result["rows"] == 4000
    for key in ("parse_mb_s", "lint_mb_s", "ratio", "near_dup_s", "peak_rss_mb", "lint_mb_per_cpu_s", "ok"):
        assert key in result
    assert result["lint_mb_s"] > 0 and result["near_dup_s"] > 0
    assert "(c) near-duplicate detection" in proc.stdout
