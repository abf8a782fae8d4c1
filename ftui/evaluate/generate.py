"""Batched generation for every system, cached and resumable.

Local models generate in batches with LEFT padding (a decoder continues from the last
position, so padding must sit before the prompt) and greedy decoding by default; a
batch stops each row at end-of-turn (the chat template's eos, e.g. ``<|im_end|>``).
Prompts are sorted by length before batching so little compute goes to padding.

Outputs are appended, one JSON line per item, to
``<cache_dir>/generations/<test-hash>/<system-key>-<config-key>[-<examples-key>].jsonl`` and
flushed per batch. The keys are content hashes (test file bytes, system files, generation
settings -- the batch size too when sampling --, a few-shot system's drawn examples, each
item's prompt), so a rerun after a crash or a cancel skips what is done, and a
changed adapter or setting never reuses stale outputs. Meant to run in a worker thread:
``progress(done, total)`` is called after each batch and ``cancel`` (a
``threading.Event``) is checked between batches.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Event
from typing import Any, Protocol

from ftui.evaluate.items import EvalItem, file_hash
from ftui.evaluate.normalize import END_OF_TURN_MARKERS, normalize_output
from ftui.evaluate.systems import SystemSpec, fewshot_examples, fewshot_messages, openai_api_key
from ftui.models import hub_kernels

Progress = Callable[[int, int], None]


class GenerationError(RuntimeError):
    """Generation cannot run (model missing, endpoint down); the message says what to fix."""


@dataclass(frozen=True)
class GenerationConfig:
    max_new_tokens: int = 64
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    batch_size: int = 16
    seed: int = 0

    def key(self) -> str:
        """Cache key part. Greedy outputs do not depend on the batching, so ``batch_size`` is left out;
        sampled ones do (the seed is set once per batch, so rows draw from a batch-shaped stream)."""
        d = asdict(self)
        if self.temperature <= 0:
            d.pop("batch_size")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class GenerationResult:
    system: str
    outputs: dict[str, str]  # item id -> normalised output
    cache_path: Path
    generated: int = 0  # produced in this call
    cached: int = 0  # reused from the cache
    cancelled: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


class Generator(Protocol):
    def generate_batch(self, conversations: Sequence[list[dict[str, str]]], config: GenerationConfig) -> list[str]:
        """Raw outputs, already normalised (``normalize_output``, the same pass for every system)."""
        ...


# --- cache --------------------------------------------------------------------------------------


def cache_path(spec: SystemSpec, config: GenerationConfig, test_key: str,
               examples: Sequence[tuple[str, str]] | None = None) -> Path:
    """``examples`` (a few-shot system's drawn examples) add their own hash: which examples are drawn
    depends on the item set (test prompts are excluded), not only on the training file."""
    from ftui import paths

    name = f"{spec.key()}-{config.key()}"
    if examples is not None:
        name += f"-{examples_key(examples)}"
    return paths.cache_dir() / "generations" / test_key / f"{name}.jsonl"


def examples_key(examples: Sequence[tuple[str, str]]) -> str:
    """Content key of few-shot examples (order matters: it is the order they are shown in)."""
    return hashlib.sha256(json.dumps([list(e) for e in examples], ensure_ascii=False).encode()).hexdigest()[:12]


def items_key(items: Sequence[EvalItem]) -> str:
    """Content key of a test set given as items (when there is no file to hash)."""
    h = hashlib.sha256()
    for it in items:
        h.update(f"{it.id}\0{it.key()}\n".encode())
    return h.hexdigest()[:16]


def read_cache(path: Path) -> tuple[dict[str, dict], list[str]]:
    """Cached records by prompt key; a torn or bad line is skipped with a warning."""
    records: dict[str, dict] = {}
    warnings: list[str] = []
    if not path.exists():
        return records, warnings
    for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            records[rec["key"]] = rec
        except (ValueError, KeyError, TypeError):
            warnings.append(f"{path.name} line {number}: unreadable cached output skipped (will be regenerated)")
    return records, warnings


def _append_records(path: Path, records: Sequence[dict]) -> None:
    from ftui.private import private_dir

    private_dir(path.parent)  # the generations cache holds outputs on the user's test set: owner only
    with open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as fh:
        if fh.tell() > 0:
            with path.open("rb") as rf:
                rf.seek(-1, os.SEEK_END)
                if rf.read(1) != b"\n":
                    fh.write(b"\n")  # end a torn line left by a crash
        for rec in records:
            fh.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


# --- local models ---------------------------------------------------------------------------------


FOUR_BIT_FIX = "drop --load-4bit (load_4bit) to evaluate in bf16/fp32, or run on a CUDA machine with bitsandbytes"


def four_bit_problem(device: str = "auto") -> str | None:
    """Why a 4-bit (bitsandbytes NF4) load cannot run here, or None. Loads no weights."""
    import importlib.util

    import torch

    if str(device).strip().lower() == "cpu" or not torch.cuda.is_available():
        return f"a 4-bit load needs an NVIDIA GPU with CUDA, and none is in use here; {FOUR_BIT_FIX}"
    if importlib.util.find_spec("bitsandbytes") is None:
        return f"a 4-bit load needs the bitsandbytes package (pip install bitsandbytes); {FOUR_BIT_FIX}"
    return None


def resolve_device(value: str | None) -> str:
    """``auto`` / ``cpu`` / ``cuda:N`` / ``N`` -> the one device to load on: ``cuda:N`` or ``cpu``."""
    import torch

    from ftui.train.devices import DEVICE_HELP, DeviceError, parse_device

    try:
        kind, index = parse_device(value or "auto")
    except DeviceError as exc:
        raise GenerationError(str(exc)) from None
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if kind == "cpu" or (kind == "auto" and visible == 0):
        return "cpu"
    if visible == 0:
        raise GenerationError(f"device '{value}' asks for a GPU and none is visible here; use {DEVICE_HELP}")
    index = 0 if index is None else index
    if index >= visible:
        raise GenerationError(f"cuda:{index} does not exist ({visible} GPU(s) visible); use {DEVICE_HELP}")
    return f"cuda:{index}"


def stop_token_ids(tokenizer: Any, generation_config: Any = None) -> list[int]:
    """Every id a reply may end with: the model's ``generation_config.eos_token_id`` (an int or a list),
    the tokenizer's eos, and the chat template's end-of-turn token when it is a special token
    (``<|eot_id|>``, ``<|im_end|>``, ``<end_of_turn>``, ``<|end|>``, ``</s>``, ...). A family whose
    generation_config lists only ``<|end_of_text|>`` would otherwise ramble past ``<|eot_id|>``."""
    ids: list[int] = []

    def add(value: Any) -> None:
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None and int(item) >= 0 and int(item) not in ids:
                ids.append(int(item))

    add(getattr(generation_config, "eos_token_id", None))
    add(tokenizer.eos_token_id)
    template = getattr(tokenizer, "chat_template", None) or ""
    if isinstance(template, dict):  # several named templates
        template = "\n".join(str(t) for t in template.values())
    special = set(getattr(tokenizer, "all_special_tokens", []) or [])
    special |= {str(t) for t in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).values()
                if getattr(t, "special", False)}
    for marker in END_OF_TURN_MARKERS:
        if marker in template and marker in special:
            add(tokenizer.convert_tokens_to_ids(marker))
    return ids


class LocalGenerator:
    """A transformers causal LM (+ optional PEFT adapter) generating in left-padded batches.

    Loaded with ``device_map`` straight onto one device (``cuda:N``, or the CPU without a GPU):
    an 8B model is never staged in host RAM first. ``spec.load_4bit`` loads the base in NF4
    (bitsandbytes, CUDA only) so a 70B fits one 80 GB card for evaluation.
    """

    def __init__(self, spec: SystemSpec, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from ftui.models.source import ModelSourceError, resolve_model

        try:
            model_path = resolve_model(spec.model)
        except ModelSourceError as exc:
            raise GenerationError(str(exc)) from None
        device = resolve_device(device if device is not None else spec.device)
        cuda = device.startswith("cuda")
        if spec.load_4bit:
            problem = four_bit_problem(device)
            if problem:
                raise GenerationError(problem)
        if cuda:
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
        kwargs: dict[str, Any] = {"dtype": dtype, "device_map": {"": device}, "trust_remote_code": False}
        if spec.load_4bit:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
        tok_source = spec.adapter if spec.adapter and (Path(spec.adapter) / "tokenizer_config.json").exists() else model_path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(tok_source, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs, **hub_kernels.load_kwargs())
        except (OSError, ValueError) as exc:
            raise GenerationError(f"cannot load model {spec.model}: {str(exc).splitlines()[0][:200]}") from None
        if spec.adapter:
            from peft import PeftModel

            try:
                model = PeftModel.from_pretrained(model, spec.adapter)  # adapters land on their layers' device
            except (OSError, ValueError) as exc:
                raise GenerationError(f"cannot load adapter {spec.adapter}: {str(exc).splitlines()[0][:200]}") from None
        self.model = model.eval()
        self.device = device
        self.load_4bit = spec.load_4bit
        self.tokenizer.padding_side = "left"  # a decoder continues from the last position: pads go first
        self.eos_ids = stop_token_ids(self.tokenizer, getattr(model, "generation_config", None))
        if self.tokenizer.pad_token_id is None:
            if self.tokenizer.eos_token is not None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
            elif self.eos_ids:
                self.tokenizer.pad_token = self.tokenizer.convert_ids_to_tokens(self.eos_ids[0])
        self.special_tokens = list(getattr(self.tokenizer, "all_special_tokens", []))

    def _end_of_turn_ids(self) -> list[int]:
        return stop_token_ids(self.tokenizer, getattr(self.model, "generation_config", None))

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def prompt_text(self, messages: list[dict[str, str]]) -> str:
        """The prompt a model trained by ftui saw before each reply (``ftui.train.chat_template.render_prompt``):
        the model's own chat template with the assistant header (``add_generation_prompt=True``), the
        system prompt folded where the template refuses one (Gemma 2), any lead-in the template writes
        before a reply (Qwen3's empty think block); a base model without a template gets the trainer's
        plain-text format, bos included. Encoded with ``add_special_tokens=False``: it is all there."""
        from ftui.train.chat_template import render_prompt

        return render_prompt(self.tokenizer, messages)

    def generate_batch(self, conversations: Sequence[list[dict[str, str]]], config: GenerationConfig) -> list[str]:
        import torch

        texts = [self.prompt_text(m) for m in conversations]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)  # bos is in the text
        enc = enc.to(self.model.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "eos_token_id": self.eos_ids or None,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if config.temperature > 0:
            torch.manual_seed(config.seed)
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:]
        decoded = self.tokenizer.batch_decode(new, skip_special_tokens=False)
        # the same normaliser, with no tokenizer-specific list, as API outputs get (blinding: symmetric)
        return [normalize_output(d) for d in decoded]


# --- OpenAI-compatible endpoints ---------------------------------------------------------------------


class OpenAIGenerator:
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, ...), a few requests at a time."""

    def __init__(self, spec: SystemSpec, concurrency: int = 4) -> None:
        import openai

        self.client = openai.OpenAI(base_url=spec.base_url, api_key=openai_api_key(spec.base_url), max_retries=2,
                                    timeout=120.0)
        self.model = spec.model
        self.concurrency = concurrency

    def _one(self, messages: list[dict[str, str]], config: GenerationConfig) -> str:
        import openai

        try:
            resp = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=config.max_new_tokens,  # type: ignore[arg-type]
                temperature=config.temperature, top_p=config.top_p, seed=config.seed,
            )
        except openai.APIError as exc:
            from ftui.secrets import scrub_secrets

            raise GenerationError(f"endpoint error for model {self.model}: {scrub_secrets(str(exc))[:200]}") from None
        return normalize_output(resp.choices[0].message.content or "")

    def generate_batch(self, conversations: Sequence[list[dict[str, str]]], config: GenerationConfig) -> list[str]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda m: self._one(m, config), conversations))


