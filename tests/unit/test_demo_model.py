"""The offline demo model: builds, loads with the Auto classes, generates and stops, masks
exactly the assistant tokens, is reused when intact, rebuilt when damaged, and deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.models import demo

CONVERSATION = [
    {"role": "system", "content": "Reply with one label."},
    {"role": "user", "content": "I was charged twice for the Pro plan."},
    {"role": "assistant", "content": "billing"},
    {"role": "user", "content": "Also, please add dark mode."},
    {"role": "assistant", "content": "feature_request"},
]


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


@pytest.fixture(scope="module")
def model(demo_model: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(demo_model)


def test_loads_with_auto_classes_and_has_the_documented_shape(demo_model: Path, model, tokenizer) -> None:
    assert demo_model == demo.ensure_demo_model()
    assert (demo_model / "model.safetensors").is_file()
    assert model.config.model_type == "llama"
    assert model.config.hidden_size == 128
    assert model.config.num_hidden_layers == demo.RECIPE["num_hidden_layers"]
    assert model.config.vocab_size == len(tokenizer)
    assert 1000 < len(tokenizer) <= demo.RECIPE["vocab_size"]
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token_id is not None and tokenizer.pad_token_id != tokenizer.eos_token_id
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_byte_level_tokenizer_round_trips_any_text(tokenizer) -> None:
    text = "Grüße 🙂 naïve — 你好\n\tcode: x = {'a': 1}"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.unk_token_id is None or tokenizer.unk_token_id not in ids


def test_assistant_mask_marks_exactly_the_assistant_replies_and_their_end_of_turn(tokenizer) -> None:
    out = tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assert len(ids) == len(mask)
    masked = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    unmasked = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if not m])
    assert masked == "billing<|im_end|>feature_request<|im_end|>"
    rendered = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert unmasked == rendered.replace("billing<|im_end|>", "").replace("feature_request<|im_end|>", "")
    for text in ("Reply with one label.", "charged twice", "dark mode", "system", "user"):
        assert text in unmasked


def test_generation_prompt_opens_an_assistant_turn(tokenizer) -> None:
    prompt = tokenizer.apply_chat_template(CONVERSATION[:2], add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>user\nI was charged twice for the Pro plan.<|im_end|>\n<|im_start|>assistant\n")
    assert prompt.startswith(tokenizer.bos_token)


def test_trl_accepts_the_template_for_assistant_only_loss(tokenizer) -> None:
    from trl.chat_template_utils import has_generation_markers, is_chat_template_stop_token_trained

    assert has_generation_markers(tokenizer.chat_template)
    assert is_chat_template_stop_token_trained(tokenizer)


def test_greedy_generation_runs_and_stops_at_end_of_turn(model, tokenizer) -> None:
    import torch

    enc = tokenizer.apply_chat_template(CONVERSATION[:2], add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)
    prompt_len = enc["input_ids"].shape[1]
    with torch.no_grad():
        free = model.generate(**enc, max_new_tokens=6, do_sample=False)
        again = model.generate(**enc, max_new_tokens=6, do_sample=False)
        # Make end-of-turn the likeliest token: generation must stop right after it.
        stopped = model.generate(**enc, max_new_tokens=6, do_sample=False,
                                 sequence_bias={(tokenizer.eos_token_id,): 1000.0})
    assert prompt_len < free.shape[1] <= prompt_len + 6
    assert torch.equal(free, again)
    assert stopped.shape[1] == prompt_len + 1
    assert stopped[0, -1].item() == tokenizer.eos_token_id


def test_resolve_model_maps_only_the_demo_name(demo_model: Path) -> None:
    from ftui.models.source import resolve_model

    assert resolve_model("demo") == str(demo_model)
    assert resolve_model("Qwen/Qwen2.5-0.5B", hub_policy="skip") == "Qwen/Qwen2.5-0.5B"
    assert resolve_model("./models/demo") == "./models/demo"


def test_reused_when_present(demo_model: Path) -> None:
    weights = demo_model / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert demo.ensure_demo_model() == demo_model
    assert weights.stat().st_mtime_ns == before  # reused, not rebuilt (how fast is a load-dependent figure)
    assert demo.is_built(demo_model)


@pytest.fixture
def quick_recipe(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The demo recipe with a few pretraining steps: the same build code (tokenizer, seeded init, the
    pretraining loop, save, marker) in ~2 s instead of ~25 s. The recipe (and so the marker) records
    the change, so a quick build is never taken for the real one."""
    from ftui.models.demo_pretrain import PRETRAIN

    monkeypatch.setitem(PRETRAIN, "steps", 3)
    monkeypatch.setitem(PRETRAIN, "examples", 24)
    assert demo.RECIPE["pretrain"] is PRETRAIN
    return demo.RECIPE


