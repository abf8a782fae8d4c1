"""One estimate everywhere: ``ftui plan``, the Train form's preflight and ``ftui train --check`` agree.

Each grid point is a RunConfig (method × model size × sequence length × micro-batch, the
rest at RunConfig's defaults, gradient checkpointing ``auto``) priced three ways on the
same 80 GB GPU (FTUI_GPU_GB): ``ftui plan --config`` (its JSON), ``preflight()`` and
``ftui train --check`` (its printed line, or its refusal when the run does not fit).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import pytest

from ftui.advisor.architectures import PRESETS
from ftui.config import RunConfig, save_config

GPU_GB = "80"
SIZES = ("1B", "8B", "70B")


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """config.json of each preset's real shape (no weights) + the demo model's tokenizer files."""
    from transformers import LlamaConfig

    from ftui.models.demo import ensure_demo_model

    demo = ensure_demo_model()
    out = {}
    for size in SIZES:
        a = PRESETS[size]
        path = tmp_path_factory.mktemp(f"model-{size}")
        LlamaConfig(hidden_size=a.hidden_size, intermediate_size=a.intermediate_size, num_hidden_layers=a.num_layers,
                    num_attention_heads=a.num_heads, num_key_value_heads=a.num_kv_heads, vocab_size=a.vocab_size,
                    tie_word_embeddings=a.tie_embeddings).save_pretrained(path)
        for f in Path(demo).iterdir():
            if f.name.startswith(("tokenizer", "chat_template")):
                shutil.copy(f, path / f.name)
        out[size] = path
    return out


@pytest.fixture
def gpu_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80 GB CUDA GPU as far as the checks can tell (QLoRA's CUDA check included); model shapes read once."""
    import torch

    from ftui.models import info as modelinfo

    monkeypatch.setenv("FTUI_GPU_GB", GPU_GB)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(modelinfo, "inspect_model", functools.lru_cache(maxsize=None)(modelinfo.inspect_model))


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from ftui.cli import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _train_check_total(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[float, int, str]:
    rc, out, err = _cli(capsys, "train", str(path), "--check")
    found = re.search(r"memory estimate: ([0-9.]+) GB", out) if rc == 0 else re.search(r"puts this run at ([0-9.]+) GB", err)
    assert found, f"no total in ftui train --check (rc {rc}): {out} {err}"
    return float(found.group(1)), rc, err


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("seq", [512, 2048, 4096])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_plan_preflight_and_train_check_print_the_same_total(
    method: str, size: str, seq: int, batch: int, model_dirs: dict[str, Path], gpu_box: None,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from ftui.train.preflight import preflight

    config = RunConfig(model=str(model_dirs[size]), method=method, max_seq_len=seq, micro_batch_size=batch)  # type: ignore[arg-type]
    path = save_config(config, tmp_path / "run.yaml")

    rc, out, _ = _cli(capsys, "plan", "--config", str(path), "--json")
    assert rc == 0
    plan = json.loads(out)
    form = preflight(config)
    check, check_rc, check_err = _train_check_total(capsys, path)

    assert form.estimate_gb == pytest.approx(plan["total_gb"], abs=5e-4)
    assert check == pytest.approx(plan["total_gb"], abs=0.051)  # printed with 1-2 decimals
    # and they agree on the verdict: the check refuses exactly what the plan and the form say does not fit
    assert plan["fits"] is (form.verdict == "fits") is (check_rc == 0)
    if not plan["fits"] and plan["fix"]:
        for key, value in plan["fix"]["config"].items():
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            assert f"{key}={shown}" in check_err


def test_plan_flags_price_the_same_run_as_its_config(model_dirs: dict[str, Path], gpu_box: None,
                                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: 'ftui plan --method full' said 59 GB for a 7B where 'ftui train' said 142 GB."""
    path = save_config(RunConfig(model=str(model_dirs["8B"]), method="full", max_seq_len=2048, micro_batch_size=1),
                       tmp_path / "run.yaml")
    _, out, _ = _cli(capsys, "plan", "--model", str(model_dirs["8B"]), "--method", "full", "--json")
    flags = json.loads(out)
    _, out, _ = _cli(capsys, "plan", "--config", str(path), "--json")
    assert json.loads(out)["total_gb"] == flags["total_gb"]
    assert flags["setup"]["precision"] == "amp" and flags["total_gb"] > 130  # fp32 master weights: 16 B/param
    assert flags["fix"]["config"] == {"precision": "bf16"}  # stays a full fine-tune: the pure-bf16 recipe
    check, rc, err = _train_check_total(capsys, path)
    assert rc == 2 and check == pytest.approx(flags["total_gb"], abs=0.051) and "precision=bf16" in err
    assert "config: precision: the VRAM estimator puts this run at" in err  # filed under the key to change
    fixed = save_config(RunConfig(model=str(model_dirs["8B"]), method="full", max_seq_len=2048, micro_batch_size=1,
                                  precision="bf16"), tmp_path / "fixed.yaml")
    check, rc, _ = _train_check_total(capsys, fixed)
    assert rc == 0 and check < 80


def test_the_form_says_what_full_finetuning_costs_per_parameter(model_dirs: dict[str, Path], gpu_box: None) -> None:
    from ftui.train.preflight import preflight

    amp = preflight(RunConfig(model=str(model_dirs["8B"]), method="full"))
    assert amp.verdict == "does-not-fit" and "16 B/param" in amp.summary
    assert dict(amp.fix_changes).get("precision") == "bf16" and "precision=bf16" in (amp.fix or "")
    pure = preflight(RunConfig(model=str(model_dirs["8B"]), method="full", precision="bf16", max_seq_len=2048,
                               micro_batch_size=1))
    assert pure.verdict == "fits" and "8 B/param" in pure.summary
