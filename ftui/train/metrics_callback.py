"""The TrainerCallback that turns trainer state into events and applies stop requests.

It does no I/O: each hook builds a small dict and hands it to ``emit`` (a queue put).
Values come from the trainer's ``logs``/``metrics`` dicts, which already hold Python
floats, so nothing here calls ``.item()`` on a live tensor or syncs the device. Only the
world-process-zero rank emits; every rank honours a stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

from ftui.train.control import RunControl
from ftui.train.gpu import MemorySampler

# the preference trainers' log keys (DPO, ORPO, KTO) -> ``log`` event fields
REWARD_KEYS = {
    "rewards_chosen": "rewards/chosen",
    "rewards_rejected": "rewards/rejected",
    "rewards_margin": "rewards/margins",
    "rewards_accuracy": "rewards/accuracies",
    "kl": "kl",  # KTO's KL estimate between the policy and the reference (the baseline of its loss)
}
_SKIP_EVAL_KEYS = {"eval_loss", "epoch", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class MetricsCallback(TrainerCallback):
    def __init__(
        self,
        emit: Callable[[dict], None],
        run_control: RunControl,
        sampler: MemorySampler | None = None,
        distributed_stop: bool = False,
    ) -> None:
        self.emit = emit
        self.run_control = run_control
        self.sampler = sampler
        self.distributed_stop = distributed_stop
        self._last_tokens: float | None = None
        self._last_time: float | None = None
        self.current_step = 0  # the optimizer step in progress, for "failed at step k"
        # (stop, save) as every rank saw them at the last step end (rank 0's flags, broadcast under a launcher)
        self.agreed_stop: tuple[bool, bool] = (False, False)

    # -- stop requests --------------------------------------------------------------------

    def _stop_flags(self) -> tuple[bool, bool]:
        stop, save = self.run_control.stop_requested, self.run_control.save_requested
        if self.distributed_stop:
            stop, save = _broadcast_flags(stop, save)
        return stop, save

    def on_step_begin(self, args, state, control, **kwargs):
        self.current_step = state.global_step + 1
        return control

    def on_step_end(self, args, state, control, **kwargs):  # noqa: D401 - HF hook
        stop, save = self._stop_flags()
        self.agreed_stop = (stop, save)
        if stop:
            control.should_training_stop = True
            if save:
                control.should_save = True
        if self.sampler is not None and state.is_world_process_zero:
            sample = self.sampler.maybe_sample(state.global_step)
            if sample is not None:
                self.emit(sample)
        return control

    # -- metrics --------------------------------------------------------------------------

    def on_train_begin(self, args, state, control, **kwargs):
        self._last_time = time.monotonic()
        self._last_tokens = None
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return control
        now = time.monotonic()
        tokens = _num(logs.get("num_tokens"))
        tokens_per_s = None
        if tokens is not None:
            if self._last_tokens is not None and self._last_time is not None and now > self._last_time:
                tokens_per_s = (tokens - self._last_tokens) / (now - self._last_time)
            self._last_tokens = tokens
        self._last_time = now
        loss = _num(logs.get("loss"))
        self.emit(
            {
                "type": "log",
                "t": time.time(),
                "step": int(state.global_step),
                "epoch": _num(state.epoch),
                "loss": loss,
                "lr": _num(logs.get("learning_rate")),
                "grad_norm": _num(logs.get("grad_norm")),
                "tokens": int(tokens) if tokens is not None else None,
                "tokens_per_s": tokens_per_s,
                "mean_token_accuracy": _num(logs.get("mean_token_accuracy")),
                **{name: _num(logs.get(key)) for name, key in REWARD_KEYS.items() if key in logs},
            }
        )
        return control

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics:
            return control
        extra = {k: float(v) for k, v in metrics.items() if k not in _SKIP_EVAL_KEYS and _num(v) is not None}
        self.emit(
            {
                "type": "eval",
                "t": time.time(),
                "step": int(state.global_step),
                "epoch": _num(state.epoch),
                "eval_loss": _num(metrics.get("eval_loss")),
                "metrics": extra or None,
                "runtime_s": _num(metrics.get("eval_runtime")),
            }
        )
        return control

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from pathlib import Path

            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self.emit({"type": "checkpoint", "t": time.time(), "step": int(state.global_step), "path": str(path)})
        return control


def _broadcast_flags(stop: bool, save: bool) -> tuple[bool, bool]:
    """Rank 0's stop flags on every rank, so all ranks leave the loop at the same step."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return stop, save
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    flags = torch.tensor([int(stop), int(save)], device=device)
    dist.broadcast(flags, src=0)
    values = flags.tolist()
    return bool(values[0]), bool(values[1])
