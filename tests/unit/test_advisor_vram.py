"""The estimator against training.md's worked table and the published measurements.

Tolerances: the worked table is our own formula evaluated by hand, so each cell must
match within 5% (the table rounds to 2–3 significant digits). The published points
were measured by others with setups we can only approximate, so each must land within
15% (the project's goal vs measured ``max_memory_reserved``; the issue accepts 20%).
"""

from __future__ import annotations

import pytest

from ftui.advisor.architectures import NAMED, PRESETS
from ftui.advisor.errors import AdvisorError
from ftui.advisor.vram import (
    GB,
    GIB,
    TrainSetup,
    activation_bytes,
    cheapest_fix,
    estimate,
    logits_bytes,
    lora_params,
)

T = 4096
# model: (N in B, full 16N, LoRA base, QLoRA base, 16P, act GC on, act GC off, logits) in GB
TABLE = {
    "1B": (1.24, 19.8, 2.5, 1.0, 0.18, 0.6, 5.0, 5.3),
    "7B": (6.74, 108, 13.5, 3.9, 0.64, 1.6, 17, 1.3),
    "8B": (8.03, 128, 16.1, 5.7, 0.67, 1.6, 18, 5.3),
    "13B": (13.0, 208, 26, 7.2, 1.0, 2.4, 27, 1.3),
    "70B": (70.6, 1129, 141, 39.5, 3.3, 6.5, 90, 5.3),
}


def _close(value: float, want: float, rel: float) -> bool:
    return abs(value - want) <= rel * want


@pytest.mark.parametrize("size", list(TABLE))
def test_worked_table_cells(size: str) -> None:
    arch = PRESETS[size]
    n, full, lora_base, qlora_base, p16, act_on, act_off, logits = TABLE[size]
    got = {
        "N": arch.n_params / 1e9,
        "full": estimate(arch, TrainSetup("full", precision="amp")).breakdown_gb(),
        "lora": estimate(arch, TrainSetup("lora")).breakdown["weights"] / GB,
        "qlora": estimate(arch, TrainSetup("qlora")).breakdown["weights"] / GB,
        "16P": 16 * lora_params(arch, 16) / GB,
        "act_on": activation_bytes(arch, T, True) / GB,
        "act_off": activation_bytes(arch, T, False) / GB,
        "logits": logits_bytes(arch, T, "plain") / GB,
    }
    full_16n = sum(got["full"][k] for k in ("weights", "trainable", "gradients", "optimizer"))
    for label, value, want in (
        ("N", got["N"], n), ("16N", full_16n, full), ("LoRA base", got["lora"], lora_base),
        ("QLoRA base", got["qlora"], qlora_base), ("16P", got["16P"], p16), ("act on", got["act_on"], act_on),
        ("act off", got["act_off"], act_off), ("logits", got["logits"], logits),
    ):
        assert _close(value, want, 0.05), f"{size} {label}: {value:.3f} vs table {want}"


def test_lora_16p_is_the_adapter_share_of_the_lora_estimate() -> None:
    est = estimate(PRESETS["8B"], TrainSetup("lora", lora_r=16))
    adapters = est.breakdown["trainable"] + est.breakdown["gradients"] + est.breakdown["optimizer"]
    assert adapters == pytest.approx(16 * est.trainable_params)


