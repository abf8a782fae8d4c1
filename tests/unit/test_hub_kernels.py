"""Models load without transformers' Hub kernels unless the user asks for them (USE_HUB_KERNELS=1).

transformers 5.x kernelizes a Llama's rotary embedding with ``kernels-community/rotary`` by default on CUDA,
fetched from the Hub: on an H200 with HF_HUB_OFFLINE=1 every QLoRA and LoRA run failed at load or at step 1
("Version 2 of 'kernels-community/rotary' is not available in the local cache"), and without the ``kernels``
package every CUDA load failed. Each place ftui loads a model is checked here with a spy on from_pretrained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.models import hub_kernels


@pytest.mark.parametrize(("value", "kwargs"), [(None, {"use_kernels": False}), ("0", {"use_kernels": False}),
                                               ("1", {}), ("YES", {})])
def test_hub_kernels_only_when_the_user_sets_the_switch(value: str | None, kwargs: dict,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("USE_HUB_KERNELS", raising=False)
    else:
        monkeypatch.setenv("USE_HUB_KERNELS", value)
    assert hub_kernels.load_kwargs() == kwargs


class _Loaded(Exception):
    pass


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The keyword arguments of every AutoModelForCausalLM.from_pretrained call (which then stops the caller)."""
    from transformers import AutoModelForCausalLM

    monkeypatch.delenv("USE_HUB_KERNELS", raising=False)
    seen: list[dict] = []

    def spy(path, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.append(kwargs)
        raise _Loaded

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    return seen


def test_training_evaluation_and_merge_load_without_hub_kernels(loads: list[dict], family_model,  # noqa: ANN001
                                                                 tmp_path: Path) -> None:
    from ftui.config import RunConfig
    from ftui.evaluate.generate import LocalGenerator
    from ftui.evaluate.systems import SystemSpec
    from ftui.train.hf_backend import load_model
    from ftui.train.merge import merge_on_device

    model = str(family_model("llama3"))
    with pytest.raises(_Loaded):
        load_model(RunConfig(model=model, train_path="x.jsonl", method="lora"), model, bf16=False)
    with pytest.raises(_Loaded):
        LocalGenerator(SystemSpec("base", model))
    with pytest.raises(_Loaded):
        merge_on_device(tmp_path / "adapter", model, tmp_path / "merged", "cpu")
    assert len(loads) == 3 and all(kwargs.get("use_kernels") is False for kwargs in loads), loads
