"""Which GPU is here and how much memory it has — without initialising CUDA.

Order: ``FTUI_GPU_GB`` (an explicit size, for boxes without NVML and for
reproducible screenshots), then NVML through ``pynvml`` (nvidia-ml-py: reads the
driver, creates no CUDA context), then ``torch.cuda`` but only when torch is already
imported by someone else (importing torch just to ask costs seconds). Nothing here
runs at import time.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuInfo:
    name: str
    total_gb: float  # decimal GB, like the estimator
    count: int = 1
    source: str = "nvml"


def _from_env() -> GpuInfo | None:
    value = os.environ.get("FTUI_GPU_GB", "").strip()
    if not value:
        return None
    try:
        size = float(value)
    except ValueError:
        return None
    return GpuInfo("FTUI_GPU_GB", size, 1, "env") if size > 0 else None


def _from_nvml() -> GpuInfo | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver / no GPU: just "not detected"
        return None
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count < 1:
            return None
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(handle)
        if isinstance(name, bytes):
            name = name.decode(errors="replace")
        total = pynvml.nvmlDeviceGetMemoryInfo(handle).total
        return GpuInfo(str(name), total / 1e9, count, "nvml")
    except Exception:  # noqa: BLE001
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass


def _from_torch() -> GpuInfo | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        props = torch.cuda.get_device_properties(0)
        return GpuInfo(props.name, props.total_memory / 1e9, torch.cuda.device_count(), "torch")
    except Exception:  # noqa: BLE001
        return None


def detect_gpu() -> GpuInfo | None:
    """The first GPU's name and memory, or None when none can be found."""
    return _from_env() or _from_nvml() or _from_torch()
