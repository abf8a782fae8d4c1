"""Memory sampling for the live memory plot, cheap enough to call every step.

Sampled at step end, the allocator's *current* counters miss the step's real peak: the
activations are already freed. So each sample carries the peak *since the previous
sample* (``peak_allocated`` / ``peak_reserved``: the allocator's peak counters, read and
then reset with ``torch.cuda.reset_peak_memory_stats``), the run-wide peaks kept here
(``peak``, ``run_peak_reserved``; the reset makes ``torch.cuda.max_memory_reserved()``
an interval figure, so read the run's peak from the events or ``run_peak_reserved``), and
NVML's device-used/total, because the allocator does not see the CUDA context, other
processes or paged optimizer memory. All host-side reads: no device sync.

Without a GPU: the process RSS now and its peak since the previous sample (``rss_peak``:
Linux's VmHWM, reset by writing 5 to /proc/self/clear_refs, which also resets the
process's ``ru_maxrss``), labelled ``source="cpu-rss"`` so the plot says what it shows.
Rate-limited (default twice a second) so a fast step loop pays one clock read per step.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

_HWM = re.compile(rb"VmHWM:\s+(\d+)\s+kB")


class MemorySampler:
    def __init__(self, min_interval_s: float = 0.5, cuda: bool | None = None, reset_peaks: bool = True) -> None:
        """``cuda=False`` samples the process RSS even where a GPU exists (a run with ``device: cpu``)."""
        self.min_interval_s = min_interval_s
        self.reset_peaks = reset_peaks
        self._next = 0.0
        self._cuda = False
        self._device = 0
        self._nvml_handle: Any = None
        self._process: Any = None
        self._torch: Any = None
        self._rss_peak_resettable = False
        self.run_peak_allocated = 0  # bytes, the largest interval peak seen (CUDA)
        self.run_peak_reserved = 0
        try:
            import torch

            self._torch = torch
            self._cuda = torch.cuda.is_available() and cuda is not False
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
            self._rss_peak_resettable = reset_peaks and _reset_rss_peak()

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
            return self._sample_cuda(data)
        if self._process is None:
            return None
        try:
            data["rss"] = int(self._process.memory_info().rss)
        except Exception:  # noqa: BLE001
            return None
        if self._rss_peak_resettable:
            peak = _rss_peak()
            if peak is not None:
                data["rss_peak"] = max(peak, data["rss"])
                _reset_rss_peak()
        return data

    def _sample_cuda(self, data: dict[str, Any]) -> dict[str, Any]:
        cuda = self._torch.cuda
        stats = cuda.memory_stats(self._device)
        data["allocated"] = int(stats.get("allocated_bytes.all.current", 0))
        data["reserved"] = int(stats.get("reserved_bytes.all.current", 0))
        interval_allocated = int(stats.get("allocated_bytes.all.peak", 0))
        interval_reserved = int(stats.get("reserved_bytes.all.peak", 0))
        if self.reset_peaks:
            cuda.reset_peak_memory_stats(self._device)
            data["peak_allocated"] = interval_allocated
            data["peak_reserved"] = interval_reserved
        self.run_peak_allocated = max(self.run_peak_allocated, interval_allocated)
        self.run_peak_reserved = max(self.run_peak_reserved, interval_reserved)
        data["peak"] = self.run_peak_allocated  # since the run began, as before the per-interval peaks
        data["run_peak_reserved"] = self.run_peak_reserved
        if self._nvml_handle is not None:
            try:
                import pynvml

                info = pynvml.nvmlDeviceGetMemoryInfo(self._nvml_handle)
                data["device_used"] = int(info.used)
                data["device_total"] = int(info.total)
            except Exception:  # noqa: BLE001 - NVML hiccups must not cost a training step
                pass
        return data


def _rss_peak(path: str = "/proc/self/status") -> int | None:
    """The process's peak RSS in bytes since the last reset (Linux VmHWM), or None where unreadable."""
    try:
        with open(path, "rb") as fh:
            found = _HWM.search(fh.read())
    except OSError:
        return None
    return int(found.group(1)) * 1024 if found else None


def _reset_rss_peak() -> bool:
    """Reset VmHWM to the current RSS (a cheap kernel call; no page walk). False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _rss_peak() is not None


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
