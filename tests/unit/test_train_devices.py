"""Device choice for single-process runs with several GPUs visible (simulated), and saving on every rank."""

from __future__ import annotations

import types

import pytest

from ftui.config import RunConfig
from ftui.train import devices
from ftui.train.devices import DeviceChoice, DeviceError, choose_device, parse_device
from ftui.train.preflight import validate


@pytest.fixture
def two_gpus(monkeypatch):
    """torch.cuda as a box with two H200s shows it; set_device calls are recorded, nothing real is touched."""
    import torch
    import transformers.training_args  # noqa: F401 - imported for real first: bitsandbytes probes CUDA on import
    import trl  # noqa: F401

    calls: list[object] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: "NVIDIA H200")
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.append(device))
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    for name in ("WORLD_SIZE", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(name, raising=False)
    yield calls
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)  # the fake GPUs must not outlive the test


def test_parse_device_accepts_the_documented_forms_and_refuses_others():
    assert parse_device("auto") == ("auto", None) and parse_device("") == ("auto", None)
    assert parse_device("cpu") == ("cpu", None) and parse_device("CUDA:1") == ("cuda", 1)
    assert parse_device("1") == ("cuda", 1) and parse_device("cuda") == ("cuda", 0)
    for bad in ("gpu0", "cuda:-1", "cuda:x", "mps:0"):
        with pytest.raises(DeviceError, match="is not a device; use auto"):
            parse_device(bad)


def test_auto_picks_the_first_of_two_gpus_and_says_so(two_gpus):
    choice = choose_device("auto")
    assert choice == DeviceChoice("cuda", index=0, visible=2, name="NVIDIA H200")
    assert choice.describe() == ("2 GPUs visible; training on cuda:0 (NVIDIA H200). "
                                 "Multi-GPU: accelerate launch -m ftui train CONFIG.yaml")
    assert choose_device("cuda:1").index == 1 and choose_device("cpu").kind == "cpu"


def test_a_launcher_owns_the_devices(two_gpus, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert choose_device("cuda:1").kind == "launcher"
    monkeypatch.delenv("LOCAL_RANK")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert choose_device("auto").kind == "launcher"


def test_validation_refuses_a_gpu_that_does_not_exist_with_the_fix(two_gpus):
    problems = validate(RunConfig(device="cuda:2"), check_files=False, check_model=False, check_env=True)
    [problem] = [p for p in problems if p.field == "device"]
    assert "cuda:2 does not exist: 2 GPUs visible (cuda:0, cuda:1)" in problem.message
    assert "Set device to auto" in problem.fix
    assert not [p for p in validate(RunConfig(device="1"), check_files=False, check_model=False) if p.field == "device"]


def test_cheap_validation_checks_the_form_without_torch():
    # the form re-validates on every keystroke without the environment checks
    problems = validate(RunConfig(device="gpu0"), check_files=False, check_model=False, check_env=False)
    assert [p.field for p in problems] == ["device"]
    assert [p.field for p in validate(RunConfig(method="qlora", device="cpu"), check_files=False,
                                      check_model=False, check_env=False)] == ["device"]


def test_a_gpu_asked_for_on_a_machine_without_one_is_refused():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    problems = validate(RunConfig(device="cuda:0"), check_files=False, check_model=False, check_env=True)
    assert any(p.field == "device" and "none is visible" in p.message for p in problems)


def test_pinning_leaves_the_trainer_args_one_gpu_not_data_parallel(two_gpus, tmp_path):
    from transformers.training_args import ParallelMode
    from trl import SFTConfig

    def args():
        return SFTConfig(output_dir=str(tmp_path), report_to="none", use_cpu=False, bf16=False)

    unpinned = args()
    assert unpinned.n_gpu == 2 and unpinned.parallel_mode == ParallelMode.NOT_DISTRIBUTED  # what TRL refuses
    pinned = args()
    devices.pin_training_args(pinned, choose_device("1"))
    import torch

    assert pinned.device == torch.device("cuda", 1) and pinned.n_gpu == 1
    assert pinned.parallel_mode == ParallelMode.NOT_PARALLEL
    assert two_gpus[-1] == torch.device("cuda", 1)  # the current device, which accelerate's "cuda" follows


def test_the_backend_pins_before_loading_and_logs_the_choice(two_gpus):
    from ftui.train.hf_setup import pin_run_device

    said = []
    choice = pin_run_device(RunConfig(device="auto"), lambda event: said.append(event.text))
    assert choice.index == 0 and two_gpus == [0]
    assert said == ["2 GPUs visible; training on cuda:0 (NVIDIA H200). Multi-GPU: accelerate launch -m ftui train CONFIG.yaml"]


# ---------------------------------------------------------------------------- saving on every rank


class FakeTrainer:
    """What finish_run touches of a Trainer on one rank of a 2-process run."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.saved: list[str] = []
        self.state = types.SimpleNamespace(global_step=4, best_metric=None, best_model_checkpoint=None)

    def is_world_process_zero(self) -> bool:
        return self.rank == 0

    def save_model(self, path: str) -> None:
        self.saved.append(path)


class FakeTokenizer:
    def __init__(self) -> None:
        self.saved: list[str] = []

    def save_pretrained(self, path: str) -> None:
        self.saved.append(path)


@pytest.mark.parametrize("method", ["lora", "full"])
@pytest.mark.parametrize("stop", [None, "save", "nosave"])
def test_every_rank_calls_save_model_only_rank_0_writes_and_emits(tmp_path, method, stop):
    from ftui.train.control import RunControl
    from ftui.train.hf_finish import finish_run

    config = RunConfig(method=method)
    agreed = {None: (False, False), "save": (True, True), "nosave": (True, False)}[stop]
    results = []
    for rank in (0, 1):
        trainer, tokenizer, events = FakeTrainer(rank), FakeTokenizer(), []
        control = RunControl()  # a follower's control is never set: the broadcast flags decide
        callback = types.SimpleNamespace(agreed_stop=agreed)
        finish_run(trainer, tokenizer, config, tmp_path, events.append, control, callback, distributed=True, started=0.0)
        results.append((trainer.saved, tokenizer.saved, [e.type for e in events]))
    (saved0, tok0, types0), (saved1, tok1, types1) = results
    assert saved0 == saved1 and len(saved0) == (0 if stop == "nosave" else 1)  # the collective: both ranks or neither
    assert tok1 == [] and types1 == []  # only rank 0 writes files and events
    assert tok0 == saved0
    assert types0[-1] == ("finished" if stop is None else "stopped")
