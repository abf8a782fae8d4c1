"""The VRAM estimator (``ftui.advisor.vram``) applied to a RunConfig.

Used twice: ``validate`` refuses a config the estimator says cannot fit the GPU here
(with its cheapest fix), and the ``started`` event carries the estimate so the memory
plot can draw it next to the measured curve. Any estimator error means "no estimate",
never a failed run.
"""

from __future__ import annotations

from ftui.config import RunConfig

_OPTIMIZERS = {
    "adamw_8bit": "adamw_8bit",
    "adamw_bnb_8bit": "adamw_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit",
}
_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


def setup_from_config(config: RunConfig):
    from ftui.advisor.vram import TrainSetup

    if config.precision == "fp32":
        precision = "fp32"
    elif config.method == "full":
        precision = "amp"  # fp32 master weights, 16-bit compute
    else:
        precision = "bf16"
    targets = config.target_modules
    if targets == "attention":
        targets = _ATTENTION
    elif isinstance(targets, list):
        targets = tuple(targets)
    return TrainSetup(
        method=config.method,
        seq_len=config.max_seq_len,
        micro_batch=config.micro_batch_size,
        grad_checkpointing=config.gradient_checkpointing,
        optimizer=_OPTIMIZERS.get(config.optimizer, "adamw_torch"),
        precision=precision,
        lora_r=config.lora_r,
        lora_targets=targets,
    )


def estimate_for(config: RunConfig, gpu_gb: float | None = None):
    """The estimator's Estimate for this config, or None (OpenAI, unknown model, estimator error)."""
    if config.method not in ("full", "lora", "qlora"):
        return None
    try:
        from ftui.advisor.model_config import resolve_architecture
        from ftui.advisor.vram import estimate

        arch = resolve_architecture(config.model)
        return estimate(arch, setup_from_config(config), gpu_gb)
    except Exception:  # noqa: BLE001 - no estimate is better than a refused run
        return None


def estimate_run_gb(config: RunConfig) -> float | None:
    result = estimate_for(config)
    return round(result.total_gb, 2) if result is not None else None


def fit_problem(config: RunConfig) -> str | None:
    """A message when a GPU is present and the estimate exceeds it; None when it fits or cannot be told."""
    try:
        from ftui.advisor.gpu import detect_gpu
    except ImportError:
        return None
    gpu = detect_gpu()
    if gpu is None:
        return None
    result = estimate_for(config, gpu.total_gb)
    if result is None or result.fits is not False:
        return None
    message = f"the VRAM estimator puts this run at {result.total_gb:.1f} GB, more than the {gpu.total_gb:g} GB of {gpu.name}"
    try:
        from ftui.advisor.model_config import resolve_architecture
        from ftui.advisor.vram import cheapest_fix

        fix = cheapest_fix(resolve_architecture(config.model), setup_from_config(config), gpu.total_gb)
        if fix is not None and fix.changes:
            message += f"; cheapest fix: {fix.describe()}"
    except Exception:  # noqa: BLE001
        pass
    return message
