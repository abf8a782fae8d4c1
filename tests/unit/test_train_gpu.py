"""Memory sampling: rate limit, CPU RSS labelling, and the CUDA path's fields (with a stand-in torch.cuda)."""

from __future__ import annotations

import types

from ftui.train.gpu import MemorySampler, describe_device


def test_cpu_sampler_reports_rss_and_says_so():
    sampler = MemorySampler(min_interval_s=60)
    first = sampler.maybe_sample(step=1)
    assert first["type"] == "memory" and first["source"] == "cpu-rss" and first["rss"] > 10_000_000
    assert sampler.maybe_sample(step=2) is None  # rate-limited


def test_cuda_sampler_reads_allocator_counters_without_resetting_them():
    calls = []

    def memory_stats(device):
        calls.append(("stats", device))
        return {"allocated_bytes.all.current": 5, "reserved_bytes.all.current": 8, "allocated_bytes.all.peak": 7}

    fake_cuda = types.SimpleNamespace(memory_stats=memory_stats,
                                      reset_peak_memory_stats=lambda d: calls.append(("reset", d)),
                                      synchronize=lambda: calls.append(("sync",)))
    sampler = MemorySampler(min_interval_s=0)
    sampler._cuda, sampler._device, sampler._nvml_handle = True, 0, None
    sampler._torch = types.SimpleNamespace(cuda=fake_cuda)
    sample = sampler.maybe_sample(step=3)
    assert sample["source"] == "cuda" and (sample["allocated"], sample["reserved"], sample["peak"]) == (5, 8, 7)
    assert calls == [("stats", 0)]  # no sync, no reset


def test_device_description_on_cpu():
    assert describe_device().startswith("cpu (")
