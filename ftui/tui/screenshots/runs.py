"""Synthetic run event logs for screenshots and tests: each shows one thing the diagnostics must find.

Deterministic (fixed clock, fixed pseudo-noise), so screenshots and snapshots built from them
never change. ``write_fixture_run`` installs one as a run directory; the test suite keeps
the same logs as files (its ``make_fixtures.py`` writes them from here).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

T0 = 1_700_000_000.0
GB = 1_000_000_000


def _noise(i: int) -> float:
    """Deterministic small wobble in [-1, 1]."""
    return math.sin(i * 12.9898) * 0.5 + math.sin(i * 4.1414) * 0.5


def _started(run_id: str, total: int, method: str = "lora", **extra) -> dict:
    return {"type": "started", "t": T0, "run_id": run_id, "method": method, "model": "demo",
            "total_steps": total, "num_epochs": 3.0, "device": "cpu", "estimate_gb": extra.pop("estimate_gb", 0.4),
            **extra}


def build(run_id: str, total: int = 120, *, loss_fn=None, eval_fn=None, grad_fn=None, tps_fn=None,
          mem_fn=None, eval_every: int = 20, save_every: int = 40, end: dict | None = None,
          stop_at: int | None = None, mem_source: str = "cuda", method: str = "lora", log_extra=None) -> list[dict]:
    loss_fn = loss_fn or (lambda i: 2.2 * math.exp(-i / 40) + 0.35 + 0.04 * _noise(i))
    grad_fn = grad_fn or (lambda i: 1.2 * math.exp(-i / 60) + 0.3 + 0.05 * _noise(i + 7))
    tps_fn = tps_fn or (lambda i: 5200 + 150 * _noise(i + 3))
    eval_fn = eval_fn or (lambda i: 2.0 * math.exp(-i / 45) + 0.5 + 0.01 * _noise(i + 11))
    mem_fn = mem_fn or (lambda i: 6.1 * GB + 0.05 * GB * _noise(i + 5))
    steps_per_epoch = total / 3
    events = [_started(run_id, total, method=method),
              {"type": "message", "t": T0 + 0.5, "text": "loading model demo", "level": "info"},
              {"type": "message", "t": T0 + 1.0, "text": "tokenized 400 rows (0 dropped)", "level": "info"}]
    last = stop_at or total
    for i in range(1, last + 1):
        t = T0 + 2 + i * 0.5
        epoch = round(i / steps_per_epoch, 4)
        lr = 2e-4 * (i / 5 if i < 5 else 0.5 * (1 + math.cos(math.pi * (i - 5) / (total - 5))))
        events.append({"type": "log", "t": t, "step": i, "epoch": epoch, "loss": round(loss_fn(i), 5),
                       "lr": lr, "grad_norm": round(grad_fn(i), 5), "tokens": i * 2048,
                       "tokens_per_s": round(tps_fn(i), 1), **(log_extra(i) if log_extra else {})})
        if mem_source == "cuda":
            used = mem_fn(i)
            events.append({"type": "memory", "t": t, "step": i, "source": "cuda", "allocated": int(used * 0.8),
                           "reserved": int(used * 0.9), "peak": int(used * 0.85), "device_used": int(used),
                           "device_total": 24 * GB})
        else:
            events.append({"type": "memory", "t": t, "step": i, "source": "cpu-rss", "rss": int(mem_fn(i))})
        if i % eval_every == 0:
            events.append({"type": "eval", "t": t + 0.1, "step": i, "epoch": epoch, "eval_loss": round(eval_fn(i), 5)})
        if i % save_every == 0:
            events.append({"type": "checkpoint", "t": t + 0.2, "step": i, "path": f"checkpoints/checkpoint-{i}"})
    t_end = T0 + 3 + last * 0.5
    if end is not None:
        events.append({"t": t_end, "step": last, **end})
    return events


def _dpo_margin(i: int) -> float:
    return _dpo_chosen(i) - _dpo_rejected(i)


def _dpo_chosen(i: int) -> float:
    return 0.3 * (1 - math.exp(-i / 30)) + 0.04 * _noise(i + 13)


def _dpo_rejected(i: int) -> float:
    return -1.8 * (1 - math.exp(-i / 28)) + 0.08 * _noise(i + 17)


def _dpo_rewards(i: int) -> dict:
    """TRL's rewards/* of a healthy DPO run: rejected falls, chosen holds, accuracy climbs towards 1."""
    accuracy = 0.5 + 0.45 * (1 - math.exp(-i / 15)) + 0.03 * _noise(i + 19)
    return {"rewards_chosen": round(_dpo_chosen(i), 4), "rewards_rejected": round(_dpo_rejected(i), 4),
            "rewards_margin": round(_dpo_margin(i), 4), "rewards_accuracy": round(min(1.0, accuracy), 4)}


