"""Turn "what model?" into an Architecture: a size preset, a local config.json, or a Hub id.

Only ``config.json`` is read, never weights, so an estimate for a 70B model takes
milliseconds. Where that config.json comes from (demo, local directory, Hub cache, Hub) is
``ftui.models.source.config_file``; this module only reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftui.advisor.architectures import PRESET_SIZES, Architecture, find_preset
from ftui.advisor.errors import AdvisorError

_ALIASES = {
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "num_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "intermediate_size": ("intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size"),
}
_UNGATED = {"gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "gpt_bigcode", "phi"}


def _first(config: dict[str, Any], key: str) -> Any:
    for alias in _ALIASES[key]:
        if config.get(alias) is not None:
            return config[alias]
    return None


def architecture_from_config(config: dict[str, Any], name: str, source: str) -> Architecture:
    """Build an Architecture from a parsed config.json; AdvisorError names any missing field."""
    if isinstance(config.get("text_config"), dict):  # multimodal wrappers keep the LM here
        config = {**config, **config["text_config"]}
    model_type = str(config.get("model_type", ""))
    values = {key: _first(config, key) for key in _ALIASES}
    gated = model_type not in _UNGATED
    if values["intermediate_size"] is None and values["hidden_size"] and not gated:
        values["intermediate_size"] = 4 * int(values["hidden_size"])
    moe_size = config.get("moe_intermediate_size")
    experts = int(config.get("num_local_experts") or config.get("num_experts") or config.get("n_routed_experts") or 1)
    if experts > 1 and moe_size:
        values["intermediate_size"] = moe_size
    missing = [_ALIASES[k][0] for k, v in values.items() if v is None]
    if missing:
        raise AdvisorError(
            f"{source} lacks {', '.join(missing)}, needed for a memory estimate. "
            f"Use a size preset instead (--model {'/'.join(PRESET_SIZES)}) or add the field(s) to config.json."
        )
    try:
        ints = {k: int(v) for k, v in values.items()}
        kv = int(config.get("num_key_value_heads") or config.get("num_kv_heads") or ints["num_heads"])
        head_dim = config.get("head_dim")
        head_dim = int(head_dim) if head_dim else None
    except (TypeError, ValueError):
        raise AdvisorError(f"{source} has a non-numeric size field; fix config.json or use a size preset.") from None
    bad = [k for k, v in ints.items() if v <= 0]
    if bad or kv <= 0:
        raise AdvisorError(f"{source}: {', '.join(bad) or 'num_key_value_heads'} must be above 0; fix config.json.")
    tie_default = model_type in _UNGATED
    return Architecture(
        name=name,
        hidden_size=ints["hidden_size"],
        intermediate_size=ints["intermediate_size"],
        num_layers=ints["num_layers"],
        num_heads=ints["num_heads"],
        num_kv_heads=kv,
        vocab_size=ints["vocab_size"],
        tie_embeddings=bool(config.get("tie_word_embeddings", tie_default)),
        head_dim=head_dim,
        qkv_bias=bool(config.get("attention_bias") or config.get("qkv_bias") or model_type.startswith("qwen2")),
        gated_mlp=gated,
        num_experts=experts,
        experts_per_token=int(config.get("num_experts_per_tok") or 1) if experts > 1 else 1,
        source=source,
    )


def read_config_file(path: Path, name: str | None = None) -> Architecture:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AdvisorError(f"cannot read {path}: {exc.strerror or exc}. Check the path and its permissions.") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdvisorError(f"{path} is not valid JSON (line {exc.lineno}): fix or re-download config.json.") from None
    if not isinstance(config, dict):
        raise AdvisorError(f"{path} is not a JSON object; a model's config.json is one.")
    label = name or path.parent.name or str(path)
    return architecture_from_config(config, label, str(path))


def architecture_for(model: str) -> Architecture:
    """A size preset ("8B") or any model ``ftui.models.source`` can locate -> its Architecture."""
    model = (model or "").strip()
    if not model:
        raise AdvisorError(f"no model given: pass a size preset ({', '.join(PRESET_SIZES)}), a local path or a Hub id.")
    preset = find_preset(model)
    if preset is not None:
        return preset
    from ftui.models.source import ModelSourceError, config_file, is_demo

    try:
        config = config_file(model)
    except ModelSourceError as exc:
        raise AdvisorError(f"{exc} Or give a size preset ({', '.join(PRESET_SIZES)}).") from None
    path = Path(model).expanduser()
    if is_demo(model):
        name: str | None = "demo model"
    elif path.is_dir():
        name = path.name
    elif path.is_file():
        name = None  # read_config_file names it after its directory
    else:
        name = model  # a Hub id
    return read_config_file(config, name)
