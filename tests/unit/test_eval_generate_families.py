"""Generation on real model families: the family's own template, its stop tokens, left padding,
one device through device_map, and an optional 4-bit load refused where it cannot run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.evaluate import generate as G
from ftui.evaluate.systems import SystemSpec, parse_system
from ftui.models.families import CHAT_FAMILIES, FAMILIES

pytestmark = pytest.mark.slow

CONVERSATION = [{"role": "system", "content": "Reply with one label."},
                {"role": "user", "content": "my invoice is wrong"}]
SHORT = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_stop_ids_hold_eos_and_the_templates_end_of_turn(family_model, name: str) -> None:
    gen = G.LocalGenerator(SystemSpec("base", str(family_model(name))))
    family = FAMILIES[name]
    tok = gen.tokenizer
    stops = set(tok.convert_ids_to_tokens(gen.eos_ids))
    assert family.end_of_turn in stops
    if family.special.get("eos"):
        assert family.special["eos"] in stops
    assert gen.tokenizer.padding_side == "left" and tok.pad_token_id is not None
    assert gen.model.device.type == "cpu" and gen.device == "cpu"


def test_stop_ids_add_the_end_of_turn_a_generation_config_forgets(family_model) -> None:
    """Llama 3.0's released generation_config lists only <|end_of_text|>: <|eot_id|> comes from the template."""
    from transformers import AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(family_model("llama3"))
    end_of_text = tok.convert_tokens_to_ids("<|end_of_text|>")
    ids = G.stop_token_ids(tok, GenerationConfig(eos_token_id=end_of_text))
    assert ids[0] == end_of_text and tok.convert_tokens_to_ids("<|eot_id|>") in ids
    tok.chat_template = None  # no template: no end-of-turn guessed from the vocabulary
    assert tok.convert_tokens_to_ids("<|start_header_id|>") not in G.stop_token_ids(tok, None)


