"""The one bridge from a RunConfig to the VRAM estimator (``ftui.advisor.vram``).

``ftui plan`` (CLI and screen), the Train form's preflight, ``ftui train`` validation and
the ``started`` event all price a run through ``train_setup``, so they cannot disagree.
It maps each RunConfig switch to what ``hf_backend`` then does with it:

- precision: full fine-tuning with ``auto``/``fp16`` loads fp32 weights under 16-bit
  autocast (``amp``, 16 B/param); ``bf16`` loads bf16 weights with no fp32 master copy;
  LoRA loads a bf16 base unless ``fp16``/``fp32``; QLoRA's base is 4-bit whatever it says.
- loss: TRL's chunked LM head, or full logits when ``extra.label_smoothing_factor`` > 0.
- preference methods price their adapter (``weights_method``: LoRA or QLoRA) with the batch the
  policy forward really carries (``sequences_per_row``): DPO and ORPO run chosen and rejected as one
  concatenated batch, 2 sequences per row; KTO's KL batch runs without gradients, 1. The reference
  forward (DPO, KTO) runs the same weights with the adapter disabled under ``no_grad``: no second copy
  of the weights and no stored activations, only a one-layer working set while it runs, well inside
  the 5-15 % overhead margin; it costs time (one extra forward, about a third of a step), not memory.
- gradient checkpointing ``auto`` (``checkpointing_choice``): off when the run fits the GPU
  without it with at least 15 % left over, on otherwise, and on when the GPU or the
  estimate is unknown; with no GPU, off for a tiny model (it only costs time on a CPU).

Any estimator error means "no estimate", never a failed run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ftui.config import RunConfig, weights_method

if TYPE_CHECKING:  # pragma: no cover
    from ftui.advisor.architectures import Architecture
    from ftui.advisor.vram import Estimate, Fix, TrainSetup

GC_AUTO_FREE = 0.15  # auto turns checkpointing off only when this share of the GPU stays free without it
GC_TINY_PARAMS = 20_000_000  # below this, on a CPU, checkpointing costs time and saves nothing that matters

_OPTIMIZERS = {
    "adamw_8bit": "adamw_8bit",
    "adamw_bnb_8bit": "adamw_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit",
    "lion_8bit": "adamw_8bit",
    "paged_lion_8bit": "paged_adamw_8bit",
}
_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
# estimator field -> RunConfig field (for a cheapest fix applied to a config)
FIX_FIELDS = {"micro_batch": "micro_batch_size", "seq_len": "max_seq_len", "grad_checkpointing": "gradient_checkpointing"}


def estimator_precision(config: RunConfig) -> str:
    """The estimator's precision for what ``hf_backend.load_model`` loads (``auto`` = a bf16-capable GPU)."""
    method = weights_method(config)
    if method == "qlora":
        return "bf16"
    if config.precision == "fp32":
        return "fp32"
    if method == "full":
        return "bf16" if config.precision == "bf16" else "amp"
    return "amp" if config.precision == "fp16" else "bf16"  # LoRA: an fp16 run loads an fp32 base


def loss_path(config: RunConfig) -> str:
    """``plain`` where TRL materialises the full logits (label smoothing), else its chunked LM head."""
    try:
        smoothing = float((config.extra or {}).get("label_smoothing_factor") or 0)
    except (TypeError, ValueError):
        smoothing = 0.0
    return "plain" if smoothing > 0 else "chunked"


def _targets(config: RunConfig) -> str | tuple[str, ...]:
    targets = config.target_modules
    if targets == "attention":
        return _ATTENTION
    if isinstance(targets, list):
        return tuple(targets)
    if isinstance(targets, str) and targets != "all-linear" and "," in targets:
        return tuple(t.strip() for t in targets.split(",") if t.strip())
    return targets


def sequences_per_row(config: RunConfig) -> int:
    """Sequences one row puts through the policy's forward with gradients: 2 for DPO / ORPO (chosen + rejected)."""
    return 2 if config.method in ("dpo", "orpo") else 1


def _setup(config: RunConfig, grad_checkpointing: bool) -> TrainSetup:
    from ftui.advisor.vram import TrainSetup

    return TrainSetup(
        method=weights_method(config),
        seq_len=config.max_seq_len,
        micro_batch=config.micro_batch_size * sequences_per_row(config),
        grad_checkpointing=grad_checkpointing,
        optimizer=_OPTIMIZERS.get(config.optimizer, "adamw_torch"),
        precision=estimator_precision(config),
        lora_r=config.lora_r,
        lora_targets=_targets(config),
        loss=loss_path(config),
        lora_dropout=config.lora_dropout,
    )


def checkpointing_choice(
    config: RunConfig, arch: Architecture | None, gpu_gb: float | None
) -> tuple[bool, str]:
    """(gradient checkpointing on?, why) for ``config`` on a GPU of ``gpu_gb`` (None: no GPU here)."""
    value = config.gradient_checkpointing
    if isinstance(value, bool):
        return value, "set in the config"
    if gpu_gb is None:
        if arch is not None and arch.n_params < GC_TINY_PARAMS:
            return False, f"auto: no GPU and a {arch.n_params / 1e6:.1f}M-parameter model, where it only costs time"
        return True, "auto: no GPU to size it against"
    if arch is None:
        return True, "auto: no memory estimate for this model"
    try:
        from ftui.advisor.vram import estimate

        without = estimate(arch, _setup(config, False), gpu_gb)
    except Exception:  # noqa: BLE001 - an unpriceable setup keeps the safe choice
        return True, "auto: no memory estimate for this setup"
    free = 1 - without.total_gb / gpu_gb
    if free >= GC_AUTO_FREE:
        return False, f"auto: {without.total_gb:.1f} GB without it leaves {free:.0%} of {gpu_gb:g} GB free"
    return True, f"auto: {without.total_gb:.1f} GB without it would leave under {GC_AUTO_FREE:.0%} of {gpu_gb:g} GB free"


