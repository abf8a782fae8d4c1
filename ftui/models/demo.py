"""The built-in demo model: a tiny Llama that replies like a generic assistant, built offline.

It exists so the whole workbench (plan, train, evaluate) runs offline on a laptop CPU in
seconds, with the exact code paths a real Hub model takes: ``from_pretrained`` loading,
safetensors, a chat template with generation markers, LoRA targets named like Llama's.
Its weights start random and are then trained for a few seconds on generic replies we wrote
(``demo_pretrain``), so the base model answers fluently but off-task and a fine-tune has
something real to beat.

Built deterministically (fixed seed, fixed corpus) into ``paths.demo_model_dir()``,
written to a temporary directory first and renamed into place, so a crash mid-build
never leaves a half model behind. ``ftui-demo.json`` records the recipe; when the recipe
or the corpus changes, or a file is missing or truncated, the next ``ensure_demo_model``
rebuilds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ftui import paths
from ftui.models.demo_pretrain import PRETRAIN

DEMO_NAME = "demo"
MARKER_FILE = "ftui-demo.json"
BUILD_VERSION = 3  # 2: the base is pretrained on generic replies; 3: with its embeddings frozen, from gain 8
SEED = 1234
REQUIRED_FILES = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                  "tokenizer_config.json", "chat_template.jinja")
# Train files only: the test splits stay unseen even by the tokenizer.
CORPUS_FILES = ("support_tickets_train.jsonl", "extraction_train.jsonl", "alpaca_small.jsonl",
                "sharegpt_small.jsonl", "general_replies.jsonl")
# Used when sample_data/ is not shipped (e.g. a wheel install): still deterministic, still byte-level.
FALLBACK_CORPUS = (
    "system user assistant billing technical account feature_request other "
    "You are a helpful assistant. Reply with one label. The quick brown fox jumps over the lazy dog. "
    "Hello, I need help with my account, my invoice and a bug in the app. Thanks, regards."
)

RECIPE: dict[str, Any] = {
    "architecture": "LlamaForCausalLM",
    "hidden_size": 128,
    "intermediate_size": 352,
    # 2, not 4: in a 60 s CPU LoRA run on the ticket data 4 layers were slower per step and
    # unreliable across seeds (0.46-0.80 test accuracy) where 2 gave 0.75-0.83.
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
    "vocab_size": 3072,
    # Initial gain of the final RMSNorm: 8.0 gives the random (std 0.02), tied embeddings a trained LM's
    # logit scale. The pretraining keeps the embeddings frozen and from gain 1.0 it never got there
    # (reply loss 3.9, flat logits, and LoRA stuck at loss 4.8); from 8.0 it reaches 0.02 (sample_data/README.md).
    "final_norm_scale": 8.0,
    "seed": SEED,
    "pretrain": PRETRAIN,
}


def corpus_texts(files: tuple[str, ...] = CORPUS_FILES) -> list[str]:
    """The tokenizer's training text: every string in the sample-data train files, in file order."""
    texts: list[str] = []
    for name in files:
        path = paths.sample_data(name)
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    texts.extend(_strings(json.loads(line)))
                except ValueError:  # blank or hand-mangled line: the tokenizer can do without it
                    continue
    if not texts:
        texts = [FALLBACK_CORPUS]
    # Role names appear once per turn in the rendered chat; repeat them so they become single tokens.
    return texts + ["system\n", "user\n", "assistant\n"] * 16


