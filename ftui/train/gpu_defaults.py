"""The speed defaults a practitioner expects on a GPU, decided before any weights load.

Three choices follow from the machine and the config, each with the sentence the run
log prints so the user sees what was picked and why:

- the attention kernel: ``auto`` takes flash-attention 2 when the ``flash_attn`` package
  is installed, CUDA is present and the run computes in bf16/fp16, else SDPA (eager for a
  model without SDPA support); an explicit ``flash_attention_2`` that cannot run here is
  refused with one readable message instead of a transformers traceback after loading;
- the optimizer: ``auto`` is fused AdamW on CUDA (one kernel per step instead of one
  per parameter tensor) and plain ``adamw_torch`` on CPU; an explicit name is kept;
- TF32 matmuls on Ampere and newer (compute capability >= 8.0), never on CPU, unless
  the user set ``extra.tf32``.

The decisions are pure functions of a ``GpuEnvironment`` so tests fake the machine;
``probe_environment`` is the only place that asks torch. No Textual, torch imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftui.config import RunConfig

FLASH = "flash_attention_2"
FLASH_MIN_VERSION = (2, 3, 3)  # transformers refuses older flash-attn (is_flash_attn_2_available)
FLASH_INSTALL = "pip install flash-attn --no-build-isolation"


@dataclass(frozen=True)
class GpuEnvironment:
    """What the speed decisions need to know about this machine."""

    cuda: bool
    capability: tuple[int, int] | None = None  # (major, minor) of the device in use
    flash_attn_version: str | None = None  # the installed flash-attn, None when absent


@dataclass(frozen=True)
class Choice:
    """A decided value and the run-log sentence that says why."""

    value: str | bool
    note: str


def probe_environment(config: RunConfig | None = None) -> GpuEnvironment:
    """The real machine: CUDA, the current device's compute capability, flash-attn's version.

    A config with ``device: cpu`` trains on the CPU of a GPU box, so CUDA counts as absent.
    """
    import torch

    on_cpu = config is not None and str(getattr(config, "device", "auto")).strip().lower() == "cpu"
    cuda = torch.cuda.is_available() and not on_cpu
    capability = None
    if cuda:
        try:
            capability = tuple(torch.cuda.get_device_capability(torch.cuda.current_device()))[:2]
        except Exception:  # noqa: BLE001 - a broken driver: no capability, so no TF32
            capability = None
    return GpuEnvironment(cuda=cuda, capability=capability, flash_attn_version=flash_attn_version())  # type: ignore[arg-type]


def flash_attn_version() -> str | None:
    """The installed ``flash-attn`` distribution's version, or None (reads metadata, imports nothing)."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("flash_attn") is None:
        return None
    try:
        return importlib.metadata.version("flash-attn")
    except importlib.metadata.PackageNotFoundError:
        return None  # a flash_attn module from another distribution (e.g. FA4) is not FA2


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def flash_usable_version(env: GpuEnvironment) -> bool:
    return env.flash_attn_version is not None and _version_tuple(env.flash_attn_version) >= FLASH_MIN_VERSION


def computes_in_half(config: RunConfig, env: GpuEnvironment) -> bool:
    """Whether the run's matmuls run in bf16/fp16 (what flash-attention needs)."""
    if config.method == "qlora" and config.compute_dtype == "float32":
        return False
    if config.precision in ("bf16", "fp16"):
        return True
    if config.precision == "fp32":
        return False
    return env.cuda  # auto: bf16 (or fp16) on a GPU, fp32 on CPU


