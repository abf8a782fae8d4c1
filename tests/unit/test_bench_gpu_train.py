"""bench/gpu_train.py --tiny: the GPU check's own code, on the CPU with a tiny Llama-format model,
ends with its JSON line (both training paths ran for LoRA and for full fine-tuning, figures computed,
generation ran)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ftui import paths


@pytest.mark.slow
def test_gpu_train_bench_tiny() -> None:
    import torch

    result = subprocess.run(
        [sys.executable, str(paths.REPO_ROOT / "bench" / "gpu_train.py"), "--tiny",
         "--methods", "qlora,lora,full", "--steps", "6"],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "gpu_train" and last["mode"] == "tiny" and last["ok"] is True
    assert last["params"] > 0 and last["seq_len"] == 128 and last["goals_judged"] is False
    assert [run["method"] for run in last["runs"]] == ["lora", "full"]
    for run in last["runs"]:
        assert run["status"] == "finished"
        assert run["ftui_tokens_s"] > 0 and run["bare_tokens_s"] > 0
        assert run["speed_ratio"] == pytest.approx(run["ftui_tokens_s"] / run["bare_tokens_s"], rel=0.01)
        assert run["estimate_gb"] is not None and run["attention"] and run["optimizer"]
        assert run["weights_dtype"] == "float32"  # the trained weights on a CPU: fp32 (full: no LoRA config)
    assert last["generation_tokens_s"] > 0
    if not torch.cuda.is_available():
        assert "CUDA" in last["skipped"]["qlora"]
    assert "tok/s" in result.stdout and "batched generation" in result.stdout  # the readable figures come first
