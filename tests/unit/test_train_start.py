"""`ftui train` as its own process starts lighter (issue 17): bitsandbytes hidden without CUDA, a larger gen 0.

A test or a host program calling ``main(argv)`` keeps its process as it was: only the program itself
(``main()`` reading ``sys.argv``) changes process-wide state.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.commands import train as train_command
from ftui.train import hf_setup


@pytest.fixture
def fresh_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """peft and bitsandbytes not imported yet (restored after the test, whatever it did to sys.modules)."""
    for name in ("peft", "bitsandbytes"):
        monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.delitem(sys.modules, name)


def test_without_cuda_bitsandbytes_is_hidden_before_peft_loads(fresh_modules, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_setup, "has_cuda", lambda: False)
    hf_setup.skip_bitsandbytes_without_cuda()
    assert importlib.util.find_spec("bitsandbytes") is None  # peft's is_bnb_available() -> False: it imports nothing
    with pytest.raises(ImportError):
        import bitsandbytes  # noqa: F401


def test_with_cuda_or_peft_already_loaded_nothing_is_hidden(fresh_modules, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_setup, "has_cuda", lambda: True)
    hf_setup.skip_bitsandbytes_without_cuda()
    assert "bitsandbytes" not in sys.modules
    monkeypatch.setattr(hf_setup, "has_cuda", lambda: False)
    monkeypatch.setitem(sys.modules, "peft", object())  # peft has already decided whether it uses bitsandbytes
    hf_setup.skip_bitsandbytes_without_cuda()
    assert "bitsandbytes" not in sys.modules


def test_only_the_program_itself_changes_its_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(train_command, "_lighter_start", lambda: calls.append("start"))
    monkeypatch.setattr(train_command, "report_problems", lambda config, resume=False: True)  # stop before training
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({"model": "demo", "train_path": str(tmp_path / "t.jsonl")}))
    assert main(["train", str(config)]) == 2 and calls == []  # called as a function: the host's process
    monkeypatch.setattr(sys, "argv", ["ftui", "train", str(config)])
    assert main() == 2 and calls == ["start"]  # the `ftui train` process
    openai = tmp_path / "openai.yaml"
    openai.write_text(json.dumps({"method": "openai", "train_path": str(tmp_path / "t.jsonl")}))
    monkeypatch.setattr(sys, "argv", ["ftui", "train", str(openai)])
    calls.clear()
    assert main() == 2 and calls == []  # an OpenAI run loads no ML stack: nothing to make lighter


def test_the_collector_is_paused_until_the_checks_are_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # loading torch and the transformers stack for the model check cost ~0.35 CPU-s of collections that freed
    # ~5,000 objects; what the start built is frozen (not scanned) when the collector comes back
    import gc

    seen: list[object] = []
    monkeypatch.setattr(hf_setup, "skip_bitsandbytes_without_cuda", lambda: None)
    monkeypatch.setattr(train_command, "report_problems", lambda config, resume=False: seen.append(gc.isenabled()) or True)
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("freeze"))  # the test process keeps its heap as it is
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({"model": "demo", "train_path": str(tmp_path / "t.jsonl")}))
    monkeypatch.setattr(sys, "argv", ["ftui", "train", str(config)])
    threshold = gc.get_threshold()
    try:
        assert main() == 2
        assert gc.isenabled()
    finally:
        gc.set_threshold(*threshold)
        gc.enable()
    assert seen == [False, "freeze"]
