"""bench/scaling.py --quick runs end to end (two data sizes, two item counts) and prints one JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_scaling_quick_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the generated files go (and are deleted) here
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "scaling.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["bench"] == "scaling" and result["quick"] is True
    assert len(result["lint_s"]) == len(result["first_rows_s"]) == len(result["data_peak_rss_mb"]) == 2
    assert len(result["eval_total_s"]) == len(result["eval_first_pair_s"]) == 2
    assert all(s > 0 for s in result["lint_s"] + result["eval_total_s"])
    assert 0 < result["data_peak_rss_mb"][-1] <= result["goal_peak_rss_mb"]
    assert "ok" in result and "s/GB" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # nothing left behind
