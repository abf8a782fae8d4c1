"""Reading a model's shape from config.json, presets, and the errors for bad models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.advisor.architectures import PRESETS
from ftui.advisor.errors import AdvisorError
from ftui.advisor.model_config import architecture_for

LLAMA_8B_CONFIG = {
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False,
}


def _model_dir(tmp_path: Path, config: dict) -> Path:
    d = tmp_path / "my-model"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(config))
    return d


def test_presets_by_size_and_name() -> None:
    assert architecture_for("8B").name == "Llama-3.1-8B"
    assert architecture_for("8b") is PRESETS["8B"]
    assert architecture_for("Llama-2-13B") is PRESETS["13B"]
    assert architecture_for("0.5B").tie_embeddings


def test_local_dir_matches_the_preset_param_count(tmp_path: Path) -> None:
    arch = architecture_for(str(_model_dir(tmp_path, LLAMA_8B_CONFIG)))
    assert arch.n_params == PRESETS["8B"].n_params
    assert arch.name == "my-model"


def test_config_json_path_and_multimodal_text_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llava", "text_config": LLAMA_8B_CONFIG}))
    assert architecture_for(str(path)).n_params == PRESETS["8B"].n_params


def test_moe_counts_every_expert(tmp_path: Path) -> None:
    moe = {**LLAMA_8B_CONFIG, "num_local_experts": 8, "num_experts_per_tok": 2}
    arch = architecture_for(str(_model_dir(tmp_path, moe)))
    assert arch.num_experts == 8 and arch.experts_per_token == 2
    assert arch.n_params > 5 * PRESETS["8B"].n_params


def test_missing_fields_named(tmp_path: Path) -> None:
    bad = {k: v for k, v in LLAMA_8B_CONFIG.items() if k not in ("hidden_size", "vocab_size")}
    with pytest.raises(AdvisorError) as err:
        architecture_for(str(_model_dir(tmp_path, bad)))
    msg = str(err.value)
    assert "hidden_size" in msg and "vocab_size" in msg and "preset" in msg


def test_not_json_and_no_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(AdvisorError, match="not valid JSON"):
        architecture_for(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AdvisorError, match="no config.json"):
        architecture_for(str(empty))


def test_unknown_hub_id_offline_names_hf_hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(AdvisorError) as err:
        architecture_for("some-org/not-a-cached-model")
    assert "HF_HUB_OFFLINE" in str(err.value) and "size preset" in str(err.value)


def test_cached_hub_id_is_read_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_8B_CONFIG))
    from ftui.models import hub

    monkeypatch.setattr(hub, "cached_config", lambda repo: path if repo == "org/cached" else None)
    assert architecture_for("org/cached").n_params == PRESETS["8B"].n_params


@pytest.mark.parametrize("bad", ["", "   ", "not a model", "./missing-dir"])
def test_garbage_model_names(bad: str) -> None:
    with pytest.raises(AdvisorError):
        architecture_for(bad)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_unknown_hub_id_with_the_hub_out_of_reach_fails_fast_in_one_line(tmp_path: Path) -> None:
    """No HF_HUB_OFFLINE, no network: one line with the fix in well under the 23 s of hub retries."""
    import os
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}", HF_HOME=str(tmp_path / "hf"))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "ftui", "plan", "--model", "some-org/not-a-cached-model", "--method", "lora"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be reached" in lines[0] and "hf download" in lines[0], result.stderr
    print(f"an unreachable Hub answered in {elapsed:.1f} s")  # no retry loop: the subprocess timeout (60 s) bounds it


def test_training_model_info_uses_the_cached_snapshot_when_the_hub_is_out_of_reach(
    monkeypatch: pytest.MonkeyPatch, demo_model: Path
) -> None:
    from ftui.models import hub
    from ftui.models import info as modelinfo

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "unreachable_reason", lambda timeout=3.0: "cannot reach huggingface.co: refused")
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo: demo_model if repo == "org/cached" else None)
    modelinfo.inspect_model.cache_clear()
    assert modelinfo.inspect_model("org/cached").path == str(demo_model)
    with pytest.raises(modelinfo.ModelInfoError) as err:
        modelinfo.inspect_model("org/not-cached")
    assert "cannot be reached" in str(err.value) and "hf download org/not-cached" in str(err.value)
    modelinfo.inspect_model.cache_clear()
