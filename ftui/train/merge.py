"""Merge a LoRA adapter into its base without holding the whole base in RAM.

``merge_and_unload`` needs the base model loaded in full: a 70B base in bf16 is ~140 GB of
host memory, more than most GPU boxes have. So a finished run is merged one of two ways:

- **on the GPU** when the base fits in its free memory (``device_map`` straight onto the
  device, PEFT's own ``merge_and_unload``, ``save_pretrained``): fast, and host RAM holds
  one tensor at a time while the shards are written;
- **shard by shard** otherwise: for each safetensors shard of the base, rewrite it under the
  same name, adding each LoRA delta ``W += (lora_alpha / r) * B @ A`` (``alpha / sqrt(r)`` with
  rsLoRA; transposed for ``fan_in_fan_out`` and for embeddings, as PEFT does; computed in
  fp32, stored in the shard's own dtype) to the tensors it changes, then copy the index,
  config and tokenizer. A merge changes no shape or dtype, so the shard's header is kept and
  the untouched tensors are copied through in chunks; the changed ones are read, merged and
  written one at a time. Peak host memory is the adapter plus one tensor's fp32 working
  copies -- below one shard (measured: 55 MB above baseline for a 414 MB bf16 base in 65 MB
  shards with a 14 MB adapter; the whole-model load would be the full 414 MB).

The sharded path reads PEFT's saved key names (``base_model.model.<module>.lora_A.weight``,
``lora_embedding_A``, whole modules saved by ``modules_to_save`` / ``save_embedding_layers``)
and refuses, with a message, anything it does not know how to merge exactly (DoRA, other
PEFT methods, a key it cannot place): a wrong merge must never be written silently.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.models import hub_kernels

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
    from ftui.models.source import ModelSourceError, resolve_model

    try:
        return Path(resolve_model(base, hub_policy="cache")).expanduser()
    except ModelSourceError as exc:
        raise MergeError(str(exc)) from None


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
    """``scale * B @ A`` in fp32 (transposed for fan_in_fan_out layers and embeddings), built in place."""
    a = adapter.get_tensor(delta.a_key).float()
    b = adapter.get_tensor(delta.b_key).float()
    product = (b @ a).mul_(delta.scale)
    return product.T if delta.transpose else product


def merge_sharded(adapter_dir: str | Path, base_dir: str | Path, out_dir: str | Path,
                  progress: Callable[[int, int], None] | None = None) -> MergeReport:
    """Merge ``adapter_dir`` into the safetensors shards of ``base_dir``, writing each shard under its own name.

    A merge changes no tensor's shape or dtype, so each output shard keeps its input's header
    byte for byte; tensors the adapter does not touch are copied through in chunks, and the
    ones it does are loaded, merged and written one at a time. Host memory holds one tensor
    (and its fp32 working copies), never a whole shard or model.
    """
    import gc

    from safetensors import safe_open

    started = time.monotonic()
    adapter_dir, base_dir, out_dir = Path(adapter_dir), Path(base_dir), Path(out_dir)
    plan = plan_merge(adapter_dir)
    shards = base_shards(base_dir)
    pending = dict(plan.deltas)
    to_replace = dict(plan.replacements)
    bias_updates = {f"{k[: -len('.weight')]}.bias": d for k, d in plan.deltas.items() if d.bias_key}
    out_dir.mkdir(parents=True, exist_ok=True)
    report = MergeReport("sharded", str(out_dir), shards=len(shards))

    def merged(key: str, weight: Any, adapter: Any) -> Any:
        result = weight
        if key in to_replace:
            new = adapter.get_tensor(to_replace.pop(key))
            if tuple(new.shape) != tuple(weight.shape):
                raise MergeError(f"{key}: the adapter saved it with shape {tuple(new.shape)}, the base has "
                                 f"{tuple(weight.shape)} (a resized vocabulary); merge it with PEFT instead")
            result = new.to(weight.dtype, copy=True)  # our own copy: a delta may be added to it in place
            report.replaced += 1
        delta = pending.pop(key, None)
        if delta is not None:
            change = _delta(adapter, delta)
            if tuple(change.shape) != tuple(weight.shape):
                raise MergeError(f"{key}: LoRA delta of shape {tuple(change.shape)} does not fit the base weight "
                                 f"{tuple(weight.shape)}; is this the adapter's base model?")
            work = result.float()  # a copy for 16-bit weights; the tensor itself for fp32 ones (read fresh here)
            work.add_(change)
            del change
            result = work.to(weight.dtype)
            del work
            report.modules += 1
        bias = bias_updates.pop(key, None)
        if bias is not None and bias.bias_key:
            result = (result.float() + adapter.get_tensor(bias.bias_key).float() * bias.scale).to(weight.dtype)
        return result

    try:
        with safe_open(str(adapter_dir / "adapter_model.safetensors"), framework="pt") as adapter:
            for number, shard in enumerate(shards, 1):
                touched = set(to_replace) | set(pending) | set(bias_updates)
                _rewrite_shard(base_dir / shard, out_dir / shard, touched, lambda k, w: merged(k, w, adapter))
                gc.collect(1)  # the shard's own garbage is young: a full collection is ~0.1 s with torch loaded
                _release_freed_memory()
                if progress:
                    progress(number, len(shards))
        missing = sorted(pending) + sorted(to_replace) + sorted(bias_updates)
        if missing:
            raise MergeError(f"{len(missing)} adapter module(s) have no weight in the base ({', '.join(missing[:3])}...); "
                             "is this the adapter's base model?")
    except BaseException:
        for shard in shards:
            (out_dir / shard).unlink(missing_ok=True)  # never leave a half-merged model behind
        raise
    _copy_side_files(base_dir, out_dir)
    _save_tokenizer(adapter_dir, base_dir, out_dir)
    report.seconds = time.monotonic() - started
    return report


COPY_CHUNK = 16 << 20


def read_safetensors_header(path: Path) -> tuple[int, dict[str, Any]]:
    """(header length, header) of a safetensors file: 8 bytes little-endian length, then JSON."""
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        if not 0 < size < 1 << 30:
            raise MergeError(f"{path.name} is not a safetensors file")
        try:
            return size, json.loads(fh.read(size))
        except ValueError:
            raise MergeError(f"{path.name} has an unreadable safetensors header") from None


def _rewrite_shard(src: Path, dst: Path, touched: set[str], merge_tensor: Callable[[str, Any], Any]) -> None:
    """Write ``src`` to ``dst`` with the tensors in ``touched`` passed through ``merge_tensor``; the rest is
    copied byte for byte. Same header (a merge changes no shape or dtype), same offsets."""
    size, header = read_safetensors_header(src)
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0])
    start = 8 + size
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(fin.read(start))  # the header, verbatim
        for key, info in entries:
            begin, end = info["data_offsets"]
            if key in touched:
                fin.seek(start + begin)
                buffer = bytearray(end - begin)
                if fin.readinto(buffer) != end - begin:
                    raise MergeError(f"{src.name} ends inside tensor {key} (a truncated download?)")
                raw = _raw_bytes(merge_tensor(key, _tensor_from(buffer, info, key)))
                del buffer
                if len(raw) != end - begin:
                    raise MergeError(f"{key}: merged tensor has {len(raw)} bytes where the shard holds {end - begin}")
                fout.write(raw)
                del raw
                _release_freed_memory()  # the fp32 working copies of a large matrix go back to the OS now
            else:
                fin.seek(start + begin)
                left = end - begin
                while left:
                    chunk = fin.read(min(COPY_CHUNK, left))
                    if not chunk:
                        raise MergeError(f"{src.name} ends inside tensor {key} (a truncated download?)")
                    fout.write(chunk)
                    left -= len(chunk)
                    del chunk  # before the next read, so two chunks are never alive at once


_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32",
           "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn",
           "F8_E5M2": "float8_e5m2"}


def _tensor_from(data: bytearray, info: dict[str, Any], key: str) -> Any:
    """A tensor from its safetensors bytes, read with plain file I/O: no mmap whose touched pages would
    stay resident (and count in the process's memory) until the whole shard is closed."""
    import torch

    name = _DTYPES.get(info.get("dtype", ""))
    if name is None or not hasattr(torch, name):
        raise MergeError(f"{key}: dtype {info.get('dtype')} is not one the merge can handle")
    shape = [int(x) for x in info["shape"]]
    if not data:
        return torch.empty(shape, dtype=getattr(torch, name))
    return torch.frombuffer(data, dtype=getattr(torch, name)).reshape(shape)  # shares the buffer: no copy


def _raw_bytes(tensor: Any) -> memoryview:
    """A tensor's bytes in safetensors' layout (row-major, little-endian like every host we run on)."""
    import torch

    flat = tensor.detach().contiguous().reshape(-1)
    return memoryview(flat.view(torch.uint8).numpy()).cast("B")


def _release_freed_memory() -> None:
    """Hand freed heap pages back to the OS between shards (glibc keeps them otherwise, and RSS creeps
    up shard after shard); a no-op where there is no glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, looked up once (find_library runs ldconfig in a subprocess)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


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
                                                 trust_remote_code=False, **hub_kernels.load_kwargs())
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
