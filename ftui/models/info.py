"""What a model is made of, read without loading its weights (for validation and LoRA targets).

The model is instantiated on the ``meta`` device from its config, so listing its Linear
layers costs a second even for a 70B model and touches no GPU memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

ATTENTION_NAMES = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "qkv_proj",
    "query_key_value",
    "c_attn",
    "Wqkv",
    "out_proj",
    "query",
    "key",
    "value",
)


class ModelInfoError(Exception):
    """The model cannot be read or does not have the requested modules; the message says which."""


@dataclass(frozen=True)
class ModelInfo:
    path: str  # what from_pretrained is given (a resolved directory or a Hub id)
    model_type: str
    linear_names: frozenset[str]  # leaf names of the decoder's Linear layers (lm_head excluded)
    num_parameters: int = 0
    hidden_size: int | None = None
    num_layers: int | None = None
    supports_flash_attn: bool = False  # the model class runs flash_attention_2 (transformers' own flag)
    supports_sdpa: bool = True  # False e.g. for Gemma 2 (soft-capping), which then needs eager
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@lru_cache(maxsize=16)
def inspect_model(name_or_path: str) -> ModelInfo:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from ftui.models.source import ModelSourceError, resolve_model

    try:
        path = resolve_model(name_or_path)
    except ModelSourceError as exc:
        raise ModelInfoError(str(exc)) from None
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, hub errors: one readable line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelInfoError(f"cannot read the model config of '{name_or_path}': {first[:200]}") from None
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001
        raise ModelInfoError(f"'{name_or_path}' is not a causal language model transformers can build: {exc}") from None
    linear = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            leaf = name.rsplit(".", 1)[-1]
            if leaf != "lm_head":
                linear.add(leaf)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return ModelInfo(
        path=path,
        model_type=str(getattr(config, "model_type", "unknown")),
        linear_names=frozenset(linear),
        num_parameters=sum(p.numel() for p in model.parameters()),
        hidden_size=getattr(text, "hidden_size", None),
        num_layers=getattr(text, "num_hidden_layers", None),
        supports_flash_attn=bool(getattr(model, "_supports_flash_attn", False)),
        supports_sdpa=bool(getattr(model, "_supports_sdpa", True)),
    )


def resolve_target_modules(targets: str | list[str], info: ModelInfo) -> str | list[str]:
    """The ``target_modules`` value for PEFT's LoraConfig, checked against the model's Linear layers."""
    if targets == "all-linear":
        return "all-linear"
    if targets == "attention":
        found = [n for n in ATTENTION_NAMES if n in info.linear_names]
        if not found:
            raise ModelInfoError(
                f"no attention projections found in this {info.model_type} model; its Linear layers are "
                f"{', '.join(sorted(info.linear_names))}"
            )
        return found
    names = [t.strip() for t in targets.split(",")] if isinstance(targets, str) else list(targets)
    names = [n for n in names if n]
    missing = [n for n in names if n not in info.linear_names]
    if missing:
        raise ModelInfoError(
            f"{', '.join(missing)} not found in the model; its Linear layers are {', '.join(sorted(info.linear_names))}"
        )
    return names
