"""Merge a LoRA adapter into its base without holding the whole base in RAM.

``merge_and_unload`` needs the base model loaded in full: a 70B base in bf16 is ~140 GB of
host memory, more than most GPU boxes have. So a finished run is merged one of two ways:

- **on the GPU** when the base fits in its free memory (``device_map`` straight onto the
  device, PEFT's own ``merge_and_unload``, ``save_pretrained``): fast, and host RAM holds
  one tensor at a time while the shards are written;
- **shard by shard** otherwise: for each safetensors shard of the base, load that shard's
  tensors, add each LoRA delta ``W += (lora_alpha / r) * B @ A`` (``alpha / sqrt(r)`` with
  rsLoRA; transposed for ``fan_in_fan_out`` and for embeddings, as PEFT does; computed in
  fp32, stored in the shard's own dtype), write the merged shard under the same name, then
  copy the index, config and tokenizer. Peak host memory is about one shard plus the adapter.

The sharded path reads PEFT's saved key names (``base_model.model.<module>.lora_A.weight``,
``lora_embedding_A``, whole modules saved by ``modules_to_save`` / ``save_embedding_layers``)
and refuses, with a message, anything it does not know how to merge exactly (DoRA, other
PEFT methods, a key it cannot place): a wrong merge must never be written silently.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADAPTER_PREFIX = "base_model.model."
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack")
INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"
# GPU merge: the base must fit in free device memory with this much to spare (merge temporaries, CUDA context)
GPU_MARGIN = 1.15
GPU_SPARE_BYTES = 2 << 30


class MergeError(RuntimeError):
    """A merge cannot be done (or done exactly) this way; the message says why and what to do."""


@dataclass
class LoraDelta:
    """One module's low-rank update, as PEFT would merge it."""

    a_key: str
    b_key: str
    scale: float
    transpose: bool  # fan_in_fan_out layers and embeddings store the weight as (in, out)
    bias_key: str | None = None  # lora_bias=True: B's bias is added to the base bias


@dataclass
class MergePlan:
    deltas: dict[str, LoraDelta]  # base weight key -> delta
    replacements: dict[str, str]  # base key -> adapter key (modules_to_save, saved embedding layers)


@dataclass
class MergeReport:
    path: str  # "gpu" or "sharded"
    out_dir: str
    shards: int = 0
    modules: int = 0
    replaced: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.path == "gpu":
            return f"merged on the GPU in {self.seconds:.0f} s into {self.out_dir}"
        if self.path == "in-memory":
            return f"merged in host RAM ({'; '.join(self.notes)}) in {self.seconds:.0f} s into {self.out_dir}"
        return (f"merged {self.modules} LoRA modules shard by shard ({self.shards} shard(s), one in memory at a time) "
                f"in {self.seconds:.0f} s into {self.out_dir}")


# --- the plan: which base tensors change, and how --------------------------------------------------


def read_adapter_config(adapter_dir: Path) -> dict[str, Any]:
    path = adapter_dir / "adapter_config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"cannot read {path}: {exc}") from None


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    """PEFT's rank_pattern / alpha_pattern lookup (``peft.utils.other.get_pattern_key``): the first
    pattern that matches the end of the module name wins."""
    for key in patterns or {}:
        if re.match(rf"(.*\.)?({key})$", module):
            return patterns[key]
    return default


def adapter_keys(adapter_dir: Path) -> list[str]:
    from safetensors import safe_open

    path = adapter_dir / "adapter_model.safetensors"
    if not path.is_file():
        raise MergeError(f"{adapter_dir} has no adapter_model.safetensors (a PEFT adapter saved with safetensors)")
    with safe_open(str(path), framework="pt") as fh:
        return list(fh.keys())