def load_generator(spec: SystemSpec) -> Generator:
    """The generator for a system: local model (+adapter) or an OpenAI-compatible endpoint."""
    return OpenAIGenerator(spec) if spec.kind == "openai" else LocalGenerator(spec)


# --- the driver ---------------------------------------------------------------------------------


def conversation_for(spec: SystemSpec, item: EvalItem, examples: list[tuple[str, str]] | None) -> list[dict[str, str]]:
    if spec.kind == "fewshot" and examples:
        return fewshot_messages(item.messages, examples)
    return [dict(m) for m in item.messages]


def generate(
    spec: SystemSpec,
    items: Sequence[EvalItem],
    config: GenerationConfig | None = None,
    *,
    test_path: str | Path | None = None,
    generator: Generator | None = None,
    progress: Progress | None = None,
    cancel: Event | None = None,
    use_cache: bool = True,
) -> GenerationResult:
    """Generate ``spec``'s outputs for ``items``; cached items are not regenerated.

    ``test_path`` (the file the items came from) keys the cache by its bytes; without it the
    items' content is the key. ``generator`` reuses an already loaded model (it is loaded
    lazily, only if something is left to generate).
    """
    config = config or GenerationConfig()
    started = time.perf_counter()
    test_key = file_hash(test_path) if test_path is not None else items_key(items)
    examples = None
    if spec.kind == "fewshot":
        examples = fewshot_examples(spec, exclude={it.prompt_text for it in items})
    path = cache_path(spec, config, test_key, examples)
    records, warnings = read_cache(path) if use_cache else ({}, [])
    result = GenerationResult(spec.name, {}, path, warnings=warnings)
    todo: list[EvalItem] = []
    for it in items:
        rec = records.get(it.key())
        if rec is not None:
            result.outputs[it.id] = rec["output"]
            result.cached += 1
        else:
            todo.append(it)
    total = len(items)
    if progress:
        progress(result.cached, total)
    if not todo:
        result.seconds = time.perf_counter() - started
        return result
    if use_cache:
        from ftui.private import private_dir, write_private_text

        private_dir(path.parent)
        meta = path.with_suffix(".meta.json")
        if not meta.exists():
            write_private_text(meta, json.dumps({"system": asdict(spec), "config": asdict(config), "test": str(test_path or ""),
                                                 "fewshot_examples": examples}, indent=1, ensure_ascii=False))
    gen = generator or load_generator(spec)
    convs = {it.id: conversation_for(spec, it, examples) for it in todo}
    # length-sorted batches waste less compute on padding; order does not change greedy outputs
    order = sorted(todo, key=lambda it: sum(len(m["content"]) for m in convs[it.id]))
    size = max(1, config.batch_size)
    for start in range(0, len(order), size):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        batch = order[start:start + size]
        outs = gen.generate_batch([convs[it.id] for it in batch], config)
        recs = []
        for it, out in zip(batch, outs, strict=True):
            result.outputs[it.id] = out
            recs.append({"key": it.key(), "item_id": it.id, "output": out})
        if use_cache:
            _append_records(path, recs)
        result.generated += len(batch)
        if progress:
            progress(result.cached + result.generated, total)
    # return outputs in the items' order
    result.outputs = {it.id: result.outputs[it.id] for it in items if it.id in result.outputs}
    result.seconds = time.perf_counter() - started
    return result
