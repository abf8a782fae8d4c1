"""Will the run's files fit on the disk of its run directory? Checked before a run starts.

A full fine-tune writes far more than its model: each Trainer checkpoint holds the weights and the
optimizer states (AdamW: two per weight), 6 bytes per parameter in pure bf16 and 12 with fp32 master
weights, so an 8B full fine-tune writes ~48 GB per checkpoint and 16 GB for the model at the end. A
disk that cannot hold them fails the run at its first save, after the training time is spent (an 8B run
on a 64 GB GPU box did, at step 20 of 20).

``disk_need`` is a lower bound, so a refusal is never wrong: the final model (or adapter), the merged
model when ``merge_at_end`` is on, and the checkpoints the run certainly writes and keeps at once. Those
are counted only when ``max_steps`` fixes the step count (an epoch-based run's count depends on the
data): ``max_steps // save_steps`` saves (early stopping: every eval, and perhaps only patience + 1), of which ``save_total_limit`` stay (0 keeps all); the one being
written makes one more until the oldest is rotated out. The best checkpoint, kept besides them when it is
older (issue 13), is not counted: it may be one of them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ftui.config import ConfigProblem, RunConfig, weights_method
from ftui.models.hub import format_bytes

_EIGHT_BIT = ("adamw_8bit", "adamw_bnb_8bit", "paged_adamw_8bit", "lion_8bit", "paged_lion_8bit")


@dataclass(frozen=True)
class DiskNeed:
    """Bytes the run writes at least, and what they are, in words."""

    total: float
    final: float  # the model or adapter at the end (and the merged model)
    checkpoint: float  # one checkpoint: weights + optimizer states
    checkpoints: int  # how many exist at once, at least

    def describe(self) -> str:
        parts = [f"{format_bytes(self.final)} of final weights"]
        if self.checkpoints:
            parts.append(f"{self.checkpoints} checkpoint(s) of {format_bytes(self.checkpoint)} (weights + optimizer states)")
        return " and ".join(parts)


def disk_need(config: RunConfig, n_params: int, adapter_params: int) -> DiskNeed:
    """The least the run writes to its directory (see the module docstring)."""
    method = weights_method(config)
    fp32_weights = config.precision in ("auto", "fp16", "fp32") if method == "full" else method == "lora"
    weight_bytes = 4 if fp32_weights else 2  # full: fp32 master weights unless pure bf16; LoRA: fp32 adapters
    trained = n_params if method == "full" else adapter_params
    state_bytes = 2 if config.optimizer in _EIGHT_BIT else 2 * weight_bytes  # AdamW: two states per weight
    checkpoint = trained * (weight_bytes + state_bytes)
    final = trained * weight_bytes
    if method != "full" and config.merge_at_end:
        final += 2 * n_params  # the merged model, in the base's 16-bit dtype
    # early stopping saves at each eval instead (when there is eval data) and may end the run after patience + 1
    early = config.early_stopping_patience > 0
    interval = max(config.save_steps, config.eval_steps) if early else config.save_steps
    saves = config.max_steps // interval if config.max_steps > 0 and interval > 0 else 0
    if early:
        saves = min(saves, config.early_stopping_patience + 1)
    kept = saves if config.save_total_limit <= 0 else min(saves, config.save_total_limit)
    at_once = min(saves, kept + 1)  # a new one is written before the oldest goes
    total = max(at_once * checkpoint, kept * checkpoint + final)
    return DiskNeed(total, final, checkpoint, at_once)


def free_bytes(directory: Path) -> float | None:
    """Free bytes on the filesystem that will hold ``directory`` (its nearest existing parent); None if unknown."""
    path = directory.expanduser().resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return float(shutil.disk_usage(path).free)
    except OSError:
        return None


def disk_problem(config: RunConfig, run_root: Path, n_params: int, adapter_params: int) -> ConfigProblem | None:
    """A problem when the run's least output is more than the free space where it will be written."""
    need = disk_need(config, n_params, adapter_params)
    free = free_bytes(run_root)
    if free is None or need.total <= free:
        return None
    where = config.output_dir or str(run_root)
    fix = "Free disk space there, or set output_dir to a bigger disk"
    if need.checkpoints:
        fix += ", or keep fewer checkpoints (save_total_limit) or save less often (save_steps)"
    return ConfigProblem(
        "output_dir",
        f"this run writes at least {format_bytes(need.total)} ({need.describe()}), and the disk of {where} has "
        f"{format_bytes(free)} free",
        fix + ".",
    )