def plan_merge(adapter_dir: str | Path) -> MergePlan:
    """Map every tensor of the adapter onto the base tensor it changes; refuse what cannot be merged exactly."""
    adapter_dir = Path(adapter_dir)
    cfg = read_adapter_config(adapter_dir)
    if str(cfg.get("peft_type", "LORA")).upper() != "LORA":
        raise MergeError(f"the adapter is {cfg.get('peft_type')}, not LoRA; only LoRA adapters merge shard by shard")
    if cfg.get("use_dora"):
        raise MergeError("DoRA adapters rescale whole weight columns and do not merge shard by shard")
    r0, alpha0 = int(cfg.get("r", 8)), float(cfg.get("lora_alpha", 8))
    rslora, fan_in_fan_out = bool(cfg.get("use_rslora")), bool(cfg.get("fan_in_fan_out"))
    deltas: dict[str, LoraDelta] = {}
    replacements: dict[str, str] = {}
    keys = adapter_keys(adapter_dir)
    present = set(keys)
    for key in keys:
        if not key.startswith(ADAPTER_PREFIX):
            raise MergeError(f"unexpected adapter tensor {key!r} (not saved by PEFT for a causal LM)")
        name = key[len(ADAPTER_PREFIX):]
        if name.endswith((".lora_B.weight", ".lora_B.bias", ".lora_embedding_B")):
            continue  # handled with its A
        if name.endswith(".lora_A.weight"):
            module, embedding = name[: -len(".lora_A.weight")], False
            b_key = f"{ADAPTER_PREFIX}{module}.lora_B.weight"
        elif name.endswith(".lora_embedding_A"):
            module, embedding = name[: -len(".lora_embedding_A")], True
            b_key = f"{ADAPTER_PREFIX}{module}.lora_embedding_B"
        elif ".lora_" in name or "trainable_tokens" in name or ".magnitude" in name:
            raise MergeError(f"adapter tensor {key!r} is of a kind the sharded merge does not handle")
        else:
            # a whole module saved with the adapter (modules_to_save, save_embedding_layers): it replaces the base's
            replacements[name.replace(".base_layer.", ".")] = key
            continue
        if b_key not in present:
            raise MergeError(f"adapter tensor {b_key!r} is missing (the adapter file is incomplete)")
        r = int(_pattern_value(cfg.get("rank_pattern") or {}, module, r0))
        alpha = float(_pattern_value(cfg.get("alpha_pattern") or {}, module, alpha0))
        bias_key = f"{ADAPTER_PREFIX}{module}.lora_B.bias"
        deltas[f"{module}.weight"] = LoraDelta(
            a_key=key, b_key=b_key, scale=alpha / math.sqrt(r) if rslora else alpha / r,
            transpose=embedding or fan_in_fan_out, bias_key=bias_key if bias_key in present else None,
        )
    if not deltas and not replacements:
        raise MergeError(f"the adapter in {adapter_dir} has no LoRA weights to merge")
    return MergePlan(deltas, replacements)


# --- the base: where its shards are --------------------------------------------------------------------


def resolve_base_dir(base: str) -> Path:
    """A local directory for the base: the path itself, the demo model, or a Hub id's cached snapshot."""
    from ftui.train.modelinfo import resolve_model_path

    path = Path(resolve_model_path(base)).expanduser()
    if path.is_dir():
        return path
    from ftui import hub

    snapshot = hub.cached_snapshot(base)
    if snapshot is None:
        raise MergeError(f"the base model {base!r} is neither a local directory nor in the Hub cache")
    return snapshot


def base_shards(base_dir: Path) -> list[str]:
    """The safetensors files holding the base's weights, in index order."""
    index = base_dir / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError) as exc:
            raise MergeError(f"cannot read {index}: {exc}") from None
        return sorted(set(weight_map.values()))
    if (base_dir / SINGLE_NAME).is_file():
        return [SINGLE_NAME]
    raise MergeError(f"{base_dir} has no safetensors weights (model.safetensors or {INDEX_NAME}); "
                     "convert the base to safetensors, or merge it with PEFT on a machine with the RAM for it")


def has_safetensors(base_dir: Path) -> bool:
    return (base_dir / INDEX_NAME).is_file() or (base_dir / SINGLE_NAME).is_file()


