"""Our parameter and LoRA counts equal what transformers + PEFT build for the same config.

The models are built on the meta device (shapes only, no memory, no weights), so this
checks the architecture presets and the P formula against the real libraries cheaply.
"""

from __future__ import annotations

import pytest

from ftui.advisor.architectures import PRESETS
from ftui.advisor.vram import lora_params


def _config(size: str):  # noqa: ANN202
    from transformers import LlamaConfig, Qwen2Config

    a = PRESETS[size]
    cls = Qwen2Config if a.qkv_bias else LlamaConfig
    return cls(hidden_size=a.hidden_size, intermediate_size=a.intermediate_size, num_hidden_layers=a.num_layers,
               num_attention_heads=a.num_heads, num_key_value_heads=a.num_kv_heads, vocab_size=a.vocab_size,
               tie_word_embeddings=a.tie_embeddings)


@pytest.mark.parametrize(("size", "targets"), [("8B", "all-linear"), ("0.5B", "all-linear"), ("1B", "attention")])
def test_counts_match_transformers_and_peft(size: str, targets: str) -> None:
    torch = pytest.importorskip("torch")
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(_config(size))
    assert sum(p.numel() for p in model.parameters()) == PRESETS[size].n_params
    modules = "all-linear" if targets == "all-linear" else ["q_proj", "k_proj", "v_proj", "o_proj"]
    peft_model = get_peft_model(model, LoraConfig(r=16, target_modules=modules))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert trainable == lora_params(PRESETS[size], 16, targets)
