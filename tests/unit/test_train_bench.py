"""The overhead bench runs end to end in smoke mode and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ftui import paths


@pytest.mark.slow
def test_train_overhead_bench_quick(demo_model):
    result = subprocess.run(
        [sys.executable, str(paths.REPO_ROOT / "bench" / "train_overhead.py"), "--quick"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "train_overhead" and last["bare_steps_s"] > 0 and last["worker_steps_s"] > 0
    assert {"ratio", "wall_ratio", "goal_ratio", "ok"} <= set(last)
