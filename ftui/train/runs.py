"""Run directories: creation, metadata, checkpoints to resume from, listing (the lock and the stop file: ``run_lock``).

A run directory (``<runs_dir>/<run_id>/``) holds::

    config.yaml      the RunConfig as run (dataset paths made absolute; never a secret)
    run.json         metadata: id, created, host, sha256 of each dataset, library versions, device
    events.jsonl     the append-only event log, the source of truth for status and plots
    run.lock         present while a process trains it: {"pid", "host"}; flock-ed by that process
    control.json     written by another process (``ftui attach``) to ask the run to stop
    checkpoints/     trainer checkpoints (checkpoint-<step>/)
    adapter/         the final PEFT adapter + tokenizer (full fine-tuning: the model itself)
    merged/          the merged model, when merge_at_end is set

Nothing here imports torch: the TUI and ``ftui runs`` list runs instantly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ftui import paths
from ftui.config import RunConfig, dump_config, load_config
from ftui.train.errors import RunDirError
from ftui.train.events import EVENT_LOG_NAME, Eval, Started, read_events, status_from_events
from ftui.train.run_lock import is_live

CONFIG_NAME = "config.yaml"
META_NAME = "run.json"
CHECKPOINTS_DIR = "checkpoints"
ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
TRACEBACK_NAME = "traceback.txt"
LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate", "datasets", "openai")


# ---------------------------------------------------------------------------- ids and creation


def _slug(text: str, limit: int = 24) -> str:
    name = Path(str(text).rstrip("/")).name or str(text)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.").lower()
    return slug[:limit].strip("-.") or "model"


def new_run_id(config: RunConfig, now: float | None = None) -> str:
    """``20261123-183000-lora-demo-3f2a``: sortable by time, readable, unique via a short random suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    model = config.openai_model if config.method == "openai" else config.model
    return f"{stamp}-{config.method}-{_slug(model)}-{secrets.token_hex(2)}"


def create_run(config: RunConfig, run_dir: Path | None = None) -> tuple[Path, RunConfig]:
    """Make the run directory and write its config.yaml; returns the directory and the config as run.

    The stored config has absolute dataset paths and ``output_dir`` set to the run
    directory, so ``ftui train --resume`` and reproductions do not depend on the cwd.
    """
    if run_dir is None and config.output_dir:
        run_dir = Path(config.output_dir).expanduser()
    if run_dir is None:
        base = paths.runs_dir()
        try:
            paths.ensure_writable_dir(base, "runs", "FTUI_RUNS_DIR")
        except paths.DirectoryError as exc:
            raise RunDirError(str(exc)) from None
        run_dir = base / new_run_id(config)
    run_dir = Path(run_dir).expanduser().resolve()
    if (run_dir / EVENT_LOG_NAME).exists():
        raise RunDirError(
            f"{run_dir} already holds a run. Resume it with 'ftui train --resume {run_dir.name}' "
            "or choose another output_dir."
        )
    try:
        from ftui.private import private_dir

        private_dir(run_dir)  # 0700: configs, logs, data copies and checkpoints are the owner's only
    except OSError as exc:
        raise RunDirError(f"cannot create the run directory {run_dir}: {exc.strerror or exc}") from None
    as_run = dataclasses.replace(
        config,
        train_path=_absolute(config.train_path),
        eval_path=_absolute(config.eval_path) if config.eval_path else None,
        output_dir=str(run_dir),
    )
    from ftui.private import write_private_text

    write_private_text(run_dir / CONFIG_NAME, dump_config(as_run))
    return run_dir, as_run


def _absolute(value: str) -> str:
    path = paths.resolve_data_path(value)
    return str(path.resolve()) if path is not None and path.exists() else value


def load_run_config(run_dir: Path) -> RunConfig:
    path = Path(run_dir) / CONFIG_NAME
    if not path.exists():
        raise RunDirError(f"{run_dir} has no {CONFIG_NAME}; it is not an ftui run directory.")
    return load_config(path)


# ---------------------------------------------------------------------------- metadata


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def dataset_hashes(config: RunConfig) -> dict[str, str]:
    """sha256 of each dataset file the run reads, keyed by its path."""
    out: dict[str, str] = {}
    for value in (config.train_path, config.eval_path):
        path = paths.resolve_data_path(value) if value else None
        if path is not None and path.is_file():
            out[str(path)] = sha256_file(path)
    return out


def library_versions() -> dict[str, str]:
    """Installed versions, read from package metadata (no import of torch & co)."""
    from importlib import metadata

    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    from ftui import __version__

    out["ftui"] = __version__
    return out


