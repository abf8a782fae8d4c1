"""Preference training (DPO, ORPO, KTO) with TRL on the same worker, event log and controls as SFT.

``run_preference(config, run_dir, emit, control, resume=False)`` is ``run_hf``'s sibling: the same
device pinning, attention and checkpointing choices, model loading (a LoRA adapter on a bf16 base,
or QLoRA's 4-bit base), ``MetricsCallback`` (stop / stop-and-save / memory), checkpoint rotation,
resume and final save (``hf_finish.finish_run``). Only the trainer differs:

- ``dpo``: ``trl.DPOTrainer``; ``kto``: ``trl.KTOTrainer``. Both get the base model with a
  ``peft_config`` and ``ref_model=None``, so TRL computes the reference log-probs with the adapter
  disabled: the reference costs no second copy of the weights, only one extra no-grad forward a step.
- ``orpo``: ``trl.experimental.orpo.ORPOTrainer`` (ORPO moved to ``trl.experimental`` in TRL 1.x); it
  has no reference model at all (the odds-ratio term rides on the SFT loss of the chosen answer).

The trainers log ``rewards/chosen``, ``rewards/rejected``, ``rewards/margins`` and
``rewards/accuracies`` (KTO: no accuracy); the callback puts them on the ``log`` events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftui.config import PREFERENCE_METHODS, RunConfig, weights_method
from ftui.train import hf_backend as hf
from ftui.train import hf_finish, hf_setup, runs
from ftui.train.control import RunControl
from ftui.train.errors import TrainError
from ftui.train.events import DataAccounting, Message, Started, Stopped

Emit = Callable[[Any], None]
SFT_ONLY_KEYS = ("packing", "assistant_only_loss", "completion_only_loss", "dataset_text_field")


def config_class(method: str) -> Any:
    """TRL's config class for a preference method (its fields are what ``extra`` may set)."""
    if method == "dpo":
        from trl import DPOConfig

        return DPOConfig
    if method == "kto":
        from trl import KTOConfig

        return KTOConfig
    if method == "orpo":
        import warnings

        with warnings.catch_warnings():  # "experimental" notice: ftui says which trainer it runs
            warnings.simplefilter("ignore")
            from trl.experimental.orpo import ORPOConfig
        return ORPOConfig
    raise TrainError(f"method '{method}' is not a preference method", f"use one of {', '.join(PREFERENCE_METHODS)}")


def trainer_class(method: str) -> Any:
    if method == "dpo":
        from trl import DPOTrainer

        return DPOTrainer
    if method == "kto":
        from trl import KTOTrainer

        return KTOTrainer
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from trl.experimental.orpo import ORPOTrainer
    return ORPOTrainer


def build_preference_config(config: RunConfig, run_dir: Path, has_eval: bool, resume: bool) -> Any:
    """The DPOConfig / KTOConfig / ORPOConfig of a run: the shared arguments, ``beta``, then ``extra``."""
    cls = config_class(config.method)
    kwargs = hf.trainer_kwargs(config, run_dir, has_eval, resume)
    kwargs["beta"] = config.beta
    if config.method == "orpo":
        kwargs.pop("activation_checkpointing_kwargs", None)
    kwargs.update(config.extra or {})
    for key in SFT_ONLY_KEYS:
        kwargs.pop(key, None)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in kwargs.items() if k in known and (v is not None or k == "save_total_limit")})


def describe_reference(method: str, adapter: str, init_adapter: str | None = None) -> str:
    """The run-log line that says how the reference model is had (and what it costs)."""
    if method == "orpo":
        return "orpo: no reference model (odds-ratio loss on top of the chosen answer's SFT loss)"
    if init_adapter:
        return (f"{method}: training on from the adapter {Path(init_adapter).parent.name}/{Path(init_adapter).name}; "
                "reference = that adapter, frozen (TRL keeps a copy of its weights, not of the base)")
    base = "4-bit base" if adapter == "qlora" else "base"
    return (f"{method}: reference = the {base} with the adapter disabled (no second copy of the weights; "
            "one extra forward without gradients per step)")