def test_deterministic_and_rebuilt_when_damaged(quick_recipe: dict, tmp_path: Path) -> None:
    first = demo.build_demo_model(tmp_path / "first")
    out = demo.build_demo_model(tmp_path / "demo")
    for name in ("model.safetensors", "tokenizer.json", "config.json", "chat_template.jinja", demo.MARKER_FILE):
        assert (out / name).read_bytes() == (first / name).read_bytes(), name
    reference = (first / "model.safetensors").read_bytes()

    weights = out / "model.safetensors"
    weights.unlink()  # missing weights
    assert not demo.is_built(out)
    demo.build_demo_model(out)
    assert weights.read_bytes() == reference

    weights.write_bytes(weights.read_bytes()[:1000])  # truncated by a crash or a full disk
    assert not demo.is_built(out)
    demo.build_demo_model(out)
    (out / "chat_template.jinja").unlink()  # without it the tokenizer would load with no chat template
    assert not demo.is_built(out)
    marker = out / demo.MARKER_FILE
    data = json.loads(marker.read_text())
    data["build_version"] = demo.BUILD_VERSION - 1  # an older recipe must rebuild too
    marker.write_text(json.dumps(data))
    demo.build_demo_model(out)
    assert demo.is_built(out)
    assert weights.read_bytes() == reference
    leftovers = [p.name for p in tmp_path.iterdir() if ".building-" in p.name or ".old-" in p.name]
    assert not leftovers, "temporary build dirs left behind"


def test_a_quick_build_is_not_taken_for_the_real_one(demo_model: Path, quick_recipe: dict) -> None:
    assert not demo.is_built(demo_model)  # the pretraining steps are in the marker: a changed recipe rebuilds


def test_concurrent_ensures_build_once_and_agree(quick_recipe: dict, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    writes: list[Path] = []
    write_model = demo._write_model
    monkeypatch.setattr(demo, "_write_model", lambda out, texts: (writes.append(out), write_model(out, texts)))
    out = tmp_path / "demo"
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: demo.build_demo_model(out), range(3)))
    assert results == [out] * 3
    assert len(writes) == 1, "one build; the others waited for it and reused it"
    assert demo.is_built(out)
    reference = demo.build_demo_model(tmp_path / "alone")
    assert (out / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes()


def test_unwritable_location_raises_directory_error_with_the_fix(tmp_path: Path) -> None:
    from ftui.paths import DirectoryError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DirectoryError, match="FTUI_DEMO_MODEL"):
        demo.build_demo_model(blocker / "demo")


def test_cli_reports_path_and_reuse(demo_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ftui.cli import main

    assert main(["demo-model", "--out", str(demo_model)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(demo_model)
    assert "reused" in lines[1]


def test_cli_out_pointing_at_a_file_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ftui.cli import main

    target = tmp_path / "not-a-dir"
    target.write_text("x")
    assert main(["demo-model", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err and "Traceback" not in err


@pytest.mark.slow
def test_trl_sft_trainer_with_assistant_only_loss_trains_on_the_replies_only(demo_model: Path, model, tokenizer,
                                                                              tmp_path: Path) -> None:
    import math

    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(output_dir=str(tmp_path / "run"), assistant_only_loss=True, max_steps=2,
                       per_device_train_batch_size=2, report_to="none", use_cpu=True, save_strategy="no",
                       gradient_checkpointing=False, disable_tqdm=True, logging_steps=1)
    trainer = SFTTrainer(model=type(model).from_pretrained(demo_model), args=config,
                         train_dataset=Dataset.from_list([{"messages": CONVERSATION}] * 4),
                         processing_class=tokenizer,
                         peft_config=LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    batch = trainer.data_collator([trainer.train_dataset[0]])
    trained = [int(i) for i, label in zip(batch["input_ids"][0], batch["labels"][0], strict=True) if label != -100]
    assert tokenizer.decode(trained) == "billing<|im_end|>feature_request<|im_end|>"
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses and all(math.isfinite(loss) for loss in losses)


def test_the_base_replies_to_an_unseen_ticket_in_fluent_generic_english(model, tokenizer) -> None:
    """Issue 13 (11): the base must be a real side of a blind A/B: fluent but off-task replies in the words
    of the generic replies it was taught, not one token over and over ("Plus Plus Plus…") or nothing."""
    import re

    import torch

    from ftui import paths

    words = re.compile(r"[a-z']+")
    taught = set()
    for line in paths.sample_data("general_replies.jsonl").read_text(encoding="utf-8").splitlines():
        for message in json.loads(line)["messages"]:
            taught |= set(words.findall(message["content"].lower()))
    lines = paths.sample_data("support_tickets_test.jsonl").read_text(encoding="utf-8").splitlines()[:4]
    for line in lines:  # tickets the base never saw
        prompt = [m for m in json.loads(line)["messages"] if m["role"] != "assistant"]
        enc = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=40, do_sample=False)
        reply = tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        said = words.findall(reply.lower())
        assert len(said) >= 6 and len(set(said)) >= 5, f"not a reply: {reply!r}"
        assert max(said.count(w) for w in said) <= len(said) // 3, f"one word over and over: {reply!r}"
        assert sum(w in taught for w in said) >= 0.9 * len(said), f"not the generic replies' English: {reply!r}"
