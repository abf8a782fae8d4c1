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


def small_config(tmp_path: Path) -> tuple[Path, Path]:
    """A run config of a few steps on 32 sample rows; returns (config path, run directory)."""
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
    return config, run_dir


def test_accelerate_launch_runs_the_same_config(demo_model, tmp_path):
    config, run_dir = small_config(tmp_path)
    result = subprocess.run(
        [str(BIN / "accelerate"), "launch", "--cpu", "--num_processes", "1", "-m", "ftui", "train", str(config)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished) and events[-1].step == 4
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert str(run_dir) in result.stdout


def test_two_process_cpu_ddp_under_accelerate_writes_one_log_from_rank_0(demo_model, tmp_path):
    # `accelerate launch --cpu` starts one process whatever --num_processes says (more need mpirun);
    # --multi_gpu on a machine without CUDA starts them through torch.distributed.run, and they train over gloo
    config, run_dir = small_config(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")  # two ranks on a small box: one core each
    start = time.monotonic()
    result = subprocess.run(
        [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
         "-m", "ftui", "train", str(config)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    elapsed = time.monotonic() - start
    print(f"2-process CPU DDP under accelerate: {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((run_dir / "run.json").read_text())["world_size"] == 2  # the trainer really ran distributed
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("events.jsonl")] == [Path("run/events.jsonl")]
    types = [e.type for e in read_events(run_dir / "events.jsonl")]
    assert types.count("started") == 1 and types.count("finished") == 1 and types[-1] == "finished"
    assert types.count("log") == 4  # one line per step, not one per rank
    # only rank 0 writes and prints: one run directory line at the start, one at the end
    assert result.stdout.count(f"run directory: {run_dir}") == 2, result.stdout
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert elapsed < 60, f"took {elapsed:.1f} s"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
