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


# ----------------------------------------------------------- the program the estimator prices
def test_the_trl_lm_head_tiles_are_the_ones_the_estimator_charges() -> None:
    """TRL 1.x computes the loss in [TOKEN_CHUNK_SIZE x chunk] tiles (add_fused_lm_head); the estimator must follow."""
    pytest.importorskip("trl")
    from trl.kernels.chunked_logprob import TOKEN_CHUNK_SIZE
    from trl.trainer.utils import _CHUNKED_LOGPROB_CHUNK_SIZE

    from ftui.advisor.vram import TILE_TOKENS, TILE_VOCAB

    assert (TILE_TOKENS, TILE_VOCAB) == (TOKEN_CHUNK_SIZE, _CHUNKED_LOGPROB_CHUNK_SIZE)


def test_peft_keeps_lora_adapters_fp32_on_a_bf16_base_and_kbit_prep_upcasts_the_rest() -> None:
    torch = pytest.importorskip("torch")
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, LlamaConfig

    config = LlamaConfig(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=256)
    model = get_peft_model(AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16), LoraConfig(r=4))
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}  # 16 B per LoRA param
    prepared = prepare_model_for_kbit_training(AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16),
                                               use_gradient_checkpointing=False)
    # every 16-bit parameter that is not a 4-bit one (embeddings, head, norms in a QLoRA model) becomes fp32
    assert {p.dtype for p in prepared.parameters()} == {torch.float32}


def test_each_lora_target_saves_a_16bit_copy_of_its_input_as_charged() -> None:
    """Measured with autograd's saved-tensor hooks on a real Llama + PEFT (bf16 autocast, CPU): adding a target
    module adds what ``adapter_activation_bytes`` charges for it (2 B per input element per layer), within 15%."""
    torch = pytest.importorskip("torch")
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    from ftui.advisor.architectures import Architecture
    from ftui.advisor.vram import TrainSetup, adapter_activation_bytes

    config = LlamaConfig(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=256)
    arch = Architecture("tiny", 64, 192, 2, 4, 2, 256)

    def saved(targets: list[str]) -> int:
        torch.manual_seed(0)
        model = get_peft_model(AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16),
                               LoraConfig(r=4, target_modules=targets, lora_dropout=0.0))
        model.train()
        storages: dict[int, int] = {}

        def pack(t):  # noqa: ANN001, ANN202
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=torch.randint(0, 256, (4, 32)))
        return sum(storages.values())

    def charged(targets: tuple[str, ...]) -> float:
        setup = TrainSetup("lora", seq_len=32, micro_batch=4, grad_checkpointing=False, lora_targets=targets,
                           lora_dropout=0.0)
        return adapter_activation_bytes(arch, setup)

    for extra in ("k_proj", "down_proj"):
        measured = saved(["q_proj", extra]) - saved(["q_proj"])
        want = charged(("q_proj", extra)) - charged(("q_proj",))
        assert abs(measured - want) <= 0.15 * want, f"{extra}: measured {measured} B, charged {want} B"


def test_a_4bit_layer_keeps_what_the_qlora_estimate_charges(tmp_path) -> None:  # noqa: ANN001
    """QLoRA's activations, measured as above on a real 4-bit Llama (bitsandbytes NF4 on CPU, kbit-prepared,
    bf16 adapters as TRL casts them, bf16 autocast): what one decoder layer saves grows with the hidden and the
    intermediate size as ``activation_bytes(quantized=True)`` + ``adapter_activation_bytes`` say, within 10%.
    Without the quantized term the intermediate size was charged 8 B per token where a layer saves 14 (the MLP's
    outputs come back fp32): an 8B QLoRA on an H200 peaked 19% over its estimate."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("bitsandbytes")
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

    from ftui.advisor.architectures import Architecture
    from ftui.advisor.vram import TrainSetup, activation_bytes, adapter_activation_bytes

    tokens = 256

    def layer_saves(h: int, i: int) -> int:
        torch.manual_seed(0)
        path = tmp_path / f"llama-{h}-{i}"
        LlamaForCausalLM(LlamaConfig(hidden_size=h, intermediate_size=i, num_hidden_layers=2, num_attention_heads=4,
                                     num_key_value_heads=2, vocab_size=256)).save_pretrained(path)
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_quant_storage=torch.bfloat16)
        model = LlamaForCausalLM.from_pretrained(path, quantization_config=quant, dtype=torch.bfloat16,
                                                 use_kernels=False)
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        model = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear", lora_dropout=0.0))
        for param in model.parameters():
            if param.requires_grad:
                param.data = param.data.to(torch.bfloat16)
        model.train()
        weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
        storages: dict[int, int] = {}
        at_layer: list[int] = []

        def pack(t):  # noqa: ANN001, ANN202
            ptr = t.untyped_storage().data_ptr()
            if ptr not in weights:
                storages[ptr] = t.untyped_storage().nbytes()
            return t

        second = model.base_model.model.model.layers[1]
        second.register_forward_pre_hook(lambda *_: at_layer.append(sum(storages.values())))
        second.register_forward_hook(lambda *_: at_layer.append(sum(storages.values())))
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=torch.randint(0, 256, (1, tokens)))
        return at_layer[1] - at_layer[0]

    def charged(h: int, i: int) -> float:
        arch = Architecture("tiny", h, i, 1, 4, 2, 256)
        setup = TrainSetup("qlora", seq_len=tokens, micro_batch=1, grad_checkpointing=False,
                           lora_targets="all-linear", lora_dropout=0.0)
        return activation_bytes(arch, tokens, False, 4, quantized=True) + adapter_activation_bytes(arch, setup)

    base = layer_saves(128, 448)
    for h, i in ((128, 896), (256, 448)):
        measured = layer_saves(h, i) - base
        want = charged(h, i) - charged(128, 448)
        assert abs(measured - want) <= 0.10 * want, f"h={h} i={i}: measured {measured} B, charged {want} B"
