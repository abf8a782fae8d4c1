"""How each ``RunConfig`` field is edited as text: its kind, choices, help, section; presets.

The launcher form (TUI) is generated from this table, so every field of the run
config is editable and a new field shows up with a sensible default widget. Parsing
turns what was typed into the typed value, or a one-line reason it is not valid;
cross-field rules live in ``ftui.config.check_fields`` (the engine's). No Textual here.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import MISSING, dataclass, fields
from typing import Any

from ftui.config import (
    ADAPTERS,
    ATTN_IMPLEMENTATIONS,
    BAD_ROW_POLICIES,
    COMPUTE_DTYPES,
    DATA_FORMATS,
    METHODS,
    OPTIMIZERS,
    PRECISIONS,
    QUANT_TYPES,
    REASONING_POLICIES,
    SCHEDULERS,
    ConfigError,
    RunConfig,
    coerce_value,
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # "str" | "opt_str" | "int" | "float" | "bool" | "choice" | "list_or_str" | "int_or_auto" | "float_or_auto" | "json"
    section: str  # "basic" | "advanced" | "qlora" | "openai"
    help: str = ""
    choices: tuple[str, ...] = ()


CHOICES: dict[str, tuple[str, ...]] = {
    "method": tuple(sorted(METHODS, key=("lora", "qlora", "full", "dpo", "orpo", "kto", "openai").index)),
    "adapter": ADAPTERS,
    "data_format": DATA_FORMATS,
    "on_bad_rows": BAD_ROW_POLICIES,
    "reasoning": REASONING_POLICIES,
    "lr_scheduler": SCHEDULERS,
    "optimizer": OPTIMIZERS,
    "precision": PRECISIONS,
    "attn_implementation": ATTN_IMPLEMENTATIONS,
    "load_in_4bit_quant_type": QUANT_TYPES,
    "compute_dtype": COMPUTE_DTYPES,
    "gradient_checkpointing": ("auto", "on", "off"),
}

KIND_OVERRIDES = {
    "eval_path": "opt_str",
    "init_adapter": "opt_str",
    "output_dir": "opt_str",
    "openai_suffix": "opt_str",
    "openai_base_url": "opt_str",
    "target_modules": "list_or_str",
    "openai_batch_size": "int_or_auto",
    "openai_lr_multiplier": "float_or_auto",
    "extra": "json",
}

HELP = {
    "model": "local path, Hub id, or demo",
    "train_path": "training JSONL",
    "eval_path": "held-out JSONL for eval loss (empty: none)",
    "on_bad_rows": "rows that cannot train: refuse the file, or skip them (listed in the run)",
    "reasoning": "assistant reasoning: keep it (the chat template renders it, e.g. Qwen3's <think>), or drop it",
    "method": "lora: adapters on a bf16 base · qlora: 4-bit base (GPU) · full: every weight · dpo/orpo/kto: preference pairs",
    "adapter": "dpo/orpo/kto: lora, or qlora (4-bit base, GPU)",
    "beta": "dpo/kto: distance from the reference (0.1) · orpo: odds-ratio weight",
    "init_adapter": "dpo/orpo/kto: a LoRA adapter to keep training (empty: a new one)",
    "num_epochs": "passes over the data",
    "max_steps": "> 0 overrides epochs",
    "learning_rate": "LoRA 1e-4–3e-4; full 1e-5–5e-5",
    "micro_batch_size": "rows per step per device",
    "grad_accum": "effective batch = micro batch × this",
    "max_seq_len": "longer rows are truncated",
    "lora_r": "adapter rank",
    "lora_alpha": "scale, usually 2 × r",
    "lora_dropout": "0–0.1",
    "target_modules": "all-linear, attention, or names (q_proj,v_proj)",
    "packing": "pack short rows into full sequences",
    "gradient_checkpointing": "less memory, ~30% slower; auto: off when it fits with 15% to spare",
    "optimizer": "auto = fused AdamW on CUDA; 8-bit variants save memory (GPU)",
    "precision": "auto = bf16 where supported (full: fp32 master weights, 16 B/param); full + bf16: 8 B/param",
    "attn_implementation": "auto = flash_attention_2 when installed (CUDA, bf16/fp16), else sdpa",
    "assistant_only_loss": "learn only the answers",
    "eval_steps": "evaluate every N steps",
    "eval_max_rows": "evaluate on a seeded sample of at most N rows (0: all)",
    "save_steps": "checkpoint every N steps",
    "save_total_limit": "keep the last N checkpoints (+ the best by eval loss)",
    "early_stopping_patience": "evals without improvement before stopping (0 off)",
    "logging_steps": "log every N steps",
    "merge_at_end": "also write a merged model",
    "seed": "seeds data order and init",
    "output_dir": "empty: a new run directory",
    "device": "auto (first GPU), cuda:1 or cpu; all GPUs: accelerate launch",
    "extra": "JSON object passed to SFTConfig",
    "openai_batch_size": "auto or a number",
    "openai_lr_multiplier": "auto or a number",
}

BASIC = (
    "model", "train_path", "eval_path", "method", "num_epochs", "max_steps", "learning_rate",
    "micro_batch_size", "grad_accum", "max_seq_len", "lora_r", "lora_alpha", "lora_dropout", "target_modules",
)
QLORA = ("load_in_4bit_quant_type", "double_quant", "compute_dtype")


def _label(name: str) -> str:
    return name.replace("_", " ")


def _kind(name: str, default: Any) -> str:
    if name in KIND_OVERRIDES:
        return KIND_OVERRIDES[name]
    if name in CHOICES:
        return "choice"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if default is None:
        return "opt_str"
    return "str"


def _section(name: str) -> str:
    if name in BASIC:
        return "basic"
    if name in QLORA:
        return "qlora"
    if name.startswith("openai_"):
        return "openai"
    return "advanced"


def _default(f) -> Any:  # noqa: ANN001 - dataclasses.Field
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def field_specs() -> list[FieldSpec]:
    """One spec per RunConfig field, basic ones in the order a practitioner fills them."""
    specs = []
    for f in fields(RunConfig):
        kind = _kind(f.name, _default(f))
        specs.append(FieldSpec(f.name, _label(f.name), kind, _section(f.name), HELP.get(f.name, ""), CHOICES.get(f.name, ())))
    order = {name: i for i, name in enumerate(BASIC)}
    return sorted(specs, key=lambda s: (order.get(s.name, len(order)),))


SPECS: dict[str, FieldSpec] = {s.name: s for s in field_specs()}


class FieldError(ValueError):
    """A value that cannot be parsed; the message says what is expected."""


def parse_value(spec: FieldSpec, text: str) -> Any:
    """The typed value for what was typed, or FieldError with the reason (the engine's coercion rules)."""
    ok, value = _parse_cached(spec, text.strip())
    if not ok:
        raise FieldError(value)
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


@functools.lru_cache(maxsize=4096)
def _parse_cached(spec: FieldSpec, raw: str) -> tuple[bool, Any]:
    """(True, value) or (False, reason); cached because the form re-parses every field on each keystroke."""
    try:
        return True, _parse(spec, raw)
    except FieldError as exc:
        return False, str(exc)


def _parse(spec: FieldSpec, raw: str) -> Any:
    if spec.kind == "json":
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise FieldError(f"not JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise FieldError('expected a JSON object like {"max_grad_norm": 0.5}')
        return value
    if spec.kind == "choice" and raw not in spec.choices:
        raise FieldError("one of " + ", ".join(spec.choices))
    if spec.kind == "str" and not raw:
        raise FieldError("required")
    try:
        return coerce_value(spec.name, raw)
    except ConfigError as exc:
        raise FieldError(exc.problem.message) from None


def format_value(spec: FieldSpec, value: Any) -> str:
    """The text shown for a typed value (inverse of ``parse_value``)."""
    if value is None:
        return ""
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "choice" and isinstance(value, bool):
        return "on" if value else "off"  # a bool | "auto" field shown as a choice
    if spec.kind == "list_or_str" and isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if spec.kind == "json":
        return json.dumps(value) if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---------------------------------------------------------------------- presets
PRESETS: dict[str, dict[str, Any]] = {
    # short labels: little context, few epochs suffice, small rank
    "classification": {
        "max_seq_len": 512, "num_epochs": 3.0, "learning_rate": 2e-4, "lora_r": 8, "lora_alpha": 16,
        "micro_batch_size": 8, "grad_accum": 1, "assistant_only_loss": True, "packing": False,
    },
    # structured output: exact formats need a few more steps, moderate rank
    "extraction": {
        "max_seq_len": 1024, "num_epochs": 3.0, "learning_rate": 1e-4, "lora_r": 16, "lora_alpha": 32,
        "micro_batch_size": 4, "grad_accum": 2, "assistant_only_loss": True, "packing": False,
    },
    # long-form style: long sequences, higher rank, packing for throughput, fewer epochs to avoid parroting
    "style": {
        "max_seq_len": 2048, "num_epochs": 2.0, "learning_rate": 1e-4, "lora_r": 32, "lora_alpha": 64,
        "micro_batch_size": 2, "grad_accum": 8, "packing": True, "assistant_only_loss": True,
    },
}
# the built-in demo model trains in well under a minute with these (a small held-out eval, few steps)
DEMO_QUICK: dict[str, Any] = {
    "max_steps": 20, "micro_batch_size": 4, "grad_accum": 1, "max_seq_len": 256, "eval_steps": 10, "save_steps": 10,
    "logging_steps": 1, "learning_rate": 1e-3, "gradient_checkpointing": False, "eval_path": None,
    "eval_fraction": 0.02,
}

# the preference demo: DPO pairs made from the sample tickets (sample_data/make_pairs.py), 20 steps
DEMO_DPO: dict[str, Any] = {
    **DEMO_QUICK, "method": "dpo", "adapter": "lora", "beta": 0.1, "train_path": "sample_data/support_tickets_pairs.jsonl",
    "learning_rate": 2e-4, "eval_fraction": 0.05,
}
# ORPO on the paired sample (no reference model), KTO on the unpaired one (a label per answer); 2 of 16 rows held
# out. ORPO's odds-ratio term needs a heavier weight and 40 steps to separate the sides (reward accuracy 1.0
# from step ~20); a step costs a tenth of a DPO step (no reference forward), so it still ends in ~20 s
DEMO_ORPO: dict[str, Any] = {
    **DEMO_QUICK, "method": "orpo", "adapter": "lora", "beta": 0.5, "train_path": "sample_data/preference_paired.jsonl",
    "learning_rate": 3e-3, "max_steps": 40, "save_steps": 20, "eval_fraction": 0.125,
}
DEMO_KTO: dict[str, Any] = {
    **DEMO_QUICK, "method": "kto", "adapter": "lora", "beta": 0.1, "train_path": "sample_data/preference_unpaired.jsonl",
    "learning_rate": 1e-3, "eval_fraction": 0.125,
}
# the demo that learns the task: 300 LoRA steps of the demo model on the sample tickets reach ~0.8 test accuracy
# where the base scores 0.00 (sample_data/README.md, "The pretrained base"): about a minute on a quiet 2-core CPU.
# demo-quick's 20 steps show the loop and the plots; this one gives the blind A/B a real difference. It is LoRA,
# like every demo: "long" is its schedule (it was called demo-full, which read as full fine-tuning).
DEMO_LONG: dict[str, Any] = {
    **DEMO_QUICK, "max_steps": 300, "micro_batch_size": 8, "learning_rate": 3e-3, "lora_r": 32, "lora_alpha": 64,
    "lora_dropout": 0.0, "lr_scheduler": "linear", "eval_steps": 50, "save_steps": 50,
}
DEMOS = {"demo-quick": DEMO_QUICK, "demo-long": DEMO_LONG, "demo-dpo": DEMO_DPO, "demo-orpo": DEMO_ORPO,
         "demo-kto": DEMO_KTO}
# names a preset had before (scripts and READMEs written then still work): old name -> name now
PRESET_ALIASES = {"demo-full": "demo-long"}


def preset_names(has_plan: bool) -> list[str]:
    names = ["custom"]
    if has_plan:
        names.append("plan")
    return names + list(PRESETS) + list(DEMOS)


def preset_values(name: str, plan_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    name = PRESET_ALIASES.get(name, name)
    if name == "plan":
        return {k: v for k, v in (plan_overrides or {}).items() if k in SPECS}
    if name in DEMOS:
        return dict(DEMOS[name])
    return dict(PRESETS.get(name, {}))