def attention_problem(config: RunConfig, env: GpuEnvironment) -> tuple[str, str] | None:
    """(message, fix) when an explicit ``flash_attention_2`` cannot run on this machine, else None."""
    if config.attn_implementation == FLASH:
        if env.flash_attn_version is None:
            return ("flash_attention_2 needs the flash-attn package, which is not installed here",
                    f"{FLASH_INSTALL} (CUDA machines only), or set attn_implementation to auto or sdpa.")
        if not flash_usable_version(env):
            return (f"flash-attn {env.flash_attn_version} is too old for transformers (2.3.3 or newer is needed)",
                    "pip install -U flash-attn --no-build-isolation, or set attn_implementation to auto or sdpa.")
        if not env.cuda:
            return ("flash_attention_2 needs an NVIDIA GPU with CUDA, and none is available here",
                    "Set attn_implementation to auto or sdpa on this machine.")
        if not computes_in_half(config, env):
            return ("flash_attention_2 runs in bf16 or fp16 only, and this run computes in fp32",
                    "Set precision to auto or bf16 (and compute_dtype to bfloat16 for QLoRA), or use sdpa.")
    return None


def attention_model_problem(config: RunConfig, supports_flash: bool, supports_sdpa: bool,
                            model_type: str = "") -> tuple[str, str] | None:
    """(message, fix) when the model class cannot run the explicit ``attn_implementation``, else None."""
    choice = config.attn_implementation
    model = f"this {model_type} model" if model_type else "this model"
    if choice == FLASH and not supports_flash:
        return (f"{model} does not support flash_attention_2 in transformers", "Set attn_implementation to auto or sdpa.")
    if choice == "sdpa" and not supports_sdpa:
        return (f"{model} does not support sdpa attention in transformers", "Set attn_implementation to auto or eager.")
    return None


def choose_attention(config: RunConfig, env: GpuEnvironment, supports_flash: bool = True,
                     supports_sdpa: bool = True) -> Choice:
    """The ``attn_implementation`` passed to ``from_pretrained``, with the reason.

    Call ``attention_problem`` first: an explicit choice is returned as is.
    """
    choice = config.attn_implementation
    if choice != "auto":
        return Choice(choice, f"attention: {choice} (set in the config)")
    fallback = "sdpa" if supports_sdpa else "eager"
    why_not = ""
    if env.flash_attn_version is None:
        why_not = "flash-attn is not installed"
    elif not flash_usable_version(env):
        why_not = f"flash-attn {env.flash_attn_version} is older than 2.3.3"
    elif not env.cuda:
        why_not = "no CUDA here"
    elif not computes_in_half(config, env):
        why_not = "the run computes in fp32"
    elif not supports_flash:
        why_not = "the model does not support it"
    if not why_not:
        return Choice(FLASH, f"attention: {FLASH} (flash-attn {env.flash_attn_version} installed, CUDA, 16-bit compute)")
    if not supports_sdpa:
        return Choice(fallback, f"attention: eager (the model supports neither flash-attention here nor sdpa; {why_not})")
    return Choice(fallback, f"attention: sdpa (flash_attention_2 not used: {why_not})")


def choose_optimizer(config: RunConfig, env: GpuEnvironment) -> Choice:
    """``auto`` -> fused AdamW on CUDA, ``adamw_torch`` on CPU; an explicit name is kept."""
    if config.optimizer != "auto":
        return Choice(config.optimizer, f"optimizer: {config.optimizer} (set in the config)")
    if env.cuda:
        return Choice("adamw_torch_fused", "optimizer: adamw_torch_fused (fused AdamW on CUDA; set optimizer to change)")
    return Choice("adamw_torch", "optimizer: adamw_torch (fused AdamW needs CUDA)")


def choose_tf32(config: RunConfig, env: GpuEnvironment) -> Choice:
    """TF32 matmuls on Ampere and newer; ``extra.tf32`` overrides (SFTConfig applies it)."""
    if "tf32" in (config.extra or {}):
        return Choice(bool(config.extra["tf32"]), f"tf32: {'on' if config.extra['tf32'] else 'off'} (set in extra)")
    if not env.cuda:
        return Choice(False, "tf32: off (no CUDA)")
    if env.capability is None or env.capability[0] < 8:
        cc = f"{env.capability[0]}.{env.capability[1]}" if env.capability else "unknown"
        return Choice(False, f"tf32: off (compute capability {cc}; TF32 needs Ampere, 8.0, or newer)")
    return Choice(True, f"tf32: on for fp32 matmuls (compute capability {env.capability[0]}.{env.capability[1]})")
