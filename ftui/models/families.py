"""Tiny random-weight models of the real families our users train, built offline.

The demo model proves the workbench runs; these prove it runs on what people actually
fine-tune. Each is the real transformers architecture (Llama, Qwen2, Qwen3, Mistral,
Gemma 2, Gemma 3, Phi-3) at a toy size, with a tokenizer that carries that family's
special tokens and published chat format (``ftui.models.chat_formats``: no generation
markers, the real end-of-turn token, the real system-prompt handling) and a generation
config whose ``eos_token_id`` lists the end-of-turn token as the released models do.
``base`` is a Llama-architecture base model with no chat template at all.

A model is a few hundred KB and builds in about a second (the byte-level BPE is trained
once on the sample data and shared). Builds are cached under the ftui cache dir, written
to a temporary directory and renamed into place, so tests and benches can share them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui import paths
from ftui.models import chat_formats

BUILD_VERSION = 2  # 2: Qwen2.5's template renders tools
# The family tokenizers' corpus, fixed on its own: the demo model's may grow without changing them.
FAMILY_CORPUS_FILES = ("support_tickets_train.jsonl", "extraction_train.jsonl", "alpaca_small.jsonl",
                       "sharegpt_small.jsonl")
SEED = 4321
VOCAB = 1024  # BPE merges learnt from the sample data; the family's special tokens come on top
BASE_DIMS: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
}


@dataclass(frozen=True)
class Family:
    """One model family as ftui meets it: architecture, tokens and chat format."""

    name: str
    architecture: str  # the transformers class
    config_class: str
    special: dict[str, str | None]  # bos / eos / pad / unk token texts (None: the family has none)
    extra_tokens: tuple[str, ...]  # further special tokens (turn markers)
    end_of_turn: str  # the token an assistant turn ends with
    system_role: str  # "native" | "folded" (into the first user turn) | "refused" | "none" (no template)
    chat_template: str | None
    add_bos: bool = False  # the tokenizer itself prepends bos on encode, as Llama/Mistral/Gemma do
    config_extra: dict[str, Any] = field(default_factory=dict)
    more_stops: tuple[str, ...] = ()  # further stop tokens the released generation_config lists

    @property
    def generation_eos(self) -> list[str]:
        """The stop tokens the released generation_config lists (eos, end-of-turn and the family's others)."""
        out = [t for t in (self.special.get("eos"), self.end_of_turn, *self.more_stops) if t]
        return list(dict.fromkeys(out))


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "llama3", "LlamaForCausalLM", "LlamaConfig",
            {"bos": "<|begin_of_text|>", "eos": "<|eot_id|>", "pad": None},
            ("<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>"),
            "<|eot_id|>", "native", chat_formats.LLAMA3, add_bos=True,
            config_extra={"rope_theta": 500000.0}, more_stops=("<|end_of_text|>", "<|eom_id|>"),
        ),
        Family(
            "qwen2.5", "Qwen2ForCausalLM", "Qwen2Config",
            {"bos": None, "eos": "<|im_end|>", "pad": "<|endoftext|>"},
            ("<|im_start|>",), "<|im_end|>", "native", chat_formats.QWEN25,
            config_extra={"tie_word_embeddings": True}, more_stops=("<|endoftext|>",),
        ),
        Family(
            "qwen3", "Qwen3ForCausalLM", "Qwen3Config",
            {"bos": None, "eos": "<|im_end|>", "pad": "<|endoftext|>"},
            ("<|im_start|>", "<think>", "</think>"), "<|im_end|>", "native", chat_formats.QWEN3,
            config_extra={"head_dim": 16, "tie_word_embeddings": True}, more_stops=("<|endoftext|>",),
        ),
        Family(
            "mistral", "MistralForCausalLM", "MistralConfig",
            {"bos": "<s>", "eos": "</s>", "unk": "<unk>", "pad": None},
            ("[INST]", "[/INST]"), "</s>", "native", chat_formats.MISTRAL, add_bos=True,
        ),
        Family(
            "gemma2", "Gemma2ForCausalLM", "Gemma2Config",
            {"bos": "<bos>", "eos": "<eos>", "pad": "<pad>", "unk": "<unk>"},
            ("<start_of_turn>", "<end_of_turn>"), "<end_of_turn>", "refused", chat_formats.GEMMA2, add_bos=True,
            config_extra={"head_dim": 16, "sliding_window": 512},
        ),
        Family(
            "gemma3", "Gemma3ForCausalLM", "Gemma3TextConfig",
            {"bos": "<bos>", "eos": "<eos>", "pad": "<pad>", "unk": "<unk>"},
            ("<start_of_turn>", "<end_of_turn>"), "<end_of_turn>", "folded", chat_formats.GEMMA3, add_bos=True,
            config_extra={"head_dim": 16, "sliding_window": 512},
        ),
        Family(
            "phi3", "Phi3ForCausalLM", "Phi3Config",
            {"bos": "<s>", "eos": "<|endoftext|>", "pad": "<|endoftext|>", "unk": "<unk>"},
            ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>"), "<|end|>", "native", chat_formats.PHI3,
            config_extra={"sliding_window": None},
        ),
        Family(
            "base", "LlamaForCausalLM", "LlamaConfig",
            {"bos": "<|begin_of_text|>", "eos": "<|end_of_text|>", "pad": None},
            (), "<|end_of_text|>", "none", None, add_bos=True,
            config_extra={"rope_theta": 500000.0},
        ),
    )
}

