"""Typed run configuration with YAML round-trip.

``RunConfig`` is the single contract between the Plan screen ("use this plan"), the
Train launcher form, ``ftui train CONFIG.yaml`` and the backends. Field names are the
YAML keys. Validation (``validate``) names the field and the fix for each bad value.
No secret (API key) is ever a field: keys come from the environment only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Method = Literal["full", "lora", "qlora", "openai"]
TARGET_PRESETS = ("attention", "all-linear")


@dataclass
class RunConfig:
    # what to train
    model: str = "demo"  # local path, Hub id, or "demo" for the built-in offline model
    train_path: str = "sample_data/support_tickets_train.jsonl"
    eval_path: str | None = "sample_data/support_tickets_test.jsonl"
    data_format: str = "auto"  # auto | chat | alpaca | sharegpt | prompt-completion
    method: Method = "lora"
    # LoRA
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"  # a preset name or explicit module names
    # QLoRA quantisation
    load_in_4bit_quant_type: str = "nf4"
    double_quant: bool = True
    compute_dtype: str = "bfloat16"
    # schedule
    num_epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides num_epochs
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    micro_batch_size: int = 4
    grad_accum: int = 1
    max_seq_len: int = 1024
    packing: bool = False
    gradient_checkpointing: bool = True
    optimizer: str = "adamw_torch"  # adamw_torch | adamw_8bit | paged_adamw_8bit
    precision: str = "auto"  # auto (bf16 where supported) | bf16 | fp16 | fp32
    assistant_only_loss: bool = True
    # eval / checkpoints
    eval_steps: int = 50
    save_steps: int = 100
    save_total_limit: int = 2
    early_stopping_patience: int = 0  # 0 = off
    logging_steps: int = 1
    merge_at_end: bool = False
    # reproducibility and output
    seed: int = 42
    output_dir: str | None = None  # the run directory; default: a new one under the runs dir
    # OpenAI fine-tuning (method == "openai")
    openai_model: str = "gpt-4o-mini-2024-07-18"
    openai_suffix: str | None = None
    openai_base_url: str | None = None  # else OPENAI_BASE_URL; the key only ever from OPENAI_API_KEY
    openai_batch_size: int | str = "auto"
    openai_lr_multiplier: float | str = "auto"
    extra: dict = field(default_factory=dict)  # passed through to SFTConfig for switches we do not model