def base_bytes(base_dir: Path) -> int:
    """The weights' size on disk (safetensors shards, else PyTorch ``.bin`` files)."""
    if has_safetensors(base_dir):
        return sum((base_dir / name).stat().st_size for name in base_shards(base_dir))
    return sum(p.stat().st_size for p in base_dir.glob("*.bin"))


# --- shard by shard ---------------------------------------------------------------------------------------


def _delta(adapter: Any, delta: LoraDelta) -> Any:
    a = adapter.get_tensor(delta.a_key).float()
    b = adapter.get_tensor(delta.b_key).float()
    product = b @ a
    if delta.transpose:
        product = product.T
    return product * delta.scale


def merge_sharded(adapter_dir: str | Path, base_dir: str | Path, out_dir: str | Path,
                  progress: Callable[[int, int], None] | None = None) -> MergeReport:
    """Merge ``adapter_dir`` into the safetensors shards of ``base_dir``, one shard in memory at a time."""
    import gc

    from safetensors import safe_open
    from safetensors.torch import save_file

    started = time.monotonic()
    adapter_dir, base_dir, out_dir = Path(adapter_dir), Path(base_dir), Path(out_dir)
    plan = plan_merge(adapter_dir)
    shards = base_shards(base_dir)
    pending = dict(plan.deltas)
    to_replace = dict(plan.replacements)
    bias_updates = {f"{k[: -len('.weight')]}.bias": d for k, d in plan.deltas.items() if d.bias_key}
    out_dir.mkdir(parents=True, exist_ok=True)
    report = MergeReport("sharded", str(out_dir), shards=len(shards))
    with safe_open(str(adapter_dir / "adapter_model.safetensors"), framework="pt") as adapter:
        for number, shard in enumerate(shards, 1):
            with safe_open(str(base_dir / shard), framework="pt") as fh:
                metadata = fh.metadata() or {"format": "pt"}
                tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118 - safe_open is not a dict
            for key in list(tensors):
                weight = tensors[key]
                if key in to_replace:
                    new = adapter.get_tensor(to_replace.pop(key))
                    if tuple(new.shape) != tuple(weight.shape):
                        raise MergeError(f"{key}: the adapter saved it with shape {tuple(new.shape)}, the base has "
                                         f"{tuple(weight.shape)} (a resized vocabulary); merge it with PEFT instead")
                    tensors[key] = new.to(weight.dtype)
                    report.replaced += 1
                delta = pending.pop(key, None)
                if delta is not None:
                    change = _delta(adapter, delta)
                    if tuple(change.shape) != tuple(weight.shape):
                        raise MergeError(f"{key}: LoRA delta of shape {tuple(change.shape)} does not fit the base weight "
                                         f"{tuple(weight.shape)}; is this the adapter's base model?")
                    tensors[key] = (tensors[key].float() + change).to(weight.dtype)
                    report.modules += 1
                bias = bias_updates.pop(key, None)
                if bias is not None and bias.bias_key:
                    tensors[key] = (weight.float() + adapter.get_tensor(bias.bias_key).float() * bias.scale).to(weight.dtype)
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(out_dir / shard), metadata=metadata)
            del tensors
            gc.collect()
            _release_freed_memory()
            if progress:
                progress(number, len(shards))
    missing = sorted(pending) + sorted(to_replace) + sorted(bias_updates)
    if missing:
        for shard in shards:
            (out_dir / shard).unlink(missing_ok=True)
        raise MergeError(f"{len(missing)} adapter module(s) have no weight in the base ({', '.join(missing[:3])}...); "
                         "is this the adapter's base model?")
    _copy_side_files(base_dir, out_dir)
    _save_tokenizer(adapter_dir, base_dir, out_dir)
    report.seconds = time.monotonic() - started
    return report


