"""A run's checkpoints: keep the best one, list them, pick the adapter a finished run keeps.

Transformers' own rotation (``save_total_limit``) protects the best checkpoint only inside
the limit (limit 2 keeps best + newest, dropping the second newest), and it only knows a
best checkpoint when one was *saved* at the best eval's step: with ``save_steps`` 100 and
``eval_steps`` 50 the best eval at step 250 has no checkpoint at all. So when a run has
eval data ftui:

- asks the Trainer to save right after every eval that sets a new best eval loss
  (``KeepBest.on_evaluate`` sets ``control.should_save``; the Trainer's own
  ``metric_for_best_model="eval_loss"`` bookkeeping then records it as
  ``best_model_checkpoint``);
- rotates checkpoints itself (``rotate``): the newest ``save_total_limit`` plus the best;
- at the end, keeps the best checkpoint's weights as the run's adapter (``adapter/``) and
  the last step's as ``adapter-last/`` (``model/`` and ``model-last/`` for a full
  fine-tune), said in the run log and recorded in ``run.json`` (``final``).

Without eval data nothing changes: the last step is the adapter, as before.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.train import runs

# what a checkpoint holds besides the weights: resume state, never part of an exported model
RESUME_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json", "training_args.bin")
WEIGHT_GLOBS = ("*.safetensors", "*.bin")
LAST_SUFFIX = "-last"


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint directory of a run, as the Runs view and the CLI list it."""

    step: int
    path: Path
    eval_loss: float | None  # the eval at this step, when one ran there
    size_bytes: int
    best: bool = False  # the run's best checkpoint by eval loss
    problem: str | None = None  # why it cannot be resumed from (truncated file), else None

    @property
    def name(self) -> str:
        return self.path.name


def checkpoint_step(path: Path) -> int | None:
    match = re.fullmatch(r"checkpoint-(\d+)", Path(path).name)
    return int(match.group(1)) if match else None


