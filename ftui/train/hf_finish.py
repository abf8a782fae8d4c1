"""The end of a Hugging Face run: the last save, the adapter kept, the merge, the terminal event.

``finish_run`` saves on every rank (a collective under ZeRO-3 / FSDP), keeps the best
checkpoint's weights as the adapter (``adapter-last`` the last step's) when eval ran, merges
on request (``merge_adapter``: sharded, the same as PEFT's ``merge_and_unload``) and emits
``finished`` or ``stopped``. The SFT and the preference backends end their runs here.
"""

from __future__ import annotations

import gc
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.train import runs
from ftui.train.control import RunControl
from ftui.train.errors import TrainError
from ftui.train.events import Finished, Message, Stopped
from ftui.train.hf_setup import say

Emit = Callable[[Any], None]


def finish_run(trainer: Any, tokenizer: Any, config: RunConfig, run_dir: Path, emit: Emit, control: RunControl,
               callback: Any, distributed: bool, started: float) -> None:
    """Save (stop-and-save or the final save) and emit the terminal event.

    ``trainer.save_model`` runs on *every* rank: under DeepSpeed ZeRO-3 and FSDP it
    gathers the sharded weights, a collective that hangs if rank 0 calls it alone (the
    Trainer itself lets only the main process write). Only rank 0 writes the tokenizer,
    merges and emits. Under a launcher the ranks decide stop/save from the flags rank 0
    broadcast at the last step (``callback.agreed_stop``), so they all save or none does.
    """
    step = int(trainer.state.global_step)
    main = trainer.is_world_process_zero()
    stop, save = callback.agreed_stop if distributed else (control.stop_requested, control.save_requested)
    if stop:
        ckpt = runs.latest_checkpoint(run_dir) if save and main else None
        if save:
            _save_final(trainer, tokenizer, config, run_dir, emit, merge=False, main=main)
        if main:
            emit(Stopped(step=step, saved=save, checkpoint=str(ckpt) if ckpt else None))
        return

    from ftui.train.checkpoints import best_to_keep

    best = best_to_keep(trainer.state, run_dir)  # None without eval: the last step is the adapter, as ever
    adapter_path, merged_path, last_path = _save_final(trainer, tokenizer, config, run_dir, emit,
                                                       merge=config.merge_at_end, main=main, best=best)
    if not main:
        return
    best_metric = trainer.state.best_metric
    resumed_from = getattr(callback, "ftui_resumed_from", 0) or 0
    resumed = f" (steps {resumed_from + 1}-{step}, resumed at {resumed_from})" if resumed_from else ""
    say(emit, f"trained {step - resumed_from} steps{resumed} in {time.monotonic() - started:.0f} s")
    emit(
        Finished(
            step=step,
            adapter_path=adapter_path,
            merged_path=merged_path,
            best_checkpoint=trainer.state.best_model_checkpoint,
            best_eval_loss=float(best_metric) if best_metric is not None else None,
            kept_checkpoint=str(best) if best is not None and last_path else None,
            last_path=last_path,
        )
    )


def _save_final(trainer: Any, tokenizer: Any, config: RunConfig, run_dir: Path, emit: Emit, merge: bool,
                main: bool = True, best: Path | None = None) -> tuple[str | None, str | None, str | None]:
    """Write the adapter (LoRA) or the model (full) with its tokenizer; merge on request.

    ``best`` (a checkpoint; only when eval ran): its weights become the adapter/model and the last
    step's go to ``adapter-last``/``model-last`` -- returned third, else None. Called on every rank
    (``save_model`` is collective under ZeRO-3 / FSDP); only the main process (``main``) writes the
    tokenizer, copies the best weights and merges.
    """
    from ftui.train.checkpoints import copy_weights, last_dir

    out = run_dir / ("model" if config.method == "full" else runs.ADAPTER_DIR)
    what = "model" if config.method == "full" else "adapter"
    loaded_best = best is not None and bool(getattr(trainer.args, "load_best_model_at_end", False))
    # early stopping already loaded the best weights into the trainer: they are saved as the final ones
    target = last_dir(out) if best is not None and not loaded_best else out
    if main:
        say(emit, f"saving the last step's {what} to {target.name}/" if target != out else f"saving the {what}")
    trainer.save_model(str(target))
    if not main:
        return None, None, None
    tokenizer.save_pretrained(str(target))
    last_path: str | None = None
    if best is not None:
        step = int(trainer.state.global_step)
        loss = trainer.state.best_metric
        if loaded_best:
            latest = runs.latest_checkpoint(run_dir)
            if latest is not None and latest != best and copy_weights(latest, last_dir(out)):
                tokenizer.save_pretrained(str(last_dir(out)))
                last_path = str(last_dir(out))
        else:
            shutil.rmtree(out, ignore_errors=True)
            if copy_weights(best, out):
                tokenizer.save_pretrained(str(out))
                last_path = str(target)
            else:  # a checkpoint without weights files (an unusual launcher layout): the last step it is
                shutil.move(str(target), str(out))
                emit(Message(text=f"{best.name} holds no weights file; the {what} is the last step's", level="warning"))
        if last_path:
            say(emit, f"the {what} is {best.name}'s, the best eval loss ({float(loss):.4f}); "
                       f"the last step's ({step}) is in {Path(last_path).name}/")
        runs.update_run_metadata(run_dir, final={"path": str(out), "from": best.name if last_path else f"step {step}",
                                                 "best_eval_loss": float(loss) if loss is not None else None,
                                                 "last": last_path})
    else:
        shutil.rmtree(last_dir(out), ignore_errors=True)  # an earlier attempt's, now stale
    if config.method == "full":
        return None, str(out), last_path
    if not merge:
        return str(out), None, last_path
    say(emit, "merging the adapter into the base model")
    merged_dir = run_dir / runs.MERGED_DIR
    report = merge_adapter(str(out), str(merged_dir), config)
    say(emit, report.describe())
    return str(out), str(merged_dir), last_path


def merge_adapter(adapter_dir: str, out_dir: str, config: RunConfig) -> Any:
    """Merge a LoRA adapter into its base and save it (safetensors, the base's own dtype).

    Never loads the whole base into host RAM (a 70B base is ~140 GB): on the GPU when it fits
    there, else shard by shard (``ftui.train.merge``). Returns the ``MergeReport``.
    """
    from ftui.train.merge import MergeError, merge

    _free_device_memory()  # the trained copy may still hold the GPU the merge wants
    try:
        return merge(adapter_dir, out_dir, base=config.model)
    except MergeError as exc:
        raise TrainError(f"merging the adapter failed: {exc}",
                         f"the adapter is saved in {adapter_dir}; merge it later or use it as an adapter") from None


def _free_device_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
