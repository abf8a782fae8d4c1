"""The launcher's VRAM preflight and the form's field parsing (core, no Textual)."""

from __future__ import annotations

import pytest

from ftui.config import RunConfig
from ftui.train.config_fields import PRESETS, SPECS, FieldError, format_value, parse_value, preset_values
from ftui.train.preflight import preflight


def test_no_gpu_gives_the_estimate_and_says_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTUI_GPU_GB", raising=False)
    monkeypatch.setattr("ftui.advisor.gpu.detect_gpu", lambda: None)
    result = preflight(RunConfig(model="8B"))
    assert result.verdict == "no-gpu" and result.estimate_gb and "CPU" in result.summary


def test_does_not_fit_comes_with_the_cheapest_fix_as_config_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_GPU_GB", "16")
    result = preflight(RunConfig(model="8B", method="lora", max_seq_len=2048, micro_batch_size=4))
    assert result.verdict == "does-not-fit"
    assert result.fix and result.fix_changes
    fields = {name for name, _ in result.fix_changes}
    assert fields <= set(SPECS), fields  # every change maps onto a form field
    fixed = RunConfig(**{"model": "8B", "max_seq_len": 2048, "micro_batch_size": 4, **dict(result.fix_changes)})
    assert preflight(fixed).verdict == "fits"


def test_openai_needs_no_local_memory_and_unknown_models_do_not_raise() -> None:
    assert preflight(RunConfig(method="openai")).verdict == "not-needed"
    assert preflight(RunConfig(model="/nonexistent/model")).verdict == "unknown"


def test_every_config_field_is_in_the_form_and_round_trips() -> None:
    config = RunConfig()
    assert set(SPECS) == set(config.__dataclass_fields__)
    for name, spec in SPECS.items():
        value = getattr(config, name)
        assert parse_value(spec, format_value(spec, value)) == value, name


@pytest.mark.parametrize(("name", "text"), [("learning_rate", "fast"), ("micro_batch_size", "2.5"),
                                            ("method", "magic"), ("extra", "[1, 2]")])
def test_bad_text_is_a_field_error(name: str, text: str) -> None:
    with pytest.raises(FieldError):
        parse_value(SPECS[name], text)


@pytest.mark.parametrize("name", [*PRESETS, "demo-quick", "demo-long", "demo-dpo", "demo-orpo", "demo-kto"])
def test_presets_are_valid_configs(name: str) -> None:
    from ftui.train.preflight import validate

    config = RunConfig(**preset_values(name))
    assert validate(config, check_files=False, check_model=False, check_env=False) == []


# ------------------------------------------------------------- gradient checkpointing "auto"
def test_checkpointing_auto_is_off_only_when_the_gpu_keeps_15_percent_free() -> None:
    from ftui.advisor.architectures import PRESETS
    from ftui.advisor.vram import estimate
    from ftui.train.preflight.estimate import checkpointing_choice, train_setup

    arch = PRESETS["8B"]
    config = RunConfig(model="8B", method="lora", max_seq_len=1024, micro_batch_size=2)
    assert config.gradient_checkpointing == "auto"
    without = estimate(arch, train_setup(RunConfig(**{**config.__dict__, "gradient_checkpointing": False}), arch))
    roomy, tight = without.total_gb / 0.84, without.total_gb / 0.86  # 16% and 14% left free
    assert checkpointing_choice(config, arch, roomy)[0] is False
    on, why = checkpointing_choice(config, arch, tight)
    assert on is True and "under 15%" in why
    assert train_setup(config, arch, roomy).grad_checkpointing is False
    assert train_setup(config, arch, tight).grad_checkpointing is True
    # unknown GPU or estimate: on; no GPU: on for a real model, off for a tiny one; explicit values win
    assert checkpointing_choice(config, arch, None)[0] is True
    assert checkpointing_choice(config, None, 80)[0] is True
    tiny = RunConfig(model="demo")
    from ftui.train.preflight.estimate import resolve_arch

    on, why = checkpointing_choice(tiny, resolve_arch(tiny), None)
    assert on is False and "no GPU" in why
    for value in (True, False):
        forced = RunConfig(model="8B", gradient_checkpointing=value)
        assert checkpointing_choice(forced, arch, roomy) == (value, "set in the config")