# torchtune README: Llama-3.1-8B, batch 2, packed 2048, activation checkpointing,
# chunked cross-entropy, LoRA rank 8 (QLoRA config: q,k,v,o + MLP; LoRA config: q,v,o + MLP).
# Their peak comes from torch's allocator, so it is compared with our torch_peak (no CUDA context).
TORCHTUNE = [
    ("qlora", ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 7.4),
    ("lora", ("q_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 16.2),
]


@pytest.mark.parametrize(("method", "targets", "gib"), TORCHTUNE)
def test_torchtune_llama31_8b(method: str, targets: tuple[str, ...], gib: float) -> None:
    setup = TrainSetup(method, seq_len=2048, micro_batch=2, grad_checkpointing=True, lora_r=8,
                       lora_targets=targets, loss="chunked")
    got = estimate(PRESETS["8B"], setup).torch_peak / GIB
    assert _close(got, gib, 0.15), f"{method}: {got:.2f} GiB vs torchtune {gib} GiB"


# LLaMA-Factory hardware table for 7B (no setup given; we assume its defaults:
# batch 1, cutoff 1024, gradient checkpointing on, LoRA rank 8 on all linear layers).
LLAMA_FACTORY = [("qlora", "bf16", 6), ("lora", "bf16", 16), ("full", "bf16", 60), ("full", "amp", 120)]


@pytest.mark.parametrize(("method", "precision", "gb"), LLAMA_FACTORY)
def test_llama_factory_7b(method: str, precision: str, gb: float) -> None:
    setup = TrainSetup(method, seq_len=1024, micro_batch=1, precision=precision, lora_r=8)
    got = estimate(PRESETS["7B"], setup).total_gb
    assert _close(got, gb, 0.15), f"{method}/{precision}: {got:.1f} GB vs {gb} GB"


def test_qlora_65b_fits_48gb() -> None:
    """QLoRA paper: LLaMA-65B, r=64 on all linear layers, paged optimizer, batch 1, ~512 tokens."""
    setup = TrainSetup("qlora", seq_len=512, micro_batch=1, optimizer="paged_adamw_8bit", lora_r=64)
    est = estimate(NAMED["llama-65b"], setup, gpu_gb=48)
    assert est.fits, f"{est.total_gb:.1f} GB"
    assert est.total_gb > 40  # and not absurdly low: the 4-bit base alone is ~34 GB


def test_fits_and_total() -> None:
    est = estimate(PRESETS["8B"], TrainSetup("qlora", seq_len=2048, micro_batch=2), gpu_gb=24)
    assert est.fits is True
    assert est.total_gb == pytest.approx(sum(est.breakdown_gb().values()), abs=0.01)
    assert estimate(PRESETS["8B"], TrainSetup("full"), gpu_gb=24).fits is False
    assert estimate(PRESETS["8B"], TrainSetup("full")).fits is None


def test_cheapest_fix_prefers_checkpointing_over_quality_changes() -> None:
    setup = TrainSetup("lora", seq_len=2048, micro_batch=4, grad_checkpointing=False)
    fix = cheapest_fix(PRESETS["8B"], setup, gpu_gb=24)
    assert fix is not None and fix.estimate.fits
    assert [c.field for c in fix.changes][0] == "grad_checkpointing"
    assert all(c.field not in ("seq_len", "lora_r") for c in fix.changes)


def test_cheapest_fix_moves_full_to_adapters_when_needed() -> None:
    fix = cheapest_fix(PRESETS["8B"], TrainSetup("full", seq_len=1024), gpu_gb=24)
    assert fix is not None
    assert any(c.field == "method" for c in fix.changes)
    assert fix.estimate.total_gb <= 24


def test_cheapest_fix_none_when_nothing_fits_and_empty_when_it_fits() -> None:
    assert cheapest_fix(PRESETS["70B"], TrainSetup("full"), gpu_gb=16) is None
    fits = cheapest_fix(PRESETS["1B"], TrainSetup("lora"), gpu_gb=80)
    assert fits is not None and fits.changes == []


@pytest.mark.parametrize(
    ("setup", "gpu", "fragment"),
    [
        (TrainSetup(seq_len=0), None, "sequence length"),
        (TrainSetup(micro_batch=-2), None, "micro-batch"),
        (TrainSetup(lora_r=0), None, "rank"),
        (TrainSetup(lora_r=5000), None, "rank"),
        (TrainSetup(lora_targets="foo_proj"), None, "target"),
        (TrainSetup(method="dora"), None, "method"),
        (TrainSetup(), 0, "GPU memory"),
        (TrainSetup(), -8, "GPU memory"),
    ],
)
def test_bad_setups_raise_one_clear_error(setup: TrainSetup, gpu: float | None, fragment: str) -> None:
    with pytest.raises(AdvisorError) as err:
        estimate(PRESETS["8B"], setup, gpu_gb=gpu)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_full_finetune_ignores_rank() -> None:
    assert estimate(PRESETS["1B"], TrainSetup("full", lora_r=0)).total > 0


def test_a_plain_loss_whose_logits_dominate_says_how_to_remove_them() -> None:
    from ftui.advisor.architectures import find_preset

    arch = find_preset("8B")
    heavy = estimate(arch, TrainSetup(method="qlora", seq_len=2048, micro_batch=2, loss="plain"))
    assert any("fused linear+CE" in note for note in heavy.notes)
    fused = estimate(arch, TrainSetup(method="qlora", seq_len=2048, micro_batch=2, loss="fused"))
    assert not any("fused linear+CE" in note for note in fused.notes)