CHAT_FAMILIES = tuple(name for name, f in FAMILIES.items() if f.chat_template is not None)


def family_dir(name: str) -> Path:
    return paths.cache_dir() / "families" / f"{name}-v{BUILD_VERSION}"


def build_family_model(name: str, out_dir: Path | None = None, force: bool = False) -> Path:
    """Build (or reuse) the tiny ``name`` model and return its directory."""
    if name not in FAMILIES:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    from ftui.models.demo import _file_lock, _replace_dir

    out_dir = Path(out_dir) if out_dir is not None else family_dir(name)
    if not force and _is_built(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(out_dir.parent / f".{out_dir.name}.lock"):
        if not force and _is_built(out_dir):
            return out_dir
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
        try:
            _write(FAMILIES[name], tmp)
            (tmp / "ftui-family.json").write_text(json.dumps({"family": name, "build_version": BUILD_VERSION}))
            _replace_dir(tmp, out_dir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _is_built(out_dir: Path) -> bool:
    try:
        marker = json.loads((out_dir / "ftui-family.json").read_text())
        return marker.get("build_version") == BUILD_VERSION and (out_dir / "model.safetensors").is_file()
    except (OSError, ValueError):
        return False


def _shared_bpe_json() -> str:
    """The byte-level BPE (no special tokens) every family starts from, trained once and cached."""
    cached = paths.cache_dir() / "families" / f"bpe-{VOCAB}-v{BUILD_VERSION}.json"
    try:
        return cached.read_text()
    except OSError:
        pass
    from ftui.models.demo import corpus_texts
    from ftui.models.tokenizer import train_bpe

    text = train_bpe(corpus_texts(FAMILY_CORPUS_FILES), VOCAB, special_tokens=()).to_str()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{id(text)}.tmp")
    tmp.write_text(text)
    tmp.replace(cached)
    return text


def build_tokenizer(family: Family) -> Any:
    """The family's tokenizer: the shared BPE plus its special tokens, bos handling and chat template."""
    from tokenizers import Tokenizer, processors
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_str(_shared_bpe_json())
    tokens = [t for t in (family.special.get("bos"), family.special.get("eos"), family.special.get("pad"),
                          family.special.get("unk"), *family.extra_tokens, family.end_of_turn) if t]
    backend.add_special_tokens(list(dict.fromkeys(tokens)))
    bos = family.special.get("bos")
    if family.add_bos and bos:
        bos_id = backend.token_to_id(bos)
        backend.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)]),
        ])
    kwargs = {k + "_token": v for k, v in family.special.items() if v}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=BASE_DIMS["max_position_embeddings"],
        padding_side="left" if family.name == "base" else "right",
        clean_up_tokenization_spaces=False,
        **kwargs,
    )
    if family.chat_template is not None:
        tokenizer.chat_template = family.chat_template
    return tokenizer


def _write(family: Family, out_dir: Path) -> None:
    import torch
    import transformers
    from transformers import GenerationConfig

    tokenizer = build_tokenizer(family)
    ids = {k: tokenizer.convert_tokens_to_ids(v) if v else None for k, v in family.special.items()}
    eos_ids = [tokenizer.convert_tokens_to_ids(t) for t in family.generation_eos]
    config_cls = getattr(transformers, family.config_class)
    dims = {**BASE_DIMS, **family.config_extra}
    config = config_cls(
        vocab_size=len(tokenizer),
        bos_token_id=ids.get("bos"),
        eos_token_id=eos_ids if len(eos_ids) > 1 else eos_ids[0],
        pad_token_id=ids.get("pad"),
        dtype="float32",
        **dims,
    )
    model_cls = getattr(transformers, family.architecture)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = model_cls(config)
    model.generation_config = GenerationConfig(
        bos_token_id=ids.get("bos"),
        eos_token_id=eos_ids,
        pad_token_id=ids.get("pad"),
        do_sample=False,
        max_new_tokens=64,
    )
    from ftui.models.demo import save_quietly

    save_quietly(model, tokenizer, out_dir)
