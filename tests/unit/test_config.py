"""RunConfig: validation messages name the field and the fix; YAML and --set round-trip."""

from __future__ import annotations

import dataclasses

import pytest

from ftui.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    dump_config,
    field_names,
    load_config,
    load_config_text,
)
from ftui.train.preflight import validate


def problems_for(config: RunConfig, **kwargs) -> dict[str, str]:
    found = validate(config, **kwargs)
    for p in found:
        assert p.field and p.message and p.fix, p
    return {p.field: str(p) for p in found}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"learning_rate": 0.0}, "learning_rate", "greater than 0"),
        ({"learning_rate": -1e-4}, "learning_rate", "greater than 0"),
        ({"num_epochs": 0.0}, "num_epochs", "greater than 0"),
        ({"num_epochs": -1.0, "max_steps": -1}, "num_epochs", "max_steps > 0"),
        ({"max_steps": 0}, "max_steps", "positive"),
        ({"lora_r": 0}, "lora_r", "at least 1"),
        ({"lora_alpha": 0}, "lora_alpha", "greater than 0"),
        ({"lora_dropout": 1.5}, "lora_dropout", "[0, 1)"),
        ({"micro_batch_size": 0}, "micro_batch_size", "at least 1"),
        ({"grad_accum": 0}, "grad_accum", "at least 1"),
        ({"max_seq_len": 2}, "max_seq_len", "at least 8"),
        ({"warmup_ratio": 1.5}, "warmup_ratio", "[0, 1)"),
        ({"lr_scheduler": "cosinus"}, "lr_scheduler", "cosine"),
        ({"optimizer": "adam9000"}, "optimizer", "adamw_torch"),
        ({"precision": "fp8"}, "precision", "auto"),
        ({"data_format": "csv"}, "data_format", "chat"),
        ({"eval_fraction": 0.9}, "eval_fraction", "0.5"),
        ({"save_total_limit": -1}, "save_total_limit", "keep all"),
        ({"early_stopping_patience": 2, "eval_path": None, "eval_fraction": 0.0}, "early_stopping_patience", "eval data"),
        ({"target_modules": []}, "target_modules", "empty"),
        ({"model": "./no/such/model"}, "model", "does not exist"),
        ({"train_path": "no/such/file.jsonl"}, "train_path", "does not exist"),
        ({"eval_path": "no/such/eval.jsonl"}, "eval_path", "does not exist"),
        ({"method": "rlhf"}, "method", "full, lora, qlora, openai"),
        ({"extra": {"hub_token": "x"}}, "extra.hub_token", "environment"),
        ({"extra": {"learning_rate": 1.0}}, "extra.learning_rate", "learning_rate"),
    ],
)
def test_each_bad_value_names_its_field_and_fix(overrides, field, words):
    config = dataclasses.replace(RunConfig(), **overrides)
    found = problems_for(config, check_model=False, check_env=False)
    assert field in found, found
    assert words in found[field]


def test_default_config_is_valid(demo_model):
    assert validate(RunConfig()) == []


def test_target_modules_are_checked_against_the_model(demo_model):
    found = problems_for(RunConfig(target_modules=["q_proj", "qkv_nope"]))
    assert "target_modules" in found
    assert "qkv_nope not found" in found["target_modules"] and "q_proj" in found["target_modules"]
    assert validate(RunConfig(target_modules="attention")) == []
    assert validate(RunConfig(target_modules="q_proj,v_proj")) == []


def test_qlora_without_cuda_is_a_problem():
    found = problems_for(RunConfig(method="qlora"), check_model=False)
    assert "QLoRA needs an NVIDIA GPU" in found["method"] and "method: lora" in found["method"]


@pytest.fixture
def cuda_without_bitsandbytes(monkeypatch):
    """A GPU box where bitsandbytes is not installed."""
    import importlib.util

    import torch

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if name == "bitsandbytes" else real_find_spec(name, *a, **k)
    )


