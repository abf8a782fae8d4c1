"""What a Hugging Face run trains on, settled before the model loads.

The device (chosen and made current, ``pin_run_device``), the attention kernel and TF32
(``gpu_defaults``' choices, an impossible explicit one refused), one CPU thread for a tiny
model, gradient checkpointing (``auto`` decided by the same estimate as the preflight), the
GPU's size and the estimate lines of the memory plot, a Hub model fetched with progress
lines, and the libraries kept quiet. The SFT and the preference backends share these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.train.errors import TrainError
from ftui.train.events import Message

Emit = Callable[[Any], None]


def say(emit: Emit, text: str) -> None:
    """One plain line for the run log."""
    emit(Message(text=text))


def decide_attention(config: RunConfig, info: Any) -> Any:
    """The attention kernel for this run (``gpu_defaults.Choice``); an explicit one that cannot run here is a TrainError."""
    from ftui.train.gpu_defaults import attention_model_problem, attention_problem, choose_attention, probe_environment

    env = probe_environment(config)
    problem = attention_problem(config, env) or attention_model_problem(
        config, info.supports_flash_attn, info.supports_sdpa, info.model_type)
    if problem:
        raise TrainError(f"attn_implementation: {problem[0]}", problem[1])
    return choose_attention(config, env, info.supports_flash_attn, info.supports_sdpa)


def tf32_note(config: RunConfig) -> str:
    from ftui.train.gpu_defaults import choose_tf32, probe_environment

    return choose_tf32(config, probe_environment(config)).note


def download_from_hub(path: str, emit: Emit) -> None:
    """Fetch a Hub model not yet in the cache with progress events, so a 16 GB download does not look frozen.

    A local directory is left alone. The progress lines carry ``key="download"``: live views
    (the monitor, ``ftui train``) replace the previous one instead of stacking them.
    """
    from ftui.models import hub
    from ftui.models.source import is_hub_id

    if Path(path).expanduser().exists() or not is_hub_id(path):
        return

    def report(progress: hub.DownloadProgress) -> None:
        emit(Message(text=progress.describe(), key=None if progress.finished else "download"))

    say(emit, f"checking the Hugging Face cache for {path}")
    try:
        hub.download_model(path, report)
    except Exception as exc:  # noqa: BLE001 - no network, gated repo, disk full: one line, then let from_pretrained decide
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        emit(Message(text=f"could not pre-download {path} ({first[:200]}); loading it directly", level="warning"))


TINY_MODEL_PARAMS = 20_000_000


def tune_cpu_threads(num_parameters: int) -> None:
    """One intra-op thread for a tiny model on CPU.

    Its 128-wide matrices gain nothing from splitting, and OpenMP threads spin-wait:
    on a shared 2-core box a 20-step demo run took 226 s with 2 threads, 41 s with 1.
    """
    import torch

    if not torch.cuda.is_available() and 0 < num_parameters < TINY_MODEL_PARAMS:
        torch.set_num_threads(1)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def skip_bitsandbytes_without_cuda() -> None:
    """Hide bitsandbytes from this process when it has no CUDA: nothing can use it then (QLoRA and the
    8-bit optimizers are refused without CUDA), yet peft imports it whenever it is installed and it pulls
    in torch._inductor, ~2.5 CPU-s of every CPU run's start. Call before peft or trl is imported."""
    import sys

    if "bitsandbytes" in sys.modules or "peft" in sys.modules or has_cuda():
        return
    sys.modules["bitsandbytes"] = None  # type: ignore[assignment]  # find_spec -> None, import -> ImportError


def trains_on_gpu(config: RunConfig) -> bool:
    """CUDA is here and the run may use it (``device: cpu`` keeps a GPU box's run on the CPU)."""
    from ftui.train.devices import DeviceError, parse_device, under_launcher

    if not has_cuda():
        return False
    try:
        return under_launcher() or parse_device(config.device)[0] != "cpu"
    except DeviceError:
        return True  # validation refuses it before a run starts


def quiet_libraries() -> None:
    """Keep library chatter (progress bars, v6 deprecation notes, optional-kernel notices) off the terminal."""
    import logging
    import warnings

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*will be removed in v6.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*pin_memory.*", category=UserWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def pin_run_device(config: RunConfig, emit: Emit) -> Any:
    """Choose this process's device and make it current before anything touches CUDA; say which."""
    from ftui.train.devices import DeviceError, choose_device, pin_device

    try:
        choice = choose_device(config.device)
    except DeviceError as exc:
        raise TrainError(str(exc), "set device to auto, cuda:N (a GPU listed by nvidia-smi) or cpu") from None
    pin_device(choice)
    if choice.visible and choice.kind != "launcher":
        say(emit, choice.describe())
    return choice


def estimate_lines(config: RunConfig, gpu_gb: float | None) -> tuple[float | None, float | None]:
    """(total GB incl. the CUDA context, torch-allocator GB without it): the memory plot's estimate lines."""
    try:
        from ftui.train.preflight.estimate import estimate_figures

        return estimate_figures(config, gpu_gb)
    except Exception:  # noqa: BLE001 - an estimate is decoration, never a failure
        return None, None


def run_gpu_gb() -> float | None:
    """The training GPU's memory in GB as the preflight sees it (FTUI_GPU_GB, NVML), or None on a CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    from ftui.train.preflight.estimate import detected_gpu_gb

    gpu_gb = detected_gpu_gb()[1]
    if gpu_gb is None:
        gpu_gb = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory / 1e9
    return gpu_gb


def resolve_checkpointing(config: RunConfig, emit: Emit) -> tuple[RunConfig, float | None]:
    """The config with ``gradient_checkpointing`` a bool (``auto`` decided by the estimate), and the GPU size.

    The same rule as the preflight and ``ftui train --check`` (``estimate.checkpointing_choice``);
    the choice and its reason go to the run log.
    """
    import dataclasses

    from ftui.train.preflight.estimate import checkpointing_choice, resolve_arch

    gpu_gb = run_gpu_gb()
    try:
        arch = resolve_arch(config)
    except Exception:  # noqa: BLE001 - unknown shape: checkpointing_choice keeps the safe choice
        arch = None
    on, why = checkpointing_choice(config, arch, gpu_gb)
    say(emit, f"gradient checkpointing: {'on' if on else 'off'} ({why})")
    return dataclasses.replace(config, gradient_checkpointing=on), gpu_gb
