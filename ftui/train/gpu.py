"""Memory sampling for the live memory plot, cheap enough to call every step.

On CUDA: the caching allocator's host-side counters (``torch.cuda.memory_stats``: no
device sync) plus NVML's device used/total, because the allocator does not see the CUDA
context, other processes or paged optimizer memory. Without a GPU: the process RSS,
labelled ``source="cpu-rss"`` so the plot says what it shows. Rate-limited (default twice
a second) so a fast step loop pays one clock read per step.
"""

from __future__ import annotations

import os
import time
from typing import Any


class MemorySampler:
    def __init__(self, min_interval_s: float = 0.5) -> None:
        self.min_interval_s = min_interval_s
        self._next = 0.0
        self._cuda = False
        self._device = 0
        self._nvml_handle: Any = None
        self._process: Any = None
        self._torch: Any = None
        try:
            import torch

            self._torch = torch
            self._cuda = torch.cuda.is_available()
            if self._cuda:
                self._device = torch.cuda.current_device()
        except Exception:  # noqa: BLE001 - no torch or a broken CUDA: fall back to RSS
            self._cuda = False
        if self._cuda:
            self._nvml_handle = _nvml_handle(self._device)
        else:
            try:
                import psutil

                self._process = psutil.Process()
            except Exception:  # noqa: BLE001
                self._process = None

    @property
    def source(self) -> str:
        return "cuda" if self._cuda else "cpu-rss"

    def maybe_sample(self, step: int | None) -> dict | None:
        """A memory event dict, or None when the last sample is younger than the interval."""
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + self.min_interval_s
        return self.sample(step)

    def sample(self, step: int | None) -> dict | None:
        data: dict[str, Any] = {"type": "memory", "t": time.time(), "step": step, "source": self.source}
        if self._cuda:
            stats = self._torch.cuda.memory_stats(self._device)
            data["allocated"] = int(stats.get("allocated_bytes.all.current", 0))
            data["reserved"] = int(stats.get("reserved_bytes.all.current", 0))
            # the peak since the run began; not reset per sample, so max_memory_reserved() stays true for others
            data["peak"] = int(stats.get("allocated_bytes.all.peak", 0))
            if self._nvml_handle is not None:
                try:
                    import pynvml

                    info = pynvml.nvmlDeviceGetMemoryInfo(self._nvml_handle)
                    data["device_used"] = int(info.used)
                    data["device_total"] = int(info.total)
                except Exception:  # noqa: BLE001 - NVML hiccups must not cost a training step
                    pass
            return data
        if self._process is None:
            return None
        try:
            data["rss"] = int(self._process.memory_info().rss)
        except Exception:  # noqa: BLE001
            return None
        return data


def _nvml_handle(torch_index: int) -> Any:
    """NVML handle of the device torch calls ``torch_index`` (respecting CUDA_VISIBLE_DEVICES)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        if ids and torch_index < len(ids):
            ident = ids[torch_index]
            if ident.isdigit():
                return pynvml.nvmlDeviceGetHandleByIndex(int(ident))
            return pynvml.nvmlDeviceGetHandleByUUID(ident)
        return pynvml.nvmlDeviceGetHandleByIndex(torch_index)
    except Exception:  # noqa: BLE001 - no NVML (driver-less container): allocator counters only
        return None


def describe_device() -> str:
    """A short device description for run.json and the started event."""
    try:
        import torch

        if torch.cuda.is_available():
            index = torch.cuda.current_device()
            props = torch.cuda.get_device_properties(index)
            count = torch.cuda.device_count()
            gib = props.total_memory / 2**30
            more = f" (x{count})" if count > 1 else ""
            return f"cuda:{index} {props.name} {gib:.0f} GiB{more}"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
    except Exception:  # noqa: BLE001
        pass
    return f"cpu ({os.cpu_count()} cores)"
