"""The one model resolver (ftui.models.source): demo, local paths, Hub ids, config.json lookup.

Nothing here reaches the network: the Hub probe and the cache are replaced, HF_HUB_OFFLINE is set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.models import hub
from ftui.models.source import ModelSourceError, config_file, is_hub_id, resolve_model


def _hub_out_of_reach(monkeypatch: pytest.MonkeyPatch, cached: dict[str, Path]) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "unreachable_reason", lambda timeout=3.0: "cannot reach huggingface.co: refused")
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo: cached.get(repo))


def test_hub_ids_and_paths_are_told_apart() -> None:
    assert is_hub_id("Qwen/Qwen2.5-0.5B") and is_hub_id("org/name")
    assert not any(is_hub_id(x) for x in ("./models/demo", "/abs/path", "~/m", "demo", "a/b/c", "not a model"))


def test_local_paths_and_unknown_names_pass_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub_out_of_reach(monkeypatch, {})
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("./missing/dir") == "./missing/dir"  # from_pretrained names a missing local path itself
    assert resolve_model("org/name", hub_policy="skip") == "org/name"


def test_a_hub_id_becomes_its_cached_snapshot_when_the_hub_is_out_of_reach(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub_out_of_reach(monkeypatch, {"org/cached": tmp_path})
    assert resolve_model("org/cached") == str(tmp_path)
    with pytest.raises(ModelSourceError) as err:
        resolve_model("org/missing")
    message = str(err.value)
    assert "\n" not in message and "cannot be reached" in message and "hf download org/missing" in message


def test_cache_policy_wants_a_local_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "cached_snapshot", lambda repo: tmp_path if repo == "org/cached" else None)
    assert resolve_model("org/cached", hub_policy="cache") == str(tmp_path)
    with pytest.raises(ModelSourceError, match="hf download org/missing"):
        resolve_model("org/missing", hub_policy="cache")


def test_config_file_of_a_directory_a_file_and_a_cached_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama"}))
    assert config_file(str(tmp_path)) == config
    assert config_file(str(config)) == config
    monkeypatch.setattr(hub, "cached_config", lambda repo: config if repo == "org/cached" else None)
    assert config_file("org/cached") == config
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelSourceError, match="no config.json"):
        config_file(str(empty))


def test_config_file_offline_names_the_fix_and_fetches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "cached_config", lambda repo: None)
    monkeypatch.setattr(hub, "download_config", lambda repo: pytest.fail("downloaded at test time"))
    with pytest.raises(ModelSourceError) as err:
        config_file("org/not-cached")
    assert "HF_HUB_OFFLINE" in str(err.value) and "hf download org/not-cached config.json" in str(err.value)
    with pytest.raises(ModelSourceError, match="not 'demo', an existing local path"):
        config_file("not a model")
