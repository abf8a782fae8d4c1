"""Under a launcher every rank reaches the final save (collective under ZeRO-3 / FSDP), and only rank 0 writes.

accelerate offers FSDP and DeepSpeed for GPU process groups only, so on CPU this runs the
2-process gloo DDP launch the CLI tests use, with a probe around ``Trainer.save_model`` that
records each rank's call; that both ranks arrive is the property FSDP / ZeRO-3 need (the
fake-world-size unit tests in tests/unit/test_train_devices.py cover the stop-and-save paths).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftui import paths
from ftui.train.events import read_events

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent

PROBE = '''
import os, sys
from pathlib import Path
import transformers

real = transformers.Trainer.save_model

def save_model(self, output_dir=None, *args, **kwargs):
    out = Path(os.environ["PROBE_DIR"]) / f"rank{os.environ['RANK']}.json"
    out.write_text(__import__("json").dumps({"output_dir": output_dir, "main": self.is_world_process_zero()}))
    return real(self, output_dir, *args, **kwargs)

transformers.Trainer.save_model = save_model
from ftui.cli import main
sys.exit(main(["train", *sys.argv[1:]]))  # what `accelerate launch -m ftui train CONFIG` runs
'''


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_both_ranks_call_save_model_and_only_rank_0_writes_the_run(demo_model, tmp_path):
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[:16]
    (tmp_path / "train.jsonl").write_text("\n".join(rows) + "\n")
    run_dir = tmp_path / "run"
    config = tmp_path / "cfg.yaml"
    config.write_text(json.dumps({
        "model": "demo", "train_path": str(tmp_path / "train.jsonl"), "eval_path": None, "eval_fraction": 0,
        "max_steps": 2, "micro_batch_size": 2, "max_seq_len": 128, "save_steps": 100,
        "gradient_checkpointing": False, "output_dir": str(run_dir),
    }))
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = dict(os.environ, OMP_NUM_THREADS="1", PROBE_DIR=str(tmp_path), PYTHONPATH=str(paths.REPO_ROOT))
    result = subprocess.run(
        [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
         str(probe), str(config)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = {rank: json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)}
    adapter = str(run_dir / "adapter")
    assert calls[0] == {"output_dir": adapter, "main": True}
    assert calls[1] == {"output_dir": adapter, "main": False}  # the follower reached the collective save too
    types = [e.type for e in read_events(run_dir / "events.jsonl")]
    assert types[-1] == "finished" and types.count("finished") == 1
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert (run_dir / "adapter" / "tokenizer_config.json").exists()
