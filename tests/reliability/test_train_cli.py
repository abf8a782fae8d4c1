"""The headless entry points as a user runs them: the example piped into 'ftui train', accelerate launch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftui import paths
from ftui.train.events import Eval, Finished, read_events

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_example_piped_into_train_finishes_in_under_a_minute(demo_model, tmp_path):
    env = dict(os.environ, FTUI_RUNS_DIR=str(tmp_path / "runs"))
    start = time.monotonic()
    result = subprocess.run(
        f"'{sys.executable}' -m ftui train --example | '{sys.executable}' -m ftui train - --set max_steps=20",
        shell=True, cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - start
    print(f"ftui train --example | ftui train - --set max_steps=20: {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1].split("run directory: ")[1])
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished) and events[-1].step == 20
    losses = [e.eval_loss for e in events if isinstance(e, Eval)]
    assert losses[-1] < losses[0]
    assert "Traceback" not in result.stderr
    assert elapsed < 60, f"took {elapsed:.1f} s"


def test_accelerate_launch_runs_the_same_config(demo_model, tmp_path):
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[:32]
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(rows) + "\n")
    run_dir = tmp_path / "run"
    config = tmp_path / "cfg.yaml"
    config.write_text(json.dumps({
        "model": "demo", "train_path": str(data), "eval_path": None, "eval_fraction": 0.25, "max_steps": 4,
        "micro_batch_size": 2, "max_seq_len": 128, "eval_steps": 4, "save_steps": 4, "gradient_checkpointing": False,
        "output_dir": str(run_dir),
    }))
    result = subprocess.run(
        [str(BIN / "accelerate"), "launch", "--cpu", "--num_processes", "1", "-m", "ftui.train", str(config)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished) and events[-1].step == 4
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert str(run_dir) in result.stdout