def _finished(best: float | None = None) -> dict:
    return {"type": "finished", "adapter_path": "adapter", "best_eval_loss": best}


FIXTURES = {
    "healthy": lambda: build("20260101-090000-healthy", end=_finished(0.62)),
    "live": lambda: build("20260101-100000-live", stop_at=70),
    "cpu": lambda: build("20260101-110000-cpu", mem_source="cpu-rss",
                         mem_fn=lambda i: 1.4 * GB + 0.01 * GB * _noise(i), end=_finished(0.63)),
    "nan": lambda: build("20260102-090000-nan", loss_fn=lambda i: (2.2 * math.exp(-i / 40) + 0.4) if i < 50 else math.nan,
                         stop_at=60),
    "spikes": lambda: build("20260102-100000-spikes",
                            loss_fn=lambda i: (2.2 * math.exp(-i / 40) + 0.35 + 0.03 * _noise(i)) * (4.0 if i in (45, 80) else 1),
                            end=_finished(0.7)),
    "grad_explosion": lambda: build("20260102-110000-grad", grad_fn=lambda i: 0.8 + 0.05 * _noise(i) + (40.0 if i == 66 else 0),
                                    end=_finished(0.7)),
    "flat": lambda: build("20260102-120000-flat", loss_fn=lambda i: 2.31 + 0.02 * _noise(i),
                          eval_fn=lambda i: 2.33, end=_finished(2.33)),
    "overfit": lambda: build("20260102-130000-overfit", loss_fn=lambda i: 2.0 * math.exp(-i / 30) + 0.05 + 0.02 * _noise(i),
                             eval_fn=lambda i: 0.9 + 0.00012 * (i - 40) ** 2, end=_finished(0.9)),
    "throughput": lambda: build("20260102-140000-tput", tps_fn=lambda i: (5200 if i < 80 else 1400) + 100 * _noise(i),
                                end=_finished(0.62)),
    "memory_limit": lambda: build("20260102-150000-memlimit", mem_fn=lambda i: 23.4 * GB, end=_finished(0.62)),
    # every label masked from step 30 on (e.g. a chat template without generation markers on new rows)
    "zero_loss": lambda: build("20260102-170000-zero", stop_at=60,
                               loss_fn=lambda i: (2.2 * math.exp(-i / 40) + 0.35 + 0.04 * _noise(i)) if i < 30 else 0.0),
    "memory_creep": lambda: build("20260102-160000-memcreep", stop_at=70, mem_fn=lambda i: 6 * GB + i * 0.22 * GB),
    "failed": lambda: build("20260103-090000-failed", stop_at=12,
                            end={"type": "failed", "message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                                 "hint": "Lower micro_batch_size to 2 and raise grad_accum to 2, or turn on gradient checkpointing."}),
    "stopped": lambda: build("20260103-100000-stopped", stop_at=55,
                             end={"type": "stopped", "saved": True, "checkpoint": "checkpoints/checkpoint-55"}),
    "compare_a": lambda: build("20260104-090000-lr2e-4", end=_finished(0.62)),
    # a finished DPO run: the loss leaves ln 2 as the margin opens (the preference plots)
    "dpo": lambda: build("20260105-090000-dpo-demo", total=90, method="dpo", log_extra=_dpo_rewards, eval_every=15,
                         save_every=45, loss_fn=lambda i: math.log1p(math.exp(-_dpo_margin(i))) + 0.03 * _noise(i),
                         eval_fn=lambda i: math.log1p(math.exp(-0.8 * _dpo_margin(i))) + 0.05, tps_fn=lambda i: 3100 + 90 * _noise(i),
                         end=_finished(0.31)),
    "compare_b": lambda: build("20260104-100000-lr5e-5", loss_fn=lambda i: 2.2 * math.exp(-i / 90) + 0.5 + 0.04 * _noise(i),
                               eval_fn=lambda i: 2.0 * math.exp(-i / 100) + 0.75, end=_finished(1.05)),
}


def fixture_lines(name: str) -> list[str]:
    """The event log ``name`` (a key of ``FIXTURES``) as JSONL lines, exactly as the fixture files hold it."""
    return [json.dumps(event, allow_nan=True) for event in FIXTURES[name]()]


def write_fixture_run(runs_dir: Path, fixture: str, **config_overrides: Any) -> Path:
    """Install the synthetic log ``fixture`` as a run directory under ``runs_dir`` and return it."""
    from ftui.config import RunConfig, dump_config

    lines = fixture_lines(fixture)
    run_dir = Path(runs_dir) / json.loads(lines[0])["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "events.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    config = RunConfig(**{"train_path": "sample_data/support_tickets_train.jsonl", "output_dir": None, **config_overrides})
    (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    return run_dir