def run_preference(
    config: RunConfig,
    run_dir: Path,
    emit: Emit,
    control: RunControl,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> None:
    """Train ``config`` (method dpo / orpo / kto) into ``run_dir``; ends with ``finished`` or ``stopped``."""
    from ftui.models import info as modelinfo
    from ftui.train.bad_rows import record_bad_rows, skips
    from ftui.train.devices import pin_training_args
    from ftui.train.gpu import describe_device
    from ftui.train.preference_data import (
        PreferenceDataError,
        build_preference_datasets,
        render_problem,
        skip_refused,
        skip_refused_eval,
        skipped_note,
    )

    run_dir = Path(run_dir)
    hf_setup.quiet_libraries()
    if config.method not in PREFERENCE_METHODS:
        raise TrainError(f"method '{config.method}' is not a preference method", f"use one of {', '.join(PREFERENCE_METHODS)}")
    weights = weights_method(config)
    load_config = dataclasses.replace(config, method=weights)  # what hf_backend loads: a LoRA or QLoRA model
    device_choice = hf_setup.pin_run_device(config, emit)
    if weights == "qlora":
        hf.check_qlora_available()
    hf_setup.say(emit, "reading the model config")
    try:
        info = modelinfo.inspect_model(config.model)
        targets = modelinfo.resolve_target_modules(config.target_modules, info)
    except modelinfo.ModelInfoError as exc:
        raise TrainError(str(exc), "give a local model directory, a Hub id available offline, or 'demo'; "
                                   "target_modules: 'all-linear', 'attention' or names the model has") from None
    attention = hf_setup.decide_attention(config, info)
    hf_setup.say(emit, attention.note)

    hf_setup.say(emit, "loading the preference data")
    try:
        train_ds, eval_ds, loaded = build_preference_datasets(config)
    except PreferenceDataError as exc:
        raise TrainError(str(exc), "fix the dataset or train_path / eval_path") from None
    note = None if loaded.bad_rows else skipped_note(loaded, config.train_path)  # skipped rows are listed below
    if note:
        emit(Message(text=note, level="warning"))

    import datasets
    import torch
    from transformers import AutoTokenizer, PrinterCallback


    datasets.disable_progress_bars()
    torch.manual_seed(config.seed)
    hf_setup.tune_cpu_threads(info.num_parameters)
    hf_setup.download_from_hub(info.path, emit)
    hf_setup.say(emit, f"loading {config.model}")
    tokenizer = AutoTokenizer.from_pretrained(info.path, trust_remote_code=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    skip = skips(config)
    refused = render_problem(tokenizer, [] if skip else train_ds.select(range(min(16, len(train_ds)))).to_list(), config.model)
    if refused:
        raise TrainError(*refused)
    if skip:
        try:
            train_ds = skip_refused(tokenizer, train_ds, loaded, config.model)
        except PreferenceDataError as exc:
            raise TrainError(str(exc), "fix the rows or use another model") from None
    if eval_ds is not None:
        eval_ds, eval_note = skip_refused_eval(tokenizer, eval_ds, loaded, config.model, skip)
        if eval_note:
            emit(Message(text=eval_note, level="warning"))
    record_bad_rows(loaded.bad_rows, run_dir, emit, hf._is_rank_zero())
    bf16, _ = hf.choose_precision(config)
    config, gpu_gb = hf_setup.resolve_checkpointing(config, emit)
    load_config = dataclasses.replace(load_config, gradient_checkpointing=config.gradient_checkpointing)
    args = build_preference_config(config, run_dir, eval_ds is not None, resume)
    pin_training_args(args, device_choice)
    optimizer = str(getattr(args.optim, "value", args.optim))
    hf_setup.say(emit, f"optimizer: {optimizer}")
    hf_setup.say(emit, describe_reference(config.method, weights, config.init_adapter))
    model = hf.load_model(load_config, info.path, bf16, str(attention.value))
    peft_config = hf.lora_config(config, targets)
    if config.init_adapter:
        model, peft_config = _start_from_adapter(model, config.init_adapter), None
    kernel = str(getattr(model.config, "_attn_implementation", None) or attention.value)
    distributed = int(getattr(args, "world_size", 1) or 1) > 1
    callback, all_callbacks = hf.run_callbacks(config, args, emit, control, device_choice, callbacks, eval_ds is not None)
    hf_setup.say(emit, "tokenizing")
    trainer = trainer_class(config.method)(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=all_callbacks,
    )
    trainer.remove_callback(PrinterCallback)
    checkpoint = runs.resume_checkpoint(run_dir) if resume else None
    resumed_from = hf._checkpoint_step(checkpoint) if checkpoint else None
    callback.ftui_resumed_from = resumed_from or 0
    meta = runs.read_run_metadata(run_dir)
    device = describe_device()
    estimate_gb, estimate_torch_gb = hf_setup.estimate_lines(config, gpu_gb)
    if trainer.is_world_process_zero():
        runs.update_run_metadata(run_dir, device=device, world_size=args.world_size, attn_implementation=kernel,
                                 optimizer=optimizer, adapter=weights, beta=config.beta, init_adapter=config.init_adapter)
    emit(Started(
        run_id=run_dir.name,
        method=config.method,
        model=config.model,
        total_steps=hf.total_steps(trainer, config),
        num_epochs=config.num_epochs if config.max_steps <= 0 else None,
        device=device,
        pid=hf._pid(),
        resumed_from_step=resumed_from,
        versions=meta.get("versions"),
        datasets=meta.get("datasets"),
        estimate_gb=estimate_gb,
        estimate_torch_gb=estimate_torch_gb,
    ))
    _emit_accounting(trainer, train_ds, loaded.skipped, config, emit, loaded.bad_rows)
    if control.stop_requested and not distributed:
        emit(Stopped(step=int(trainer.state.global_step), saved=False))
        return
    started = hf.train_frozen(trainer, callback, checkpoint)
    hf_finish.finish_run(trainer, tokenizer, load_config, run_dir, emit, control, callback, distributed, started)


def _start_from_adapter(model: Any, adapter_dir: str) -> Any:
    """The model with ``adapter_dir`` loaded trainable; TRL then freezes a copy of it as the reference."""
    from peft import PeftModel

    if not (Path(adapter_dir) / "adapter_config.json").is_file():
        raise TrainError(f"init_adapter: {adapter_dir} is not a PEFT adapter (no adapter_config.json)",
                         "give a LoRA run's adapter/ directory, or leave init_adapter empty")
    return PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)


def _emit_accounting(trainer: Any, given: Any, skipped: int, config: RunConfig, emit: Emit, bad_rows: Any = ()) -> None:
    """One ``data`` event: rows given, rows TRL kept (DPO drops a row whose prompt alone fills max_seq_len)."""
    from ftui.train.bad_rows import event_rows

    kept = trainer.train_dataset
    rows_in = len(given)
    rows_trained = len(kept) if hasattr(kept, "__len__") else rows_in
    emit(DataAccounting(dataset="train", rows_in=rows_in, rows_trained=rows_trained, dropped=max(0, rows_in - rows_trained),
                        skipped=skipped, max_seq_len=config.max_seq_len, skipped_rows=event_rows(bad_rows, "train")[0]))
    if rows_trained < rows_in:
        emit(Message(text=f"{rows_in - rows_trained} of {rows_in} rows dropped: the prompt alone fills "
                          f"max_seq_len {config.max_seq_len}; raise max_seq_len to keep them", level="warning"))
