"""The memory verdict for a RunConfig: will it fit on this GPU, and if not, the cheapest fix.

It prices the config through ``ftui.train.preflight.estimate.train_setup``, the same mapping as
``ftui plan`` and ``ftui train``, so the three agree. Reads a model's config.json (no
weights, no torch import unless torch is already loaded), so call it from a worker
thread in a UI. Never raises: a model the estimator
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


def preflight(config: RunConfig) -> Preflight:
    """The memory verdict for ``config`` on the GPU of this machine (if any)."""
    if config.method == "openai":
        return Preflight("not-needed", "OpenAI fine-tuning runs on OpenAI's machines: no local GPU memory needed.")
    try:
        from ftui.advisor import vram
        from ftui.train.preflight import estimate as bridge

        arch = bridge.resolve_arch(config)
        found, gpu_gb = bridge.detected_gpu_gb()
        est = bridge.estimate_config(config, gpu_gb, arch)
    except Exception as exc:  # noqa: BLE001 - any estimator failure is shown, never raised
        return Preflight("unknown", f"no memory estimate: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    total = est.total_gb
    basis = bridge.weights_phrase(est.setup)
    if found is None:
        return Preflight(
            "no-gpu",
            f"needs about {total:.1f} GB of GPU memory ({basis}); no GPU here, so it trains on the CPU "
            "(slow beyond tiny models).",
            estimate_gb=total,
        )
    name = f"{found.name} ({found.total_gb:.0f} GB)"
    if est.fits:
        return Preflight("fits", f"fits: about {total:.1f} GB of {found.total_gb:.0f} GB on {found.name} ({basis})",
                         estimate_gb=total, gpu=name, gpu_gb=found.total_gb)
    fix = vram.cheapest_fix(arch, est.setup, found.total_gb)
    if fix is None:
        return Preflight("does-not-fit", f"does not fit: about {total:.1f} GB ({basis}) > {found.total_gb:.0f} GB, "
                         "and no change we know makes it fit: use a smaller model or a bigger GPU.",
                         estimate_gb=total, gpu=name, gpu_gb=found.total_gb)
    return Preflight("does-not-fit", f"does not fit: about {total:.1f} GB ({basis}) > {found.total_gb:.0f} GB on "
                     f"{found.name}", estimate_gb=total, gpu=name, gpu_gb=found.total_gb,
                     fix=bridge.describe_fix(fix), fix_changes=bridge.fix_changes(fix))