@pytest.mark.parametrize("name", CHAT_FAMILIES)
def test_prompt_is_the_familys_template_up_to_where_the_trained_reply_starts(family_model, name: str) -> None:
    """The prompt is the template's rendering with the generation prompt (system folded where the template
    refuses it, Gemma 2), and a prefix of the same conversation rendered with its reply: what training saw."""
    from ftui.models.system_prompt import fold_system

    gen = G.LocalGenerator(SystemSpec("base", str(family_model(name))))
    tok = gen.tokenizer
    text = gen.prompt_text(CONVERSATION)
    assert "my invoice is wrong" in text and "Reply with one label." in text
    messages = fold_system(CONVERSATION) if name == "gemma2" else CONVERSATION
    assert text.startswith(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
    if name != "mistral":  # Mistral's template writes the system prompt into the LAST user turn only, so a
        # rendering that ends with the reply drops it; ftui trains on the prompt rendered up to the reply
        replied = tok.apply_chat_template([*messages, {"role": "assistant", "content": "billing"}], tokenize=False)
        assert replied.startswith(text) and replied[len(text):].lstrip().startswith("billing")
    without = tok.apply_chat_template(SHORT, add_generation_prompt=False, tokenize=False)
    if name != "mistral":  # [INST] ... [/INST] is already the cue; the others add an assistant header
        assert gen.prompt_text(SHORT) != without


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_encoded_prompt_starts_with_one_bos(family_model, name: str) -> None:
    gen = G.LocalGenerator(SystemSpec("base", str(family_model(name))))
    tok = gen.tokenizer
    ids = tok([gen.prompt_text(CONVERSATION)], add_special_tokens=False)["input_ids"][0]
    if tok.bos_token_id is not None and FAMILIES[name].add_bos:
        assert ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id
    else:
        assert tok.bos_token_id is None or ids[0] != tok.bos_token_id or ids[1] != tok.bos_token_id


def test_base_model_gets_the_trainers_plain_prompt(family_model) -> None:
    from ftui.train.chat_template import base_prompt

    gen = G.LocalGenerator(SystemSpec("base", str(family_model("base"))))
    assert not gen.has_chat_template
    assert gen.prompt_text(CONVERSATION) == base_prompt(CONVERSATION, gen.tokenizer.bos_token)
    assert gen.prompt_text(CONVERSATION).endswith("### Response:\n")


class _ForceStop:
    """A forward hook on the LM head: at decode step ``step`` row 0's next token is the end-of-turn
    token (a random model never picks it on its own); row 1 is left alone."""

    def __init__(self, token_id: int, step: int) -> None:
        self.token_id, self.step, self.calls = token_id, step, 0

    def __call__(self, module, inputs, output):  # noqa: ANN001, ANN204
        self.calls += 1
        if self.calls == self.step:
            output = output.clone()
            output[0, -1, :] = -1e4
            output[0, -1, self.token_id] = 1e4
            return output
        return None


@pytest.mark.parametrize("name", list(FAMILIES))
def test_batched_generation_stops_each_row_at_the_end_of_turn(family_model, name: str) -> None:
    gen = G.LocalGenerator(SystemSpec("base", str(family_model(name))))
    end = gen.tokenizer.convert_tokens_to_ids(FAMILIES[name].end_of_turn)
    hook = _ForceStop(end, step=3)
    captured = {}
    generate = gen.model.generate

    def spy(**kwargs):  # noqa: ANN003, ANN202
        captured["kwargs"] = kwargs
        captured["out"] = generate(**kwargs)
        return captured["out"]

    gen.model.generate = spy
    handle = gen.model.get_output_embeddings().register_forward_hook(hook)
    try:
        outs = gen.generate_batch([CONVERSATION, SHORT], G.GenerationConfig(max_new_tokens=10))
    finally:
        handle.remove()
    prompt_len = captured["kwargs"]["input_ids"].shape[1]
    mask = captured["kwargs"]["attention_mask"]
    assert (mask[:, 0] == 0).any() and (mask[:, -1] == 1).all(), "the shorter prompt is padded on the left"
    new = captured["out"][:, prompt_len:]
    pad = gen.tokenizer.pad_token_id
    assert new[0, 2].item() == end, "row 0 ends its turn at step 3"
    assert all(t == pad for t in new[0, 3:].tolist()), "and generates nothing after it"
    assert new.shape[1] == 10, "row 1 (no end of turn) ran on to max_new_tokens"
    assert FAMILIES[name].end_of_turn not in outs[0] and len(outs) == 2


def test_device_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert G.resolve_device("auto") == "cpu" and G.resolve_device("cpu") == "cpu"
    with pytest.raises(G.GenerationError, match="none is visible"):
        G.resolve_device("cuda:0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert G.resolve_device("auto") == "cuda:0" and G.resolve_device("1") == "cuda:1"
    with pytest.raises(G.GenerationError, match="cuda:2 does not exist"):
        G.resolve_device("cuda:2")
    with pytest.raises(G.GenerationError, match="not a device"):
        G.resolve_device("gpu-please")


def test_the_model_loads_onto_its_device_through_device_map_and_in_4bit_when_asked(
        family_model, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a (faked) CUDA box: from_pretrained gets device_map={"": "cuda:0"} (no load on the CPU then .to()),
    and load_4bit adds an NF4 BitsAndBytesConfig."""
    import torch
    from transformers import AutoModelForCausalLM

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    seen: list[dict] = []

    class Loaded(Exception):
        pass

    def fake_from_pretrained(path, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.append(kwargs)
        raise Loaded

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", fake_from_pretrained)
    model = str(family_model("llama3"))
    for spec in (SystemSpec("base", model), SystemSpec("base", model, load_4bit=True)):
        with pytest.raises(Loaded):
            G.LocalGenerator(spec)
    plain, four_bit = seen
    assert plain["device_map"] == {"": "cuda:0"} and plain["dtype"] == torch.bfloat16
    assert "quantization_config" not in plain
    q = four_bit["quantization_config"]
    assert four_bit["device_map"] == {"": "cuda:0"}
    assert q.load_in_4bit and q.bnb_4bit_quant_type == "nf4" and q.bnb_4bit_compute_dtype == torch.bfloat16


def test_4bit_without_cuda_is_one_readable_refusal(family_model, tmp_path: Path, capsys) -> None:
    from ftui.cli import main

    with pytest.raises(G.GenerationError, match="4-bit load needs an NVIDIA GPU"):
        G.LocalGenerator(SystemSpec("base", str(family_model("llama3")), load_4bit=True))
    test = tmp_path / "t.jsonl"
    test.write_text(json.dumps({"messages": [*SHORT, {"role": "assistant", "content": "x"}]}) + "\n")
    code = main(["eval", "generate", "--system", "base", "--test", str(test), "--load-4bit"])
    err = capsys.readouterr().err
    assert code == 2 and "--load-4bit" in err and "CUDA" in err and err.count("\n") == 1
    code = main(["eval", "generate", "--system", "base", "--test", str(test), "--device", "tpu"])
    err = capsys.readouterr().err
    assert code == 2 and "--device" in err and err.count("\n") == 1


def test_4bit_is_part_of_the_cache_key_and_the_device_is_not(family_model) -> None:
    spec = parse_system(f"base:{family_model('llama3')}")  # any local model: the key's rule is the same
    from dataclasses import replace

    assert replace(spec, device="cuda:1").key() == spec.key()
    assert replace(spec, load_4bit=True).key() != spec.key()
