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


@pytest.mark.parametrize("name", [*PRESETS, "demo-quick"])
def test_presets_are_valid_configs(name: str) -> None:
    from ftui.config import validate

    config = RunConfig(**preset_values(name))
    assert validate(config, check_files=False, check_model=False, check_env=False) == []