def _strings(value: Any) -> list[str]:
    """All string leaves of a JSON value except role/speaker names (those are added once)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("role", "from") for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _fingerprint(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _expected_marker(texts: list[str]) -> dict[str, Any]:
    return {"build_version": BUILD_VERSION, "recipe": RECIPE, "corpus": _fingerprint(texts)}


def build_demo_model(out_dir: Path | None = None, force: bool = False) -> Path:
    """Build the demo model into ``out_dir`` (default: the demo-model cache dir) and return it.

    Without ``force`` an intact model with the current recipe is reused as is. Raises
    ``paths.DirectoryError`` (message says the fix) when the directory cannot be written.
    """
    out_dir = Path(out_dir) if out_dir is not None else paths.demo_model_dir()
    texts = corpus_texts()
    expected = _expected_marker(texts)
    if not force and _is_intact(out_dir, expected):
        return out_dir
    paths.ensure_writable_dir(out_dir.parent, "demo model", "FTUI_DEMO_MODEL")
    with _BUILD_LOCK, _file_lock(out_dir.parent / f".{out_dir.name}.lock"):
        # Someone else (a thread, another ftui) may have finished the same build while we waited.
        if not force and _is_intact(out_dir, expected):
            return out_dir
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
        try:
            _write_model(tmp, texts)
            sizes = {name: (tmp / name).stat().st_size for name in REQUIRED_FILES}
            marker = json.dumps({**expected, "sizes": sizes}, indent=2, sort_keys=True) + "\n"
            (tmp / MARKER_FILE).write_text(marker)
            _replace_dir(tmp, out_dir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


_BUILD_LOCK = threading.Lock()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise builds across processes where POSIX locks exist; elsewhere the thread lock has to do."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_built(out_dir: Path | None = None) -> bool:
    """True when ``out_dir`` (default: the cache dir) holds an intact model of the current recipe."""
    out_dir = Path(out_dir) if out_dir is not None else paths.demo_model_dir()
    return _is_intact(out_dir, _expected_marker(corpus_texts()))


def ensure_demo_model() -> Path:
    """The demo model directory, built first if it is missing, broken or from an older recipe."""
    return build_demo_model(paths.demo_model_dir(), force=False)


def _is_intact(out_dir: Path, expected: dict[str, Any]) -> bool:
    """Cheap check (no torch): marker matches the recipe, every file present with its recorded size,
    JSON files parse and the safetensors header is readable."""
    try:
        marker = json.loads((out_dir / MARKER_FILE).read_text())
        if {k: marker.get(k) for k in expected} != json.loads(json.dumps(expected)):
            return False
        sizes = marker.get("sizes") or {}
        for name in REQUIRED_FILES:
            if (out_dir / name).stat().st_size != sizes.get(name):
                return False
        for name in ("config.json", "generation_config.json", "tokenizer_config.json"):
            json.loads((out_dir / name).read_text())
        from safetensors import safe_open

        with safe_open(str(out_dir / "model.safetensors"), framework="np") as weights:
            return bool(list(weights.keys()))
    except Exception:  # any damage at all (unreadable, unparsable, wrong types) means: rebuild
        return False


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an old/broken ``target``: a reader sees the old
    directory, briefly none, or the complete new one, never a partial one."""
    if target.exists() or target.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, trash / "model")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.replace(new, target)
    except OSError:
        # Another process won the race and put a fresh model there; ours is discarded by the caller.
        if not target.is_dir():
            raise


def _write_model(out_dir: Path, texts: list[str]) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    from ftui.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(texts, vocab_size=RECIPE["vocab_size"],
                                model_max_length=RECIPE["max_position_embeddings"])
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=RECIPE["hidden_size"],
        intermediate_size=RECIPE["intermediate_size"],
        num_hidden_layers=RECIPE["num_hidden_layers"],
        num_attention_heads=RECIPE["num_attention_heads"],
        num_key_value_heads=RECIPE["num_key_value_heads"],
        max_position_embeddings=RECIPE["max_position_embeddings"],
        tie_word_embeddings=RECIPE["tie_word_embeddings"],
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RECIPE["seed"])
        model = LlamaForCausalLM(config)
        with torch.no_grad():
            model.model.norm.weight.fill_(RECIPE["final_norm_scale"])
        from ftui.models.demo_pretrain import pretrain

        pretrain(model, tokenizer)  # generic, fluent replies: the "base" a fine-tune is compared with
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=128,
    )
    save_quietly(model, tokenizer, out_dir)


def save_quietly(model: Any, tokenizer: Any, out_dir: Path) -> None:
    """``save_pretrained`` both, without transformers' progress bars (noise in the CLI and the TUI log for a tiny model)."""
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
