"""Export a finished run (or one of its checkpoints): the adapter, the merged model, or a GGUF file.

- ``adapter``: the PEFT adapter directory (weights, adapter config, tokenizer), copied.
- ``merged``: base + adapter as one safetensors model, through ``ftui.train.merge`` (on the GPU
  when the base fits, else shard by shard); a full fine-tune's ``model/`` is already one.
- ``gguf``: the merged model converted by llama.cpp's own ``convert_hf_to_gguf.py``. ftui does
  not ship a converter: it runs the one found through ``FTUI_GGUF_CONVERTER`` (the script's
  path), ``LLAMA_CPP_DIR`` (a llama.cpp checkout) or ``PATH``; when none is there, the error
  carries the exact command to run once llama.cpp is installed, with the merged model kept.

Progress goes through ``say(text)`` (the CLI prints it, the TUI posts it from its worker).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftui.train import runs

WHATS = ("adapter", "merged", "gguf")
CONVERTER = "convert_hf_to_gguf.py"
CONVERTER_ENV = "FTUI_GGUF_CONVERTER"
LLAMA_CPP_ENV = "LLAMA_CPP_DIR"
GGUF_TYPES = ("f16", "bf16", "q8_0", "f32")

Say = Callable[[str], None]


class ExportError(Exception):
    """The export cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class ExportResult:
    what: str
    path: Path  # the directory (adapter, merged) or the .gguf file written
    note: str = ""


def source_dir(run_dir: Path, checkpoint: str | None = None) -> Path:
    """The weights to export: a checkpoint's, else the run's final ``adapter/`` (or a full run's ``model/``)."""
    if checkpoint:
        from ftui.train.checkpoints import find_checkpoint

        try:
            return find_checkpoint(run_dir, checkpoint)
        except runs.RunDirError as exc:
            raise ExportError(str(exc)) from None
    for name in (runs.ADAPTER_DIR, "model"):
        path = Path(run_dir) / name
        if path.is_dir() and any(path.iterdir()):
            return path
    raise ExportError(f"run {Path(run_dir).name} has no adapter/ or model/ yet (still training, stopped without "
                      "saving, or failed); pick one of its checkpoints instead")


def is_adapter(path: Path) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


def _empty_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not empty; remove it or choose another folder")


def _base_model(run_dir: Path) -> str | None:
    try:
        return runs.load_run_config(run_dir).model
    except Exception:  # noqa: BLE001 - an unreadable config.yaml: the adapter still names its base
        return None


def export_adapter(src: Path, out: Path, say: Say) -> ExportResult:
    if not is_adapter(src):
        raise ExportError(f"{src.name} is a whole model (a full fine-tune), not an adapter; export it as 'merged'")
    _empty_target(out)
    out.mkdir(parents=True, exist_ok=True)
    from ftui.train.checkpoints import RESUME_FILES

    for item in src.iterdir():
        if item.is_file() and item.name not in RESUME_FILES and not item.name.startswith("rng_state"):
            shutil.copy2(item, out / item.name)
    say(f"copied the adapter from {src} to {out}")
    return ExportResult("adapter", out)


def export_merged(run_dir: Path, src: Path, out: Path, say: Say, allow_gpu: bool = True) -> ExportResult:
    """Base + adapter as one model in ``out`` (safetensors); a full fine-tune's weights are copied."""
    _empty_target(out)
    if not is_adapter(src):
        from ftui.train.checkpoints import copy_weights

        if not copy_weights(src, out):
            raise ExportError(f"{src} holds no model weights")
        say(f"copied the fine-tuned model from {src} to {out}")
        return ExportResult("merged", out)
    from ftui.train.merge import MergeError, merge

    say(f"merging {src.name} into its base model")

    def progress(done: int, total: int) -> None:
        say(f"merged shard {done}/{total}")

    try:
        report = merge(src, out, base=_base_model(run_dir), allow_gpu=allow_gpu, progress=progress)
    except MergeError as exc:
        raise ExportError(f"cannot merge: {exc}") from None
    say(report.describe())
    return ExportResult("merged", out)


