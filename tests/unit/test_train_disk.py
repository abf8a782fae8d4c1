"""The disk check before a run: what a run writes at least, and a refusal when its disk cannot hold it.

An 8B full fine-tune on an H200 box failed at the end of its training, writing its 16 GB model to a
disk that had less free: ``ftui train --check``, the start and the Train form now say so before it starts.
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.config import RunConfig
from ftui.train.preflight import disk
from ftui.train.preflight.disk import disk_need, disk_problem

N_8B = 8_030_261_248
Usage = namedtuple("Usage", "total used free")


def test_a_full_8b_run_in_pure_bf16_keeps_three_checkpoints_of_weights_and_adamw_states_at_once() -> None:
    config = RunConfig(model="8B", method="full", precision="bf16", max_steps=1000, save_steps=100, save_total_limit=2)
    need = disk_need(config, N_8B, 0)
    assert need.checkpoint == 6 * N_8B  # bf16 weights (2) + two bf16 AdamW states (4)
    assert need.final == 2 * N_8B
    assert need.checkpoints == 3  # the two kept and the one being written before the oldest goes
    assert need.total == pytest.approx(3 * 6 * N_8B)
    assert "3 checkpoint(s) of 48.2 GB" in need.describe()


def test_fp32_master_weights_double_it_and_an_epoch_run_counts_only_its_final_weights() -> None:
    config = RunConfig(model="8B", method="full", precision="auto", max_steps=0, save_steps=100)
    need = disk_need(config, N_8B, 0)
    assert need.checkpoint == 12 * N_8B and need.checkpoints == 0  # the step count depends on the data: a lower bound
    assert need.total == need.final == 4 * N_8B
    early = RunConfig(model="8B", method="full", max_steps=1000, save_steps=100, eval_steps=400, early_stopping_patience=1)
    assert disk_need(early, N_8B, 0).checkpoints == 2  # saves at each eval (400, 800): it may stop after patience + 1
    eight_bit = disk_need(RunConfig(model="8B", method="full", precision="bf16", optimizer="adamw_8bit"), N_8B, 0)
    assert eight_bit.checkpoint == 4 * N_8B


def test_a_lora_run_writes_its_adapter_and_the_merged_model_when_asked() -> None:
    adapter = 41_943_040
    plain = disk_need(RunConfig(model="8B", method="lora", max_steps=50, save_steps=100), N_8B, adapter)
    assert plain.total == plain.final == 4 * adapter  # fp32 adapters; no save before step 100
    merged = disk_need(RunConfig(model="8B", method="lora", merge_at_end=True, max_steps=50), N_8B, adapter)
    assert merged.final == 4 * adapter + 2 * N_8B
    qlora = disk_need(RunConfig(model="8B", method="qlora", max_steps=200, save_steps=100, save_total_limit=0), N_8B, adapter)
    assert qlora.checkpoint == 6 * adapter and qlora.checkpoints == 2  # bf16 adapters; 0 keeps all


def test_too_little_free_space_is_one_problem_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = RunConfig(model="8B", method="full", precision="bf16", max_steps=1000, save_steps=100,
                       output_dir=str(tmp_path / "runs" / "new"))
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**12, 0, 60e9))
    problem = disk_problem(config, tmp_path / "runs" / "new", N_8B, 0)
    assert problem is not None and problem.field == "output_dir"
    assert "at least 144.5 GB" in problem.message and "60.0 GB free" in problem.message
    assert "save_total_limit" in problem.fix and "output_dir" in problem.fix
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**12, 0, 200e9))
    assert disk_problem(config, tmp_path / "runs" / "new", N_8B, 0) is None


def test_ftui_train_check_refuses_a_run_its_disk_cannot_hold(demo_model: Path, tmp_path: Path, runs_dir: Path,  # noqa: ARG001
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "full.yaml"
    config.write_text("model: demo\ntrain_path: sample_data/support_tickets_train.jsonl\nmethod: full\n"
                      "max_steps: 1000\nsave_steps: 100\n")
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**9, 0, 1e6))
    assert main(["train", str(config), "--check"]) == 2
    err = capsys.readouterr().err
    assert "output_dir: this run writes at least" in err and "1.0 MB free" in err and "Free disk space" in err
