"""The headless entry points as a user runs them: the example piped into 'ftui train', accelerate launch (one process, and two ranks over gloo)."""

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


def test_example_piped_into_train_finishes(demo_model, tmp_path):
    env = dict(os.environ, FTUI_RUNS_DIR=str(tmp_path / "runs"))
    start = time.monotonic()
    result = subprocess.run(
        f"'{sys.executable}' -m ftui train --example | '{sys.executable}' -m ftui train - --set max_steps=8",
        shell=True, cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - start
    print(f"ftui train --example | ftui train - --set max_steps=8: {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1].split("run directory: ")[1])
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished) and events[-1].step == 8
    losses = [e.eval_loss for e in events if isinstance(e, Eval)]
    assert losses[-1] < losses[0]  # 8 steps of the example's recipe: 9.95 -> 2.13 (20 steps: -> 0.93)
    assert "Traceback" not in result.stderr  # how long it took is printed above; speed goals live in bench/


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


# Every rank's Trainer.save_model call, recorded by a sitecustomize the ranks import at start-up, so the
# launch runs exactly `accelerate launch -m ftui train CONFIG` and the save probe rides along. It patches
# the Trainer when ftui imports it, not at start-up: importing it first would load the ML stack before
# `ftui train` sets up its process (the ranks would start as a test's probe made them, ~2 CPU-s heavier).
SAVE_PROBE = '''
import importlib.abc, importlib.util, json, os, sys


def patch(trainer_class):
    real = trainer_class.save_model

    def save_model(self, output_dir=None, *args, **kwargs):
        line = json.dumps({"output_dir": output_dir, "main": self.is_world_process_zero()})
        with open(os.path.join(os.environ["PROBE_DIR"], "rank%s.jsonl" % os.environ["RANK"]), "a") as fh:
            fh.write(line + "\\n")
        return real(self, output_dir, *args, **kwargs)

    trainer_class.save_model = save_model


class PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "transformers.trainer":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            patch(module.Trainer)

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("RANK") is not None and os.environ.get("PROBE_DIR"):  # a rank, not the launcher
    sys.meta_path.insert(0, PatchOnImport())
'''


@pytest.fixture(scope="module")
def ddp_run(demo_model, tmp_path_factory):
    """One 2-process CPU DDP launch under accelerate (two ranks on a small box: one core each), shared by
    the tests that read it: (tmp dir, run dir, result, seconds)."""
    # `accelerate launch --cpu` starts one process whatever --num_processes says (more need mpirun);
    # --multi_gpu on a machine without CUDA starts them through torch.distributed.run, and they train over gloo
    tmp_path = tmp_path_factory.mktemp("ddp")
    config, run_dir = small_config(tmp_path)
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(SAVE_PROBE)
    pythonpath = os.pathsep.join(p for p in (str(probe), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, OMP_NUM_THREADS="1", PROBE_DIR=str(tmp_path), PYTHONPATH=pythonpath)
    start = time.monotonic()
    result = subprocess.run(
        [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
         "-m", "ftui", "train", str(config)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    return tmp_path, run_dir, result, time.monotonic() - start


def test_two_process_cpu_ddp_under_accelerate_writes_one_log_from_rank_0(ddp_run):
    tmp_path, run_dir, result, elapsed = ddp_run
    print(f"2-process CPU DDP under accelerate: {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((run_dir / "run.json").read_text())["world_size"] == 2  # the trainer really ran distributed
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("events.jsonl")] == [Path("run/events.jsonl")]
    types = [e.type for e in read_events(run_dir / "events.jsonl")]
    assert types.count("started") == 1 and types.count("finished") == 1 and types[-1] == "finished"
    assert types.count("log") == 4  # one line per step, not one per rank
    # only rank 0 writes and prints: one run directory line at the start, one at the end
    assert result.stdout.count(f"run directory: {run_dir}") == 2, result.stdout
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()  # the time is printed, not asserted


def test_both_ranks_call_save_model_and_only_rank_0_writes_the_run(ddp_run):
    """Under a launcher every rank reaches the final save (collective under ZeRO-3 / FSDP), and only rank 0 writes.

    accelerate offers FSDP and DeepSpeed for GPU process groups only, so on CPU this is the 2-process gloo
    DDP launch above, with the probe around ``Trainer.save_model`` recording each rank's calls; that both
    ranks arrive is the property FSDP / ZeRO-3 need (the fake-world-size unit tests in
    tests/unit/test_train_devices.py cover the stop-and-save paths).
    """
    tmp_path, run_dir, result, _ = ddp_run
    assert result.returncode == 0, result.stdout + result.stderr
    calls = {rank: [json.loads(line) for line in (tmp_path / f"rank{rank}.jsonl").read_text().splitlines()]
             for rank in (0, 1)}
    adapter = str(run_dir / "adapter")
    assert calls[0][-1] == {"output_dir": adapter, "main": True}, calls  # the final save comes last
    assert calls[1][-1] == {"output_dir": adapter, "main": False}, calls  # the follower reached the collective save too
    assert [c["main"] for c in calls[0]] == [True] * len(calls[0]) and len(calls[0]) == len(calls[1])
    types = [e.type for e in read_events(run_dir / "events.jsonl")]
    assert types[-1] == "finished" and types.count("finished") == 1
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert (run_dir / "adapter" / "tokenizer_config.json").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