def test_the_form_edits_checkpointing_as_auto_on_off() -> None:
    spec = SPECS["gradient_checkpointing"]
    assert spec.kind == "choice" and spec.choices == ("auto", "on", "off")
    assert [parse_value(spec, t) for t in spec.choices] == ["auto", True, False]
    assert [format_value(spec, v) for v in ("auto", True, False)] == ["auto", "on", "off"]


def test_resolve_checkpointing_says_the_choice_in_the_run_log(demo_model, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from ftui.train import hf_setup
    from ftui.train.events import Message

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    said: list = []
    resolved, gpu_gb = hf_setup.resolve_checkpointing(RunConfig(model="demo"), said.append)
    assert resolved.gradient_checkpointing is False and gpu_gb is None
    texts = [e.text for e in said if isinstance(e, Message)]
    assert len(texts) == 1 and texts[0].startswith("gradient checkpointing: off (auto: no GPU and a ")
    # on a GPU box the estimate decides: an 8B LoRA at 4096 x 8 does not fit 24 GB without checkpointing
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("FTUI_GPU_GB", "24")
    big = RunConfig(model="8B", method="lora", max_seq_len=4096, micro_batch_size=8)
    resolved, gpu_gb = hf_setup.resolve_checkpointing(big, said.append)
    assert resolved.gradient_checkpointing is True and gpu_gb == 24
    assert "gradient checkpointing: on (auto:" in said[-1].text


def test_full_bf16_loads_bf16_weights_and_auto_loads_fp32_master_weights(demo_model) -> None:
    import torch

    from ftui.train.hf_backend import load_model

    pure = load_model(RunConfig(model="demo", method="full", precision="bf16"), str(demo_model), bf16=True)
    amp = load_model(RunConfig(model="demo", method="full", precision="auto"), str(demo_model), bf16=True)
    assert {p.dtype for p in pure.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in amp.parameters()} == {torch.float32}


def test_qlora_kbit_prep_gets_the_resolved_checkpointing(monkeypatch: pytest.MonkeyPatch) -> None:
    """No 4-bit load on a CPU: the loader and PEFT's kbit prep are stood in for, to see what they are given."""
    import peft
    import torch
    import transformers

    from ftui.train.hf_backend import load_model

    seen: dict = {}
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        lambda path, **kw: seen.setdefault("load", kw) and "model")
    monkeypatch.setattr(peft, "prepare_model_for_kbit_training",
                        lambda model, **kw: seen.setdefault("prep", kw) and model)
    for value in (False, True):
        seen.clear()
        load_model(RunConfig(model="x", method="qlora", gradient_checkpointing=value), "x", bf16=True)
        assert seen["prep"]["use_gradient_checkpointing"] is value
        assert seen["load"]["quantization_config"].load_in_4bit


def test_the_started_event_carries_the_total_and_the_torch_peak() -> None:
    """The memory plot compares torch's allocator peak with ``estimate_torch_gb`` (no CUDA context), NVML with the total."""
    from ftui.train.events import Started, event_from_dict
    from ftui.train.preflight.estimate import estimate_figures, estimate_for

    config = RunConfig(model="8B", method="qlora", max_seq_len=2048, micro_batch_size=2, gradient_checkpointing=True)
    total, torch_gb = estimate_figures(config, 80)
    est = estimate_for(config, 80)
    assert total == round(est.total_gb, 2) and torch_gb == round(est.torch_peak / 1e9, 2)
    assert total - torch_gb == pytest.approx(est.setup.cuda_context_gb, abs=0.011)
    event = Started(run_id="r", method="qlora", model="8B", total_steps=1, estimate_gb=total, estimate_torch_gb=torch_gb)
    assert event_from_dict(event.to_dict()).estimate_torch_gb == torch_gb


@pytest.mark.parametrize(("method", "says"), [("lora", "Set method to dpo, orpo (pairs) or kto (labels), or"),
                                              ("openai", "to train locally")])
def test_preference_data_under_an_sft_method_is_refused_before_the_model_loads(method: str, says: str) -> None:
    from ftui.paths import SAMPLE_DATA_DIR
    from ftui.train.preflight import validate

    path = SAMPLE_DATA_DIR / "preference_paired.jsonl"
    problems = validate(RunConfig(method=method, train_path=str(path)), check_model=False, check_env=False)
    assert [p.field for p in problems] == ["train_path"], problems
    assert "holds preference data" in problems[0].message and says in problems[0].fix
    assert validate(RunConfig(method="dpo", train_path=str(path)), check_model=False, check_env=False) == []