def test_qlora_with_cuda_but_without_bitsandbytes_says_to_install_it(cuda_without_bitsandbytes):
    found = problems_for(RunConfig(method="qlora"), check_model=False)
    assert "QLoRA needs the bitsandbytes package" in found["method"] and "pip install bitsandbytes" in found["method"]
    assert "GPU" not in found["method"]  # the GPU is there: only the package is missing
    found = problems_for(RunConfig(method="lora", optimizer="paged_adamw_8bit"), check_model=False)
    assert "needs CUDA and bitsandbytes" in found["optimizer"] and "method" not in found


def test_the_backend_refuses_qlora_without_bitsandbytes_before_loading_anything(cuda_without_bitsandbytes):
    from ftui.train.errors import TrainError
    from ftui.train.hf_backend import check_qlora_available

    with pytest.raises(TrainError, match="QLoRA needs the bitsandbytes package") as refused:
        check_qlora_available()
    assert "pip install bitsandbytes" in refused.value.hint


def test_a_dataset_with_lint_errors_is_refused_with_the_row_and_the_fix(tmp_path):
    from ftui import paths

    rows = paths.sample_data("support_tickets_train.jsonl").read_text(encoding="utf-8").splitlines()[:8]
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(rows) + "\n")
    assert problems_for(RunConfig(train_path=str(clean), eval_path=None), check_model=False) == {}
    no_answer = '{"messages": [{"role": "user", "content": "My order never arrived, what now?"}]}'
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(rows[:3] + [no_answer] + rows[3:]) + "\n")
    found = problems_for(RunConfig(train_path=str(broken), eval_path=None), check_model=False)
    assert list(found) == ["train_path"]
    assert "row 4: no assistant turn" in found["train_path"] and "ftui lint" in found["train_path"]
    found = problems_for(RunConfig(train_path=str(clean), eval_path=str(broken)), check_model=False)
    assert list(found) == ["eval_path"] and "row 4" in found["eval_path"]


