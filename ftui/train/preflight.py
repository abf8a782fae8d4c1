"""VRAM preflight for a RunConfig: will it fit on this GPU, and if not, the cheapest fix.

A thin adapter from ``RunConfig`` to the advisor's estimator (``ftui.advisor.vram``).
Reads a model's config.json (no weights, no torch import unless torch is already
loaded), so call it from a worker thread in a UI. Never raises: a model the estimator
cannot price gives a verdict of ``"unknown"`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftui.config import RunConfig


@dataclass(frozen=True)
class Preflight:
    verdict: str  # "fits" | "does-not-fit" | "no-gpu" | "not-needed" | "unknown"
    summary: str  # one line for the form
    estimate_gb: float | None = None
    gpu: str | None = None
    gpu_gb: float | None = None
    fix: str | None = None  # the cheapest change that makes it fit
    fix_changes: tuple[tuple[str, object], ...] = ()  # (RunConfig field, value) pairs of the fix


# estimator field -> RunConfig field
_FIX_FIELDS = {"micro_batch": "micro_batch_size", "seq_len": "max_seq_len", "grad_checkpointing": "gradient_checkpointing"}


def setup_for(config: RunConfig):  # noqa: ANN201 - vram.TrainSetup, imported lazily
    from ftui.advisor import vram

    precision = {"fp16": "amp", "fp32": "fp32"}.get(config.precision, "bf16")
    optimizer = config.optimizer if config.optimizer in vram.OPTIMIZERS else "adamw_torch"
    targets = config.target_modules
    if isinstance(targets, list):
        targets = tuple(targets)
    return vram.TrainSetup(
        method=config.method if config.method in vram.METHODS else "lora",
        seq_len=max(1, int(config.max_seq_len)),
        micro_batch=max(1, int(config.micro_batch_size)),
        grad_checkpointing=bool(config.gradient_checkpointing),
        optimizer=optimizer,
        precision=precision,
        lora_r=max(1, int(config.lora_r)),
        lora_targets=targets,
    )


def preflight(config: RunConfig) -> Preflight:
    """The memory verdict for ``config`` on the GPU of this machine (if any)."""
    if config.method == "openai":
        return Preflight("not-needed", "OpenAI fine-tuning runs on OpenAI's machines: no local GPU memory needed.")
    try:
        from ftui.advisor import gpu as gpu_mod
        from ftui.advisor import vram
        from ftui.advisor.model_config import resolve_architecture

        arch = resolve_architecture(config.model)
        setup = setup_for(config)
        vram.validate_setup(arch, setup)
        found = gpu_mod.detect_gpu()
        est = vram.estimate(arch, setup, found.total_gb if found else None)
    except Exception as exc:  # noqa: BLE001 - any estimator failure is shown, never raised
        return Preflight("unknown", f"no memory estimate: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    total = est.total_gb
    if found is None:
        return Preflight(
            "no-gpu",
            f"needs about {total:.1f} GB of GPU memory; no GPU here, so it trains on the CPU (slow beyond tiny models).",
            estimate_gb=total,
        )
    name = f"{found.name} ({found.total_gb:.0f} GB)"
    if est.fits:
        return Preflight("fits", f"fits: about {total:.1f} GB of {found.total_gb:.0f} GB on {found.name}",
                         estimate_gb=total, gpu=name, gpu_gb=found.total_gb)
    fix = vram.cheapest_fix(arch, setup, found.total_gb)
    if fix is None:
        return Preflight("does-not-fit", f"does not fit: about {total:.1f} GB > {found.total_gb:.0f} GB, and no "
                         "change we know makes it fit: use a smaller model or a bigger GPU.",
                         estimate_gb=total, gpu=name, gpu_gb=found.total_gb)
    changes = tuple((_FIX_FIELDS.get(c.field, c.field), c.value) for c in fix.changes)
    return Preflight("does-not-fit", f"does not fit: about {total:.1f} GB > {found.total_gb:.0f} GB on {found.name}",
                     estimate_gb=total, gpu=name, gpu_gb=found.total_gb, fix=fix.describe(), fix_changes=changes)