def train_setup(config: RunConfig, arch: Architecture | None = None, gpu_gb: float | None = None) -> TrainSetup:
    """THE RunConfig -> TrainSetup mapping (``gpu_gb``: the GPU that ``auto`` checkpointing is sized for)."""
    gc, _ = checkpointing_choice(config, arch, gpu_gb)
    return _setup(config, gc)


def resolve_arch(config: RunConfig) -> Architecture:
    from ftui.advisor.model_config import architecture_for

    return architecture_for(config.model)


def detected_gpu_gb() -> tuple[Any, float | None]:
    """(GpuInfo or None, its size in GB) as every path sees it: FTUI_GPU_GB, NVML, or a loaded torch."""
    from ftui.advisor.gpu import detect_gpu

    gpu = detect_gpu()
    return gpu, (gpu.total_gb if gpu is not None else None)


def estimate_config(config: RunConfig, gpu_gb: float | None = None, arch: Architecture | None = None) -> Estimate:
    """The Estimate of ``config`` on a GPU of ``gpu_gb`` (None: no GPU); raises AdvisorError / model errors."""
    from ftui.advisor.vram import estimate

    arch = arch if arch is not None else resolve_arch(config)
    return estimate(arch, train_setup(config, arch, gpu_gb), gpu_gb)


def estimate_for(config: RunConfig, gpu_gb: float | None = None) -> Estimate | None:
    """The estimator's Estimate for this config, or None (OpenAI, unknown model, estimator error)."""
    if weights_method(config) not in ("full", "lora", "qlora"):
        return None
    try:
        return estimate_config(config, gpu_gb)
    except Exception:  # noqa: BLE001 - no estimate is better than a refused run
        return None


def estimate_figures(config: RunConfig, gpu_gb: float | None = None) -> tuple[float | None, float | None]:
    """(total GB with the CUDA context, torch-allocator peak GB without it) for the ``started`` event."""
    result = estimate_for(config, gpu_gb)
    if result is None:
        return None, None
    return round(result.total_gb, 2), round(result.torch_peak / 1e9, 2)


def fix_changes(fix: Fix, per_row: int = 1) -> tuple[tuple[str, object], ...]:
    """The fix as (RunConfig field, value) pairs: what the form applies and the CLI tells.

    ``per_row``: sequences per row (``sequences_per_row``): the estimator's batch counts sequences."""
    from ftui.advisor.overrides import config_precision

    out = []
    for change in fix.changes:
        name = FIX_FIELDS.get(change.field, change.field)
        value = change.value
        if change.field == "precision":
            value = config_precision("full", str(change.value))
        elif change.field == "micro_batch" and per_row > 1 and isinstance(value, int):
            value = max(1, value // per_row)
        out.append((name, value))
    return tuple(out)


def describe_fix(fix: Fix, per_row: int = 1) -> str:
    """The fix in words, with the config keys to set: ``...; set precision=bf16 optimizer=adamw_8bit``."""
    changes = fix_changes(fix, per_row)
    keys = " ".join(f"{name}={'true' if v is True else 'false' if v is False else v}" for name, v in changes)
    return f"{fix.describe()} (set {keys})" if keys else fix.describe()


def fit_check(config: RunConfig) -> tuple[str, str] | None:
    """(config key to file it under, message) when the run does not fit the GPU here; the key is the fix's first."""
    gpu, gpu_gb = detected_gpu_gb()
    if gpu is None or gpu_gb is None or weights_method(config) not in ("full", "lora", "qlora"):
        return None
    try:
        arch = resolve_arch(config)
        result = estimate_config(config, gpu_gb, arch)
    except Exception:  # noqa: BLE001 - no estimate: nothing to refuse on
        return None
    if result.fits is not False:
        return None
    message = (f"the VRAM estimator puts this run at {result.total_gb:.1f} GB "
               f"({weights_phrase(result.setup)}), more than the {gpu_gb:g} GB of {gpu.name}")
    try:
        from ftui.advisor.vram import cheapest_fix

        fix = cheapest_fix(arch, result.setup, gpu_gb)
    except Exception:  # noqa: BLE001
        fix = None
    field = "micro_batch_size"
    if fix is not None and fix.changes:
        message += f"; cheapest fix: {describe_fix(fix, sequences_per_row(config))}"
        field = fix_changes(fix, sequences_per_row(config))[0][0]
    elif fix is None:
        message += "; nothing we know makes it fit: use a smaller model, a bigger GPU or several (accelerate launch)"
    return field, message


def weights_phrase(setup: TrainSetup) -> str:
    from ftui.advisor.vram import weights_basis

    return weights_basis(setup)


def fit_summary(config: RunConfig, gpu_gb: float | None) -> str:
    """One line a CLI prints: the total, the allocator peak and the basis (``ftui train --check``)."""
    try:
        est = estimate_config(config, gpu_gb)
    except Exception as exc:  # noqa: BLE001
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"memory estimate: none ({first})"
    gc = "on" if est.setup.grad_checkpointing else "off"
    where = f"of the {gpu_gb:g} GB GPU" if gpu_gb else "no GPU detected"
    return (f"memory estimate: {est.total_gb:.2f} GB, {where} (torch peak {est.torch_peak / 1e9:.2f} GB + CUDA "
            f"context; {weights_phrase(est.setup)}; gradient checkpointing {gc}; loss {est.setup.loss})")