def _dir_size(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file():
                total += item.stat().st_size
        except OSError:
            pass
    return total


def _trainer_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _eval_loss_at(state: dict[str, Any], step: int) -> float | None:
    for entry in reversed(state.get("log_history") or []):
        if entry.get("step") == step and "eval_loss" in entry:
            try:
                return float(entry["eval_loss"])
            except (TypeError, ValueError):
                return None
    return None


def best_checkpoint(run_dir: Path) -> Path | None:
    """The best checkpoint by eval loss still on disk: the newest trainer state's ``best_model_checkpoint``,
    else the lowest eval loss recorded at a checkpoint's own step."""
    found = list_checkpoints(run_dir, mark_best=False)
    for info in sorted(found, key=lambda c: c.step, reverse=True):
        named = _trainer_state(info.path).get("best_model_checkpoint")
        if named and checkpoint_step(Path(named)) in {c.step for c in found}:
            return runs.checkpoints_dir(run_dir) / Path(named).name
        break
    scored = [c for c in found if c.eval_loss is not None]
    return min(scored, key=lambda c: (c.eval_loss, c.step)).path if scored else None


def list_checkpoints(run_dir: Path, mark_best: bool = True) -> list[CheckpointInfo]:
    """Every ``checkpoint-N`` of a run, oldest first, with its eval loss, size and whether it is the best."""
    base = runs.checkpoints_dir(run_dir)
    if not base.is_dir():
        return []
    out: list[CheckpointInfo] = []
    try:
        children = list(base.iterdir())
    except OSError:
        return []
    for child in children:
        step = checkpoint_step(child)
        if step is None or not child.is_dir():
            continue
        state = _trainer_state(child)
        out.append(CheckpointInfo(step=step, path=child, eval_loss=_eval_loss_at(state, step),
                                  size_bytes=_dir_size(child), problem=runs.checkpoint_problem(child)))
    out.sort(key=lambda c: c.step)
    if mark_best and out:
        best = best_checkpoint(run_dir)
        out = [CheckpointInfo(c.step, c.path, c.eval_loss, c.size_bytes, best=best is not None and c.path == best,
                              problem=c.problem) for c in out]
    return out


def find_checkpoint(run_dir: Path, ref: str | int) -> Path:
    """``checkpoint-N`` / ``N`` / ``best`` / ``last`` of a run -> its directory; RunDirError with the choices."""
    text = str(ref).strip()
    found = list_checkpoints(run_dir)
    names = ", ".join(c.name for c in found) or "none"
    if text in ("best", "last"):
        chosen = next((c for c in found if c.best), None) if text == "best" else (found[-1] if found else None)
        if chosen is None:
            raise runs.RunDirError(f"run {Path(run_dir).name} has no {text} checkpoint (checkpoints: {names})")
        return chosen.path
    step = text.removeprefix("checkpoint-")
    if not step.isdigit():
        raise runs.RunDirError(f"'{text}' is not a checkpoint; use checkpoint-N, N, best or last (checkpoints: {names})")
    for info in found:
        if info.step == int(step):
            return info.path
    raise runs.RunDirError(f"run {Path(run_dir).name} has no checkpoint-{int(step)} (checkpoints: {names})")


# ---------------------------------------------------------------------------------- rotation


def rotate(checkpoints_dir: Path, limit: int, best: str | Path | None) -> list[Path]:
    """Delete the oldest checkpoints beyond the newest ``limit``, never the best one; returns what went.

    ``limit`` 0 keeps everything. The best checkpoint is kept *in addition* to the limit.
    """
    if limit <= 0:
        return []
    found = sorted((s, p) for p in Path(checkpoints_dir).glob("checkpoint-*")
                   if p.is_dir() and (s := checkpoint_step(p)) is not None)
    keep = {p for _, p in found[-limit:]}
    if best:
        keep.add(Path(checkpoints_dir) / Path(best).name)
    removed = []
    for _, path in found:
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def keep_best_callback(limit: int) -> Any:
    """A ``TrainerCallback`` that saves at every new best eval loss and rotates checkpoints (see module doc)."""
    from transformers import TrainerCallback

    class KeepBest(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: ANN001, ANN201
            loss = (metrics or {}).get("eval_loss")
            if loss is None or state.global_step <= 0:  # eval_on_start: the untrained model is no checkpoint
                return control
            best = state.best_metric  # the Trainer updates it after this callback
            if best is None or float(loss) < float(best):
                control.should_save = True
            return control

        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001, ANN201
            if state.is_world_process_zero:
                rotate(Path(args.output_dir), limit, state.best_model_checkpoint)
            return control

    return KeepBest()


# ---------------------------------------------------------------------------------- the final adapter


def copy_weights(checkpoint: Path, dest: Path) -> bool:
    """Copy a checkpoint's model files (weights, adapter/model config; no optimizer or trainer state) to
    ``dest``. False when the checkpoint holds no weights file (nothing is copied then)."""
    checkpoint, dest = Path(checkpoint), Path(dest)
    files = [p for p in checkpoint.iterdir() if p.is_file() and p.name not in RESUME_FILES
             and not p.name.startswith("rng_state")]
    if not any(p.match(g) for p in files for g in WEIGHT_GLOBS):
        return False
    dest.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy2(path, dest / path.name)
    return True


def last_dir(final_dir: Path) -> Path:
    """Where the last step's weights go when the best checkpoint is the run's adapter (``adapter-last``)."""
    return Path(final_dir).with_name(Path(final_dir).name + LAST_SUFFIX)


def best_to_keep(state: Any, run_dir: Path) -> Path | None:
    """The best checkpoint to keep as the run's final weights, or None to keep the last step's.

    Only when eval ran (the Trainer tracked a best eval loss) and the best checkpoint is on disk and is
    not the last step itself.
    """
    named = getattr(state, "best_model_checkpoint", None)
    if not named or getattr(state, "best_metric", None) is None:
        return None
    path = runs.checkpoints_dir(run_dir) / Path(named).name
    if not path.is_dir() or checkpoint_step(path) == int(getattr(state, "global_step", -1)):
        return None
    return path


def describe_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