def write_run_metadata(run_dir: Path, config: RunConfig, **fields: object) -> dict:
    """Write run.json (merging with what is there, so a resume adds to it)."""
    path = Path(run_dir) / META_NAME
    meta = read_run_metadata(run_dir)
    meta.setdefault("run_id", Path(run_dir).name)
    meta.setdefault("created", time.time())
    meta.update(
        {
            "host": socket.gethostname(),
            "method": config.method,
            "model": config.openai_model if config.method == "openai" else config.model,
            "datasets": dataset_hashes(config),
            "versions": library_versions(),
        }
    )
    meta.update(fields)
    tmp = path.with_suffix(".json.tmp")
    _write_private(tmp, json.dumps(meta, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return meta


def update_run_metadata(run_dir: Path, **fields: object) -> None:
    path = Path(run_dir) / META_NAME
    meta = read_run_metadata(run_dir)
    meta.update(fields)
    tmp = path.with_suffix(".json.tmp")
    _write_private(tmp, json.dumps(meta, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _write_private(path: Path, text: str) -> None:
    from ftui.private import write_private_text

    write_private_text(path, text)


def read_run_metadata(run_dir: Path) -> dict:
    try:
        data = json.loads((Path(run_dir) / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------- checkpoints


def checkpoints_dir(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINTS_DIR


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The intact checkpoint with the highest step under ``checkpoints/`` (a damaged one is passed over:
    ``damaged_checkpoints`` names those, so the resume can say it fell back)."""
    for _, child in _checkpoints_newest_first(run_dir):
        if checkpoint_problem(child) is None:
            return child
    return None


def _checkpoints_newest_first(run_dir: Path) -> list[tuple[int, Path]]:
    base = checkpoints_dir(run_dir)
    if not base.is_dir():
        return []
    found = []
    try:
        children = list(base.iterdir())
    except OSError:
        return []
    for child in children:
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and child.is_dir() and (child / "trainer_state.json").exists():
            found.append((int(match.group(1)), child))
    return sorted(found, reverse=True)


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint cannot be resumed from (a file cut short by a full disk or a kill), or None.

    Cheap: parses ``trainer_state.json`` and each safetensors header and compares the sizes the
    header promises with the file's; no tensor is read.
    """
    import json
    import struct

    try:
        json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"trainer_state.json is unreadable ({type(exc).__name__})"
    for weights in sorted(path.glob("*.safetensors")):
        try:
            size = weights.stat().st_size
            with open(weights, "rb") as fh:
                head = fh.read(8)
                if len(head) < 8:
                    return f"{weights.name} is truncated"
                (length,) = struct.unpack("<Q", head)
                if length > size - 8:
                    return f"{weights.name} is truncated (incomplete header)"
                header = json.loads(fh.read(length))
            ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
            if 8 + length + max(ends, default=0) > size:
                return f"{weights.name} is truncated ({size:,} bytes, {8 + length + max(ends):,} expected)"
        except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
            return f"{weights.name} is unreadable ({type(exc).__name__})"
    return None


RESUME_FROM_NAME = "resume-from.json"
SUPERSEDED_PREFIX = "superseded-"


def request_resume_from(run_dir: Path, checkpoint: Path) -> list[Path]:
    """Make the next resume of ``run_dir`` start at ``checkpoint`` instead of the latest one.

    The checkpoints after it belong to the branch being abandoned: they are renamed
    ``superseded-checkpoint-N`` (kept on disk, no longer resumed from, listed or rotated), so the
    resumed run's own saves are the newest again. Returns the renamed directories.
    """
    import json

    run_dir, checkpoint = Path(run_dir), Path(checkpoint)
    step = int(checkpoint.name.rsplit("-", 1)[-1])
    moved = []
    for later_step, path in _checkpoints_newest_first(run_dir):
        if later_step > step:
            target = path.with_name(f"{SUPERSEDED_PREFIX}{path.name}")
            if target.exists():
                target = path.with_name(f"{SUPERSEDED_PREFIX}{int(time.time())}-{path.name}")
            path.rename(target)
            moved.append(target)
    _write_private(run_dir / RESUME_FROM_NAME, json.dumps({"checkpoint": checkpoint.name}))
    return moved


def resume_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint a resume starts from: the one ``request_resume_from`` named (once), else the latest."""
    import json

    marker = Path(run_dir) / RESUME_FROM_NAME
    if marker.is_file():
        try:
            name = json.loads(marker.read_text(encoding="utf-8")).get("checkpoint", "")
        except (OSError, ValueError):
            name = ""
        marker.unlink(missing_ok=True)
        chosen = checkpoints_dir(run_dir) / str(name)
        if re.fullmatch(r"checkpoint-\d+", str(name)) and chosen.is_dir() and checkpoint_problem(chosen) is None:
            return chosen
    return latest_checkpoint(run_dir)


def damaged_checkpoints(run_dir: Path) -> list[tuple[Path, str]]:
    """Checkpoints newer than the one a resume would use, each with why it cannot be used."""
    out = []
    for _, child in _checkpoints_newest_first(run_dir):
        problem = checkpoint_problem(child)
        if problem is None:
            break
        out.append((child, problem))
    return out


# ---------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    run_dir: Path
    status: str  # created | running | finished | failed | stopped | interrupted (log says running, no process)
    method: str | None
    model: str | None
    best_eval_loss: float | None
    started: float | None  # unix time of the first "started" event
    duration_s: float | None
    last_step: int | None
    total_steps: int | None
    live: bool = False
    message: str | None = None  # the failure message, for failed runs
    hint: str | None = None  # the failure's fix, when the worker gave one


def summarize_run(run_dir: Path) -> RunSummary:
    """A run's summary, derived from its event log (and its config when the log is empty)."""
    run_dir = Path(run_dir)
    events = read_events(run_dir / EVENT_LOG_NAME)
    live = is_live(run_dir)
    status = status_from_events(events)
    if status == "running" and not live:
        status = "interrupted"
    starts = [e for e in events if isinstance(e, Started)]
    method = starts[-1].method if starts else None
    model = starts[-1].model if starts else None
    if method is None:
        try:
            cfg = load_run_config(run_dir)
            method, model = cfg.method, cfg.openai_model if cfg.method == "openai" else cfg.model
        except Exception:  # noqa: BLE001 - a broken config.yaml must not break the listing
            pass
    losses = [e.eval_loss for e in events if isinstance(e, Eval) and e.eval_loss is not None]
    # The steps of the latest attempt only: an earlier attempt (with another max_steps) must not
    # show as "25/15" against the latest start's total.
    last_start = max((i for i, e in enumerate(events) if isinstance(e, Started)), default=0)
    steps = [getattr(e, "step", None) for e in events[last_start:]]
    steps = [s for s in steps if isinstance(s, int)]
    if not steps and starts and isinstance(starts[-1].resumed_from_step, int):
        steps = [starts[-1].resumed_from_step]
    started = starts[0].t if starts else None
    duration = None
    if started is not None and events:
        end = time.time() if live else events[-1].t
        duration = max(0.0, end - started)
    failed = next((e for e in reversed(events) if e.type == "failed"), None)
    return RunSummary(
        run_id=run_dir.name,
        run_dir=run_dir,
        status=status,
        method=method,
        model=model,
        best_eval_loss=min(losses) if losses else None,
        started=started,
        duration_s=duration,
        last_step=max(steps) if steps else None,
        total_steps=next((s.total_steps for s in reversed(starts) if s.total_steps), None),
        live=live,
        message=getattr(failed, "message", None),
        hint=getattr(failed, "hint", None),
    )


def _child_dirs(base: Path) -> list[Path]:
    """The directories inside the runs directory (none when it does not exist yet);
    RunDirError with the fix when it is a file or cannot be read."""
    if not base.exists():
        return []
    if not base.is_dir():
        raise RunDirError(f"the runs directory {base} is a file, not a directory; point FTUI_RUNS_DIR at a directory.")
    try:
        return [child for child in base.iterdir() if child.is_dir()]
    except OSError as exc:
        raise RunDirError(
            f"cannot read the runs directory {base}: {exc.strerror or exc}. "
            "Fix its permissions or point FTUI_RUNS_DIR at a readable directory."
        ) from None


def list_runs(base: Path | None = None) -> list[RunSummary]:
    """Every run under the runs directory, newest first."""
    base = Path(base) if base is not None else paths.runs_dir()
    out = []
    for child in _child_dirs(base):
        if ((child / EVENT_LOG_NAME).exists() or (child / CONFIG_NAME).exists()):
            try:
                out.append(summarize_run(child))
            except Exception as exc:  # noqa: BLE001 - one damaged run must never hide the others
                out.append(RunSummary(run_id=child.name, run_dir=child, status="unreadable", method=None, model=None,
                                      best_eval_loss=None, started=None, duration_s=None, last_step=None,
                                      total_steps=None, message=f"{type(exc).__name__}: {exc}"))
    out.sort(key=lambda s: (s.started or 0.0, s.run_id), reverse=True)
    return out


def find_run(ref: str, base: Path | None = None) -> Path:
    """A run directory from a path, a full run id, or a unique prefix/suffix of one."""
    candidate = Path(ref).expanduser()
    if candidate.is_dir() and ((candidate / CONFIG_NAME).exists() or (candidate / EVENT_LOG_NAME).exists()):
        return candidate.resolve()
    base = Path(base) if base is not None else paths.runs_dir()
    if (base / ref).is_dir():
        return base / ref
    matches = sorted(p for p in _child_dirs(base) if p.name.startswith(ref) or p.name.endswith(ref))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunDirError(f"no run '{ref}' in {base}; 'ftui runs' lists them.")
    raise RunDirError(f"'{ref}' matches {len(matches)} runs ({', '.join(m.name for m in matches[:3])}...); give more of the id.")