def test_dataset_that_is_not_json_is_reported(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\nnot json at all\n')
    found = problems_for(RunConfig(train_path=str(bad)), check_model=False)
    assert "row 2" in found["train_path"] or "line 2" in found["train_path"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "is empty" in problems_for(RunConfig(train_path=str(empty)), check_model=False)["train_path"]


def test_openai_needs_the_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    found = problems_for(RunConfig(method="openai"), check_model=False)
    assert "OPENAI_API_KEY" in found["method"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert problems_for(RunConfig(method="openai"), check_model=False) == {}


def test_yaml_round_trip(tmp_path):
    config = RunConfig(method="full", target_modules=["q_proj", "v_proj"], eval_path=None, extra={"packing_strategy": "bfd"})
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert load_config(path) == config


def test_unknown_key_suggests_the_right_one():
    with pytest.raises(ConfigError) as info:
        load_config_text("learning_rat: 0.001\n")
    assert str(info.value) == "learning_rat: unknown key in config. Did you mean 'learning_rate'?"


def test_wrong_types_are_named():
    with pytest.raises(ConfigError, match=r"^learning_rate: 'fast' must be a number"):
        load_config_text("learning_rate: fast\n")
    with pytest.raises(ConfigError, match=r"^method: 'rlhf' must be one of full, lora, qlora, openai"):
        load_config_text("method: rlhf\n")
    with pytest.raises(ConfigError) as info:
        load_config_text("model: demo\n  bad: [\n", source="bad.yaml")
    # one readable line: the file, what is wrong with it, the fix (no "(file): " in front)
    assert str(info.value) == ("bad.yaml is not valid YAML at line 2. "
                               "Fix the syntax; 'ftui train --example' shows the format.")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("/no/such/config.yaml")


def test_yaml_scientific_notation_is_a_float():
    assert load_config_text("learning_rate: 2e-4\n").learning_rate == 2e-4


def test_set_overrides_coerce_types():
    config = apply_overrides(
        RunConfig(),
        [
            "max_steps=20",
            "learning_rate=1e-4",
            "packing=true",
            "target_modules=q_proj,v_proj",
            "eval_path=null",
            "method=full",
            "openai_batch_size=8",
            "extra.packing_strategy=wrapped",
            "num_epochs=2",
        ],
    )
    assert config.max_steps == 20 and config.learning_rate == 1e-4 and config.packing is True
    assert config.target_modules == ["q_proj", "v_proj"] and config.eval_path is None and config.method == "full"
    assert config.openai_batch_size == 8 and config.extra == {"packing_strategy": "wrapped"} and config.num_epochs == 2.0
    assert apply_overrides(RunConfig(), ["target_modules=attention"]).target_modules == "attention"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("max_steps", "needs key=value"),
        ("max_step=3", "Did you mean 'max_steps'"),
        ("max_steps=lots", "must be a whole number"),
        ("packing=maybe", "must be true or false"),
    ],
)
def test_bad_set_overrides(item, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(RunConfig(), [item])


def test_dump_never_writes_secrets():
    config = RunConfig(extra={"hub_token": "hf_SECRET", "packing_strategy": "bfd"}, openai_base_url="https://user:pw@example.com/v1")
    text = dump_config(config)
    assert "hf_SECRET" not in text and "pw@" not in text and "packing_strategy" in text
    assert "https://example.com/v1" in text


def test_example_config_covers_every_field_and_is_valid(demo_model):
    from ftui.train.example import EXAMPLE_CONFIG

    config = load_config_text(EXAMPLE_CONFIG)
    for name in field_names():
        assert f"\n{name}:" in EXAMPLE_CONFIG, name
    assert config.model == "demo" and config.method == "lora"
    assert validate(config) == []


def test_cli_reports_every_problem_on_its_own_line(tmp_path, capsys):
    from ftui.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text("learning_rate: 0\nlora_r: 0\nnum_epochs: 0\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[2].strip() for line in err] == ["learning_rate", "num_epochs", "lora_r"]
    assert all("Traceback" not in line for line in err)
    assert main(["train", str(path), "--set", "nope=1"]) == 2
    assert capsys.readouterr().err.strip() == "ftui: nope: unknown key in --set. Run 'ftui train --example' to see every key."
    assert main(["train"]) == 2
    assert "ftui train --example" in capsys.readouterr().err


def test_a_config_the_estimator_says_cannot_fit_is_refused(demo_model, monkeypatch):
    monkeypatch.setenv("FTUI_GPU_GB", "0.5")  # pretend a 0.5 GB GPU: the CUDA context alone does not fit
    found = problems_for(RunConfig())
    assert "VRAM estimator" in found["micro_batch_size"] and "0.5 GB" in found["micro_batch_size"]
    monkeypatch.setenv("FTUI_GPU_GB", "80")
    assert validate(RunConfig()) == []


def test_extra_switches_must_exist_in_sftconfig(demo_model):
    found = problems_for(RunConfig(extra={"packing_strategi": "bfd", "packing_strategy": "bfd"}))
    assert list(found) == ["extra.packing_strategi"]
    assert "Did you mean 'packing_strategy'?" in found["extra.packing_strategi"]


@pytest.mark.parametrize(("text", "value"), [("auto", "auto"), ("AUTO", "auto"), ("true", True), ("off", False)])
def test_gradient_checkpointing_takes_auto_true_false_in_yaml_and_set(text: str, value: object) -> None:
    from ftui.config import apply_overrides, load_config_text

    assert RunConfig().gradient_checkpointing == "auto"
    assert load_config_text(f"gradient_checkpointing: {text}\n").gradient_checkpointing == value
    assert apply_overrides(RunConfig(), [f"gradient_checkpointing={text}"]).gradient_checkpointing == value


@pytest.mark.parametrize("text", ["maybe", "2", "sometimes"])
def test_gradient_checkpointing_refuses_other_values_with_the_fix(text: str) -> None:
    from ftui.config import ConfigError, apply_overrides, load_config_text
    from ftui.train.preflight import validate

    for read in (lambda: load_config_text(f"gradient_checkpointing: {text}\n"),
                 lambda: apply_overrides(RunConfig(), [f"gradient_checkpointing={text}"])):
        with pytest.raises(ConfigError) as err:
            read()
        message = str(err.value)
        assert message.startswith("gradient_checkpointing:") and "true, false or auto" in message
        assert "\n" not in message
    problems = validate(RunConfig(gradient_checkpointing=text), check_files=False, check_model=False, check_env=False)
    assert [p.field for p in problems] == ["gradient_checkpointing"]