def _release_freed_memory() -> None:
    """Hand freed heap pages back to the OS between shards (glibc keeps them otherwise, and RSS creeps
    up shard after shard); a no-op where there is no glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def _copy_side_files(base_dir: Path, out_dir: Path) -> None:
    """Config, generation config, the shard index, tokenizer files: everything but the weights."""
    for item in base_dir.iterdir():
        if item.is_file() and not item.name.endswith(WEIGHT_SUFFIXES) and not item.name.startswith("."):
            if not (out_dir / item.name).exists():
                shutil.copy2(item, out_dir / item.name)
    index = base_dir / INDEX_NAME
    if index.is_file():
        shutil.copy2(index, out_dir / INDEX_NAME)


def _save_tokenizer(adapter_dir: Path, base_dir: Path, out_dir: Path) -> None:
    """The run saved its tokenizer (pad token and all) with the adapter: that one goes with the merged model."""
    from transformers import AutoTokenizer

    source = adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else base_dir
    try:
        AutoTokenizer.from_pretrained(str(source), trust_remote_code=False).save_pretrained(str(out_dir))
    except (OSError, ValueError):
        pass  # a base without a tokenizer: the merged weights are still complete


# --- on the GPU ---------------------------------------------------------------------------------------


def gpu_merge_device(base_dir: Path, device: int | None = None) -> int | None:
    """The CUDA device to merge on when the whole base fits in its free memory, else None."""
    import torch

    if not torch.cuda.is_available():
        return None
    index = torch.cuda.current_device() if device is None else device
    free, _total = torch.cuda.mem_get_info(index)
    need = base_bytes(base_dir) * GPU_MARGIN + GPU_SPARE_BYTES
    return index if free >= need else None


def merge_on_gpu(adapter_dir: str | Path, base_dir: str | Path, out_dir: str | Path, device: int) -> MergeReport:
    """PEFT's own merge with the base loaded straight onto GPU ``device`` (its stored dtype kept)."""
    return merge_on_device(adapter_dir, base_dir, out_dir, device)


def merge_on_device(adapter_dir: str | Path, base_dir: str | Path, out_dir: str | Path, device: int | str) -> MergeReport:
    """PEFT's own merge with the base loaded through ``device_map`` onto one device."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    started = time.monotonic()
    adapter_dir, base_dir, out_dir = Path(adapter_dir), Path(base_dir), Path(out_dir)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype="auto", device_map={"": device},
                                                 trust_remote_code=False)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    merged = model.merge_and_unload()
    merged.save_pretrained(str(out_dir), safe_serialization=True)
    _save_tokenizer(adapter_dir, base_dir, out_dir)
    del merged, model
    _free_cuda()
    return MergeReport("gpu", str(out_dir), seconds=time.monotonic() - started)


def _free_cuda() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def merge(adapter_dir: str | Path, out_dir: str | Path, base: str | None = None, device: int | None = None,
          allow_gpu: bool = True, progress: Callable[[int, int], None] | None = None) -> MergeReport:
    """Merge a finished run's adapter: on the GPU when the base fits there, else shard by shard."""
    adapter_dir = Path(adapter_dir)
    if base is None:
        base = read_adapter_config(adapter_dir).get("base_model_name_or_path")
        if not base:
            raise MergeError(f"{adapter_dir}/adapter_config.json does not name its base model")
    base_dir = resolve_base_dir(base)
    gpu = gpu_merge_device(base_dir, device) if allow_gpu else None
    if gpu is not None:
        return merge_on_gpu(adapter_dir, base_dir, out_dir, gpu)
    if not has_safetensors(base_dir):
        return merge_in_memory(adapter_dir, base_dir, out_dir)  # old .bin checkpoints: no shard to stream
    return merge_sharded(adapter_dir, base_dir, out_dir, progress=progress)


def merge_in_memory(adapter_dir: Path, base_dir: Path, out_dir: str | Path) -> MergeReport:
    """PEFT's merge with the whole base in host RAM: only for a base without safetensors weights."""
    started = time.monotonic()
    report = merge_on_device(adapter_dir, base_dir, Path(out_dir), "cpu")
    report.path = "in-memory"
    report.notes.append("the base has no safetensors weights, so it was loaded whole into host RAM")
    report.seconds = time.monotonic() - started
    return report
