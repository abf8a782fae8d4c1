"""Memory sampling: rate limit, CPU RSS labelling, and the CUDA path's fields (with a stand-in torch.cuda)."""

from __future__ import annotations

import types

import pytest

from ftui.train.gpu import MemorySampler, describe_device


def test_cpu_sampler_reports_rss_and_says_so():
    sampler = MemorySampler(min_interval_s=60)
    first = sampler.maybe_sample(step=1)
    assert first["type"] == "memory" and first["source"] == "cpu-rss" and first["rss"] > 10_000_000
    assert sampler.maybe_sample(step=2) is None  # rate-limited


class FakeCuda:
    """The allocator counters of torch.cuda: current values and peaks since the last reset."""

    def __init__(self) -> None:
        self.allocated = self.reserved = 0
        self.peak_allocated = self.peak_reserved = 0
        self.calls: list[tuple] = []

    def run(self, allocated: int, reserved: int) -> None:
        """Memory in use during a step: the peaks follow it, the current values too."""
        self.allocated, self.reserved = allocated, reserved
        self.peak_allocated = max(self.peak_allocated, allocated)
        self.peak_reserved = max(self.peak_reserved, reserved)

    def memory_stats(self, device):
        self.calls.append(("stats", device))
        return {"allocated_bytes.all.current": self.allocated, "reserved_bytes.all.current": self.reserved,
                "allocated_bytes.all.peak": self.peak_allocated, "reserved_bytes.all.peak": self.peak_reserved}

    def reset_peak_memory_stats(self, device):
        self.calls.append(("reset", device))
        self.peak_allocated, self.peak_reserved = self.allocated, self.reserved

    def synchronize(self):
        self.calls.append(("sync",))


def cuda_sampler(fake: FakeCuda, **kwargs) -> MemorySampler:
    sampler = MemorySampler(min_interval_s=0, **kwargs)
    sampler._cuda, sampler._device, sampler._nvml_handle = True, 1, None
    sampler._torch = types.SimpleNamespace(cuda=fake)
    return sampler


def test_cuda_sampler_reports_the_peak_of_each_interval_then_resets_it():
    fake = FakeCuda()
    sampler = cuda_sampler(fake)
    fake.run(allocated=9, reserved=12)  # a step's activations...
    fake.run(allocated=3, reserved=10)  # ...freed by the step end
    first = sampler.maybe_sample(step=1)
    assert (first["allocated"], first["reserved"]) == (3, 10)  # what a step-end sample used to show
    assert (first["peak_allocated"], first["peak_reserved"]) == (9, 12)  # what the step needed
    fake.run(allocated=6, reserved=11)
    fake.run(allocated=4, reserved=11)
    second = sampler.maybe_sample(step=2)
    assert (second["peak_allocated"], second["peak_reserved"]) == (6, 11)  # this interval only: the reset worked
    assert (second["peak"], second["run_peak_reserved"]) == (9, 12)  # the run's peaks are kept here
    assert (sampler.run_peak_allocated, sampler.run_peak_reserved) == (9, 12)
    assert fake.calls == [("stats", 1), ("reset", 1), ("stats", 1), ("reset", 1)]  # host counters, never a sync


def test_cuda_sampler_without_reset_leaves_the_peak_counters_alone():
    fake = FakeCuda()
    sampler = cuda_sampler(fake, reset_peaks=False)
    fake.run(allocated=9, reserved=12)
    sample = sampler.sample(step=1)
    assert "peak_reserved" not in sample and sample["peak"] == 9 and ("reset", 1) not in fake.calls


def test_cpu_sampler_reports_the_interval_peak_rss(tmp_path):
    sampler = MemorySampler(min_interval_s=0, cuda=False)
    first = sampler.sample(step=1)
    if "rss_peak" not in first:
        pytest.skip("no resettable VmHWM here (not Linux, or /proc/self/clear_refs not writable)")
    block = bytearray(64 * 2**20)  # 64 MiB touched, then freed before the sample
    block[:: 4096] = b"x" * len(block[:: 4096])
    del block
    second = sampler.sample(step=2)
    assert second["rss_peak"] >= second["rss"] + 48 * 2**20  # the freed block shows in the peak, not in RSS
    third = sampler.sample(step=3)
    assert third["rss_peak"] < second["rss_peak"] - 48 * 2**20  # reset after each sample


def test_device_description_on_cpu():
    assert describe_device().startswith("cpu (")
