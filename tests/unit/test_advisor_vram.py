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
        # the table's QLoRA base keeps N_rest in bf16; prepare_model_for_kbit_training upcasts it to fp32
        # (tested below), so the table cell is our QLoRA weights less that upcast
        "qlora": (estimate(arch, TrainSetup("qlora")).breakdown["weights"] - 2 * arch.n_rest) / GB,
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


def test_qlora_prices_the_kbit_upcast_and_bf16_adapters() -> None:
    """prepare_model_for_kbit_training: N_rest in fp32 (~2 GB more for 8B, ~4 GB for 70B); TRL: adapters in bf16."""
    for size, extra_gb in (("8B", 2.1), ("70B", 4.2)):
        arch = PRESETS[size]
        est = estimate(arch, TrainSetup("qlora"))
        nf4 = arch.n_linear * 4.127 / 8
        assert est.breakdown["weights"] == pytest.approx(nf4 + 4 * arch.n_rest)
        assert (est.breakdown["weights"] - nf4 - 2 * arch.n_rest) / GB == pytest.approx(extra_gb, rel=0.05)
        adapters = est.breakdown["trainable"] + est.breakdown["gradients"] + est.breakdown["optimizer"]
        assert adapters == pytest.approx(8 * est.trainable_params)  # bf16 weight + grad + 2 bf16 Adam states
    eight_bit = estimate(PRESETS["8B"], TrainSetup("qlora", optimizer="paged_adamw_8bit"))
    assert eight_bit.breakdown["optimizer"] == pytest.approx(2 * eight_bit.trainable_params)


def test_full_finetune_prices_fp32_master_weights_unless_pure_bf16() -> None:
    arch = PRESETS["7B"]
    amp = estimate(arch, TrainSetup("full", precision="amp"))
    bf16 = estimate(arch, TrainSetup("full", precision="bf16"))
    bf16_8bit = estimate(arch, TrainSetup("full", precision="bf16", optimizer="adamw_8bit"))
    state = ("weights", "gradients", "optimizer")
    assert sum(amp.breakdown[k] for k in state) == pytest.approx(16 * arch.n_params)
    assert sum(bf16.breakdown[k] for k in state) == pytest.approx(8 * arch.n_params)
    assert sum(bf16_8bit.breakdown[k] for k in state) == pytest.approx(6 * arch.n_params)
    # TRL's LM head accumulates the head's gradient in fp32 before casting it to bf16 weights
    assert bf16.breakdown["logits"] > amp.breakdown["logits"]


def test_trl_chunked_head_is_far_below_full_logits_and_plain_is_the_table() -> None:
    arch = PRESETS["8B"]
    setup = TrainSetup("lora", seq_len=4096, micro_batch=8)
    chunked = estimate(arch, setup).breakdown["logits"]
    plain = estimate(arch, TrainSetup("lora", seq_len=4096, micro_batch=8, loss="plain")).breakdown["logits"]
    assert plain == pytest.approx(10 * 8 * 4096 * arch.vocab_size)
    # one [4096 x 32768] bf16 tile + the kept hidden states and their fp32 gradient: ~0.3 + 6·T·h bytes
    assert chunked == pytest.approx(4096 * 32768 * 2 + 8 * 8 * 4096 * arch.hidden_size, rel=0.01)
    assert chunked < plain / 20


def test_lora_dropout_and_the_adapter_input_copies_are_activations() -> None:
    arch = PRESETS["8B"]
    base = TrainSetup("lora", seq_len=2048, micro_batch=1, grad_checkpointing=False)
    no_dropout = estimate(arch, TrainSetup("lora", seq_len=2048, micro_batch=1, grad_checkpointing=False,
                                           lora_dropout=0.0))
    fan_in = 6 * arch.hidden_size + arch.intermediate_size  # q,k,v,o,gate,up read h; down reads i
    diff = estimate(arch, base).breakdown["activations"] - no_dropout.breakdown["activations"]
    assert diff == pytest.approx(1 * fan_in * 2048 * arch.num_layers)  # the 1-byte dropout masks, every layer


# torchtune README: Llama-3.1-8B, batch 2, packed 2048, activation checkpointing,
# chunked cross-entropy, LoRA rank 8 (QLoRA config: q,k,v,o + MLP; LoRA config: q,v,o + MLP).
# Their peak comes from torch's allocator, so it is compared with our torch_peak (no CUDA context).
TORCHTUNE = [
    ("qlora", ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 7.4),
    ("lora", ("q_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 16.2),
]


@pytest.mark.parametrize(("method", "targets", "gib"), TORCHTUNE)
def test_torchtune_llama31_8b(method: str, targets: tuple[str, ...], gib: float) -> None:
    """torchtune's program differs from ours in one way that matters: its QLoRA keeps embeddings, head and norms
    in bf16, where PEFT's kbit prep upcasts them to fp32 (and so the residual stream). Our full QLoRA figure
    (~11.4 GiB) is therefore compared after removing exactly that: 2·N_rest and the wider checkpointed inputs."""
    arch = PRESETS["8B"]
    setup = TrainSetup(method, seq_len=2048, micro_batch=2, grad_checkpointing=True, lora_r=8,
                       lora_targets=targets, loss="chunked", lora_dropout=0.0)  # torchtune: dropout 0
    got = estimate(arch, setup).torch_peak
    if method == "qlora":
        wider = activation_bytes(arch, 4096, True, 4) - activation_bytes(arch, 4096, True, 2)
        got -= 2 * arch.n_rest + wider * 1.10  # + its fragmentation share
    assert _close(got / GIB, gib, 0.15), f"{method}: {got / GIB:.2f} GiB vs torchtune {gib} GiB"


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
    assert any("label_smoothing_factor" in note for note in heavy.notes)
    chunked = estimate(arch, TrainSetup(method="qlora", seq_len=2048, micro_batch=2))
    assert not any("label_smoothing_factor" in note for note in chunked.notes)


@pytest.mark.parametrize("size", ["7B", "8B"])
def test_full_finetune_on_80gb_is_offered_the_pure_bf16_recipe(size: str) -> None:
    """AMP full fine-tuning of 7-8B cannot fit 80 GB; the fix keeps it a full fine-tune in pure bf16."""
    setup = TrainSetup("full", seq_len=2048, micro_batch=1, precision="amp", grad_checkpointing=False)
    assert estimate(PRESETS[size], setup, gpu_gb=80).fits is False
    fix = cheapest_fix(PRESETS[size], setup, gpu_gb=80)
    assert fix is not None and fix.estimate.fits and fix.estimate.setup.method == "full"
    assert fix.estimate.setup.precision == "bf16" or fix.estimate.setup.optimizer != "adamw_torch"
    assert all(c.field != "method" for c in fix.changes)
