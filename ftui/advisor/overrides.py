""""Use this plan": the outcome and the estimator settings as RunConfig field overrides.

The Plan screen stores the result in ``workspace.plan_overrides``; the Train form
reads it. Keys are ``ftui.config.RunConfig`` field names, values are plain Python.
"""

from __future__ import annotations

from typing import Any

from ftui.advisor.tree import Outcome
from ftui.advisor.vram import TrainSetup

# The estimator's "adamw_torch" is 32-bit AdamW; the run's "auto" is that too (fused on CUDA, same memory).
OPTIMIZER_TO_RUNCONFIG = {"adamw_torch": "auto", "adamw_8bit": "adamw_8bit", "paged_adamw_8bit": "paged_adamw_8bit"}


def config_precision(method: str, precision: str) -> str:
    """The RunConfig precision that trains what the estimator calls ``precision`` (the inverse of ``ftui.train.preflight.estimate.estimator_precision``)."""
    if precision == "fp32":
        return "fp32"
    if method == "full":
        return "bf16" if precision == "bf16" else "auto"
    if method == "lora" and precision == "amp":
        return "fp16"
    return "auto"


def plan_overrides(outcome: Outcome | None, setup: TrainSetup | None = None, model: str | None = None) -> dict[str, Any]:
    """RunConfig overrides: the outcome's starting hyperparameters, then the estimator's settings.

    The estimator's method and rank win over the outcome's because the user may have
    changed them to make the run fit; a no-training outcome contributes its "when you
    do train" hyperparameters.
    """
    out: dict[str, Any] = {}
    if outcome is not None:
        out.update(outcome.hyperparameters)
        if outcome.trains:
            out["method"] = outcome.method
    if setup is not None:
        out["method"] = setup.method
        out["max_seq_len"] = setup.seq_len
        out["micro_batch_size"] = setup.micro_batch
        out["gradient_checkpointing"] = setup.grad_checkpointing
        out["optimizer"] = OPTIMIZER_TO_RUNCONFIG[setup.optimizer]
        out["precision"] = config_precision(setup.method, setup.precision)  # the run the estimate priced
        if setup.method != "full":
            out["lora_r"] = setup.lora_r
            if isinstance(setup.lora_targets, str):
                out["target_modules"] = setup.lora_targets
            else:
                out["target_modules"] = list(setup.lora_targets)
        if setup.method == "full":
            for key in ("lora_r", "lora_alpha", "lora_dropout", "target_modules"):
                out.pop(key, None)
            if outcome is not None and outcome.method in ("lora", "qlora") and "learning_rate" in out:
                out["learning_rate"] = 2e-5  # adapter learning rates are ~10x too high for all weights
    if model:
        out["model"] = model
    if "num_epochs" in out:
        out["max_steps"] = -1  # a step limit (the demo presets set one) would override the planned epochs
    return out