def find_converter() -> Path | None:
    """llama.cpp's ``convert_hf_to_gguf.py``: ``FTUI_GGUF_CONVERTER``, ``$LLAMA_CPP_DIR/``, then ``PATH``."""
    explicit = os.environ.get(CONVERTER_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        return path if path.is_file() else None
    checkout = os.environ.get(LLAMA_CPP_ENV)
    if checkout and (Path(checkout).expanduser() / CONVERTER).is_file():
        return Path(checkout).expanduser() / CONVERTER
    found = shutil.which(CONVERTER)
    return Path(found) if found else None


def gguf_command(converter: str | Path, merged: Path, outfile: Path, outtype: str = "f16") -> list[str]:
    """The converter's command line (llama.cpp's own arguments)."""
    return [sys.executable, str(converter), str(merged), "--outfile", str(outfile), "--outtype", outtype]


def export_gguf(run_dir: Path, src: Path, out: Path, say: Say, outtype: str = "f16", allow_gpu: bool = True) -> ExportResult:
    """Merge (into ``out/merged`` unless the run's ``merged/`` is reused), then convert to ``out/<run>.gguf``."""
    if outtype not in GGUF_TYPES:
        raise ExportError(f"GGUF type {outtype!r} is not one of {', '.join(GGUF_TYPES)}")
    outfile = out / f"{Path(run_dir).name}{'-' + src.name if src.name.startswith('checkpoint-') else ''}.gguf"
    if outfile.exists():
        raise ExportError(f"{outfile} already exists; remove it or choose another folder")
    converter = find_converter()
    reuse = Path(run_dir) / runs.MERGED_DIR
    if src.name == runs.ADAPTER_DIR and (reuse / "config.json").is_file():
        merged = reuse
        say(f"using the run's merged model in {merged}")
    elif not is_adapter(src) and src.name == "model":
        merged = src
    else:
        merged = out / "merged"
        export_merged(run_dir, src, merged, say, allow_gpu=allow_gpu)
    if converter is None:
        command = shlex.join(gguf_command(f"/path/to/llama.cpp/{CONVERTER}", merged, outfile, outtype))
        raise ExportError(
            f"llama.cpp's {CONVERTER} was not found (set {CONVERTER_ENV} to the script, {LLAMA_CPP_ENV} to a llama.cpp "
            f"checkout, or put it on PATH; pip install gguf for its one dependency). The merged model is in {merged}; "
            f"convert it with: {command}"
        )
    out.mkdir(parents=True, exist_ok=True)
    command = gguf_command(converter, merged, outfile, outtype)
    say("converting to GGUF: " + shlex.join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not outfile.is_file():
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise ExportError(f"{CONVERTER} failed (exit {done.returncode}): {tail[0][:300]}; the merged model is in {merged}")
    say(f"wrote {outfile} ({outfile.stat().st_size:,} bytes)")
    return ExportResult("gguf", outfile, note=f"merged model in {merged}")


def export_run(run_dir: Path, what: str, out: Path, checkpoint: str | None = None, say: Say = print,
               outtype: str = "f16", allow_gpu: bool = True) -> ExportResult:
    """Export ``what`` (adapter | merged | gguf) of a run, or of one of its checkpoints, into ``out``."""
    if what not in WHATS:
        raise ExportError(f"--what {what!r}: use one of {', '.join(WHATS)}")
    run_dir, out = Path(run_dir), Path(out).expanduser()
    src = source_dir(run_dir, checkpoint)
    if what == "adapter":
        return export_adapter(src, out, say)
    if what == "merged":
        return export_merged(run_dir, src, out, say, allow_gpu=allow_gpu)
    return export_gguf(run_dir, src, out, say, outtype=outtype, allow_gpu=allow_gpu)


def default_out(run_dir: Path, what: str, checkpoint: str | None = None) -> Path:
    """``RUN/export/<what>[-checkpoint-N]``: inside the run, never over its own files."""
    suffix = f"-{Path(checkpoint).name}" if checkpoint else ""
    return Path(run_dir) / "export" / f"{what}{suffix}"
