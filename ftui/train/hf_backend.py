"""The Hugging Face backend: full / LoRA / QLoRA fine-tuning through TRL's SFTTrainer.

``run_hf(config, run_dir, emit, control, resume=False)`` is called on the worker thread
(or the main thread of an ``accelerate launch`` rank). It uses the libraries' own
machinery end to end: ``SFTConfig``/``SFTTrainer`` (assistant-only loss on chat data),
PEFT ``LoraConfig``, ``BitsAndBytesConfig`` + ``prepare_model_for_kbit_training`` for
QLoRA, the Trainer's checkpointing and resume, ``EarlyStoppingCallback``. It emits a
``started`` event, then the callback's log/eval/memory/checkpoint events, and ends with
``finished`` or ``stopped``; anything raised is turned into ``failed`` by the worker.

Every refusal that can be decided without weights (QLoRA without CUDA, unknown target
modules, unreadable data) happens before the model is loaded.
"""

from __future__ import annotations

import gc
import math
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.train import runs
from ftui.train.bad_rows import record_bad_rows
from ftui.train.control import RunControl
from ftui.train.errors import TrainError
from ftui.train.events import Finished, Message, Started, Stopped

Emit = Callable[[Any], None]


def _say(emit: Emit, text: str) -> None:
    emit(Message(text=text))


def check_qlora_available() -> None:
    """Raise TrainError unless 4-bit QLoRA can run here (CUDA + bitsandbytes). Loads no weights."""
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise TrainError(
            "QLoRA needs an NVIDIA GPU with CUDA, and none is available here",
            "use method: lora (or full) on this machine, or run the config on a GPU box",
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainError("QLoRA needs the bitsandbytes package", "pip install bitsandbytes, or use method: lora")


def choose_precision(config: RunConfig) -> tuple[bool, bool]:
    """(bf16, fp16) for the trainer: bf16 where supported, fp32 on CPU."""
    import torch

    cuda = trains_on_gpu(config)
    if config.precision == "fp32":
        return False, False
    if config.precision == "bf16":
        return True, False
    if config.precision == "fp16":
        return False, True
    if cuda and torch.cuda.is_bf16_supported():
        return True, False
    if cuda:
        return False, True
    return False, False


def checkpointing_on(config: RunConfig) -> bool:
    """The checkpointing switch; an unresolved ``auto`` (callers that skip ``resolve_checkpointing``) means on."""
    value = config.gradient_checkpointing
    return value if isinstance(value, bool) else True


def build_sft_config(config: RunConfig, run_dir: Path, kind: str, has_eval: bool, resume: bool, masking: Any = None) -> Any:
    """The SFTConfig of a run; ``masking`` (a ``masking.MaskingPlan``) sets the loss switches when given."""
    from trl import SFTConfig

    kwargs = trainer_kwargs(config, run_dir, has_eval, resume)
    kwargs.update(
        packing=config.packing,
        assistant_only_loss=masking.assistant_only_loss if masking is not None else config.assistant_only_loss and kind == "chat",
        completion_only_loss=masking.completion_only_loss if masking is not None else None,  # True: pre-tokenized prompt/completion rows
        dataset_text_field="text",
    )
    kwargs.update(config.extra or {})
    return SFTConfig(**{k: v for k, v in kwargs.items() if v is not None or k in ("save_total_limit",)})


def trainer_kwargs(config: RunConfig, run_dir: Path, has_eval: bool, resume: bool) -> dict[str, Any]:
    """The TrainingArguments every ftui trainer shares (SFT and the preference trainers), before ``extra``."""
    from ftui.train.gpu_defaults import choose_optimizer, choose_tf32, probe_environment

    bf16, fp16 = choose_precision(config)
    env = probe_environment(config)
    early = config.early_stopping_patience > 0 and has_eval
    save_steps = config.eval_steps if early else config.save_steps
    kwargs: dict[str, Any] = dict(
        output_dir=str(runs.checkpoints_dir(run_dir)),
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float < 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        per_device_train_batch_size=config.micro_batch_size,
        per_device_eval_batch_size=config.micro_batch_size,
        gradient_accumulation_steps=config.grad_accum,
        max_length=config.max_seq_len,
        activation_checkpointing=checkpointing_on(config),  # transformers 5 name of gradient checkpointing
        activation_checkpointing_kwargs={"use_reentrant": False} if checkpointing_on(config) else None,
        optim=choose_optimizer(config, env).value,  # "auto": fused AdamW on CUDA
        bf16=bf16,
        fp16=fp16,
        tf32=True if choose_tf32(config, env).value else None,  # None leaves torch's own default alone
        logging_steps=config.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps if has_eval else None,
        eval_on_start=has_eval and not resume,
        save_strategy="steps",
        save_steps=save_steps,
        # with eval data ftui rotates itself, keeping the best checkpoint beside the newest N (train.checkpoints)
        save_total_limit=None if has_eval else config.save_total_limit or None,
        load_best_model_at_end=early,
        metric_for_best_model="eval_loss" if has_eval else None,  # the Trainer tracks best_model_checkpoint
        greater_is_better=False if has_eval else None,
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        skip_memory_metrics=True,
        trust_remote_code=False,
        disable_tqdm=True,
        dataloader_pin_memory=trains_on_gpu(config),
        use_cpu=not trains_on_gpu(config),
        ddp_find_unused_parameters=False,  # LoRA/full: every trainable parameter is used each step
    )
    return kwargs


def load_model(config: RunConfig, model_path: str, bf16: bool, attn_implementation: str | None = None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"trust_remote_code": False}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation  # decided by gpu_defaults.choose_attention
    if config.method == "qlora":
        from transformers import BitsAndBytesConfig

        compute = getattr(torch, config.compute_dtype)
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=config.load_in_4bit_quant_type,
            bnb_4bit_use_double_quant=config.double_quant,
            bnb_4bit_compute_dtype=compute,
            bnb_4bit_quant_storage=compute,
        )
        kwargs["dtype"] = compute
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    elif config.method == "lora" and bf16:
        kwargs["dtype"] = torch.bfloat16  # frozen base in bf16; PEFT keeps the adapters in fp32
    elif config.method == "full" and config.precision == "bf16":
        # the explicit pure-bf16 recipe: bf16 weights, grads and AdamW states, no fp32 master copy (8 B/param,
        # 6 with an 8-bit optimizer) -- what lets a 7-8B full fine-tune fit an 80 GB card
        kwargs["dtype"] = torch.bfloat16
    else:
        kwargs["dtype"] = torch.float32  # precision auto: fp32 master weights under bf16 autocast (16 B/param)
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=checkpointing_on(config),
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    return model


def lora_config(config: RunConfig, targets: str | list[str]) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def total_steps(trainer: Any, config: RunConfig) -> int:
    """The optimizer steps the trainer will run (its own formula, for the progress bar)."""
    if config.max_steps > 0:
        return config.max_steps
    batches = len(trainer.get_train_dataloader())
    per_epoch = max(batches // config.grad_accum + int(batches % config.grad_accum > 0), 1)
    return math.ceil(config.num_epochs * per_epoch)


def run_hf(
    config: RunConfig,
    run_dir: Path,
    emit: Emit,
    control: RunControl,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> None:
    """Train ``config`` into ``run_dir``; ends by emitting ``finished`` or ``stopped`` (raises on failure)."""
    from ftui.models import info as modelinfo
    from ftui.train.accounting import sft_trainer_class
    from ftui.train.dataset import DataError, build_datasets, eval_cap_note
    from ftui.train.devices import pin_training_args
    from ftui.train.gpu import describe_device

    run_dir = Path(run_dir)
    quiet_libraries()
    if config.method not in ("full", "lora", "qlora"):
        raise TrainError(f"method '{config.method}' is not a Hugging Face method", "use full, lora or qlora")
    device_choice = _pin_device(config, emit)
    if config.method == "qlora":
        check_qlora_available()
    _say(emit, "reading the model config")
    try:
        info = modelinfo.inspect_model(config.model)
    except modelinfo.ModelInfoError as exc:
        raise TrainError(str(exc), "give a local model directory, a Hub id available offline, or 'demo'") from None
    targets: str | list[str] | None = None
    if config.method in ("lora", "qlora"):
        try:
            targets = modelinfo.resolve_target_modules(config.target_modules, info)
        except modelinfo.ModelInfoError as exc:
            raise TrainError(f"target_modules: {exc}", "use 'all-linear', 'attention' or names from that list") from None
    attention = decide_attention(config, info)
    _say(emit, attention.note)

    _say(emit, "loading the data")
    try:
        train_ds, eval_ds, loaded = build_datasets(config)
    except DataError as exc:
        raise TrainError(str(exc), "fix the dataset or train_path / eval_path / data_format") from None
    if loaded.skipped and not loaded.bad_rows:  # under on_bad_rows: skip the masking step says it, row by row
        _say(emit, f"skipped {loaded.skipped} rows of {Path(config.train_path).name} that have no usable answer")
    note = eval_cap_note(config, loaded)
    if note:
        _say(emit, note)

    import datasets
    import torch
    from transformers import AutoTokenizer, PrinterCallback

    datasets.disable_progress_bars()  # the event log and our progress bar say what happens


    torch.manual_seed(config.seed)
    tune_cpu_threads(info.num_parameters)
    download_from_hub(info.path, emit)
    _say(emit, f"loading {config.model}")
    tokenizer = AutoTokenizer.from_pretrained(info.path, trust_remote_code=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    masking, train_ds, eval_ds = _plan_masking(config, tokenizer, loaded.kind, train_ds, eval_ds, run_dir, emit, loaded)
    bf16, _ = choose_precision(config)
    config, gpu_gb = resolve_checkpointing(config, emit)  # "auto" becomes on/off here, said in the run log
    # the args first: under DeepSpeed ZeRO-3 they make from_pretrained load the weights already partitioned
    args = build_sft_config(config, run_dir, loaded.kind, eval_ds is not None, resume, masking=masking)
    pin_training_args(args, device_choice)  # one GPU, never nn.DataParallel (TRL refuses it)
    optimizer = str(getattr(args.optim, "value", args.optim))
    _say(emit, f"optimizer: {optimizer}" + (" (fused AdamW on CUDA)" if config.optimizer == "auto" and optimizer.endswith("_fused") else ""))
    _say(emit, _tf32_note(config))
    model = load_model(config, info.path, bf16, str(attention.value))
    kernel = str(getattr(model.config, "_attn_implementation", None) or attention.value)  # what transformers settled on
    if kernel != attention.value:
        _say(emit, f"attention: transformers runs {kernel} for this model")
    distributed = int(getattr(args, "world_size", 1) or 1) > 1
    callback, all_callbacks = run_callbacks(config, args, emit, control, device_choice, callbacks, eval_ds is not None)
    _say(emit, "tokenizing")
    trainer = sft_trainer_class()(  # TRL's SFTTrainer, counting the rows truncation cuts or drops
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora_config(config, targets) if targets is not None else None,
        callbacks=all_callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # our events replace its prints of every log dict
    checkpoint = runs.resume_checkpoint(run_dir) if resume else None  # latest, or the one the user picked
    resumed_from = _checkpoint_step(checkpoint) if checkpoint else None
    callback.ftui_resumed_from = resumed_from or 0  # "trained N steps" counts this attempt's steps only
    for damaged, why in runs.damaged_checkpoints(run_dir) if resume else []:
        fallback = f"resuming from {checkpoint.name}" if checkpoint else "starting from step 0"
        _say(emit, f"checkpoint {damaged.name} is damaged ({why}); {fallback} instead")
    meta = runs.read_run_metadata(run_dir)
    device = describe_device()
    estimate_gb, estimate_torch_gb = _estimates(config, gpu_gb)
    if trainer.is_world_process_zero():
        runs.update_run_metadata(run_dir, device=device, world_size=args.world_size, attn_implementation=kernel,
                                 optimizer=optimizer, tf32=bool(getattr(args, "tf32", None)))
    emit(
        Started(
            run_id=run_dir.name,
            method=config.method,
            model=config.model,
            total_steps=total_steps(trainer, config),
            num_epochs=config.num_epochs if config.max_steps <= 0 else None,
            device=device,
            pid=_pid(),
            resumed_from_step=resumed_from,
            versions=meta.get("versions"),
            datasets=meta.get("datasets"),
            estimate_gb=estimate_gb,
            estimate_torch_gb=estimate_torch_gb,
            masking=masking.record(),
        )
    )
    emit_data_accounting(trainer, loaded.skipped, run_dir, emit, loaded.bad_rows)
    if control.stop_requested and not distributed:  # under a launcher the first step's broadcast stops every rank
        emit(Stopped(step=resumed_from or 0, saved=False))
        return
    started = train_frozen(trainer, callback, checkpoint)
    finish_run(trainer, tokenizer, config, run_dir, emit, control, callback, distributed, started)


def run_callbacks(config: RunConfig, args: Any, emit: Emit, control: RunControl, device_choice: Any,
                  callbacks: Sequence[Any], has_eval: bool) -> tuple[Any, list[Any]]:
    """(the MetricsCallback, every callback for the trainer): ours, best-checkpoint keeping, early stopping."""
    from transformers import EarlyStoppingCallback

    from ftui.train.gpu import MemorySampler
    from ftui.train.metrics_callback import MetricsCallback

    distributed = int(getattr(args, "world_size", 1) or 1) > 1
    callback = MetricsCallback(emit, control, MemorySampler(cuda=device_choice.kind != "cpu"), distributed_stop=distributed)
    all_callbacks: list[Any] = [*callbacks, callback]  # extra hooks first: a stop they ask for applies at this step
    if has_eval:
        from ftui.train.checkpoints import keep_best_callback

        all_callbacks.append(keep_best_callback(config.save_total_limit))  # saves each new best, rotates around it
    if args.load_best_model_at_end:
        all_callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    return callback, all_callbacks


def train_frozen(trainer: Any, callback: Any, checkpoint: Path | None) -> float:
    """``trainer.train`` with the loaded objects out of the collector's reach; returns when it started (monotonic).

    The ML stack, the model and the trainer are loaded: full collections would otherwise keep
    rescanning millions of long-lived objects, pausing every thread of the process (the TUI's
    included) for 50-100 ms. Unfrozen when training ends, so a finished run's model can be collected.
    """
    gc.freeze()
    started = time.monotonic()
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except BaseException as exc:
        exc.ftui_step = callback.current_step or None  # type: ignore[attr-defined]  # the worker names the step
        raise
    finally:
        gc.unfreeze()
    return started


def _plan_masking(config: RunConfig, tokenizer: Any, kind: str, train_ds: Any, eval_ds: Any, run_dir: Path, emit: Emit,
                  loaded: Any = None) -> tuple[Any, Any, Any]:
    """Decide the loss-masking path from the tokenizer (no weights yet), convert the data, say and record it."""
    from ftui.train.masking import MaskingError, prepare_datasets

    try:
        plan, train_ds, eval_ds = prepare_datasets(config, tokenizer, kind, train_ds, eval_ds, loaded)
    except MaskingError as exc:
        raise TrainError(exc.message, exc.fix) from None
    _say(emit, plan.describe())
    if _is_rank_zero():
        runs.update_run_metadata(run_dir, masking=plan.record())
    record_bad_rows(getattr(loaded, "bad_rows", None), run_dir, emit, _is_rank_zero())
    return plan, train_ds, eval_ds


def _is_rank_zero() -> bool:
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def emit_data_accounting(trainer: Any, skipped: int, run_dir: Path, emit: Emit, bad_rows: Sequence[Any] = ()) -> None:
    """One ``data`` event per prepared dataset (train first), also kept in run.json by rank 0.

    ``bad_rows``: the rows ``on_bad_rows: skip`` left out (``bad_rows.BadRow``), listed in the event.
    """
    from ftui.train.bad_rows import event_rows
    from ftui.train.events import DataAccounting

    accounts = getattr(trainer, "ftui_accounting", None) or {}
    records = {}
    for name in sorted(accounts, key=lambda n: n != "train"):
        counts = dict(accounts[name])
        listed, count = event_rows(bad_rows, name)
        event = DataAccounting(dataset=name, skipped=skipped if name == "train" else count, skipped_rows=listed, **counts)
        records[name] = {k: v for k, v in event.to_dict().items() if k not in ("type", "t")}
        emit(event)
    if records and trainer.is_world_process_zero():
        runs.update_run_metadata(run_dir, data_accounting=records)


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
    _say(emit, f"trained {step - resumed_from} steps{resumed} in {time.monotonic() - started:.0f} s")
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


def decide_attention(config: RunConfig, info: Any) -> Any:
    """The attention kernel for this run (``gpu_defaults.Choice``); an explicit one that cannot run here is a TrainError."""
    from ftui.train.gpu_defaults import attention_model_problem, attention_problem, choose_attention, probe_environment

    env = probe_environment(config)
    problem = attention_problem(config, env) or attention_model_problem(
        config, info.supports_flash_attn, info.supports_sdpa, info.model_type)
    if problem:
        raise TrainError(f"attn_implementation: {problem[0]}", problem[1])
    return choose_attention(config, env, info.supports_flash_attn, info.supports_sdpa)


def _tf32_note(config: RunConfig) -> str:
    from ftui.train.gpu_defaults import choose_tf32, probe_environment

    return choose_tf32(config, probe_environment(config)).note


def download_from_hub(path: str, emit: Emit) -> None:
    """Fetch a Hub model not yet in the cache with progress events, so a 16 GB download does not look frozen.

    A local directory is left alone. The progress lines carry ``key="download"``: live views
    (the monitor, ``ftui train``) replace the previous one instead of stacking them.
    """
    from ftui.models import hub
    from ftui.models.source import is_hub_id

    if Path(path).expanduser().exists() or not is_hub_id(path):
        return

    def report(progress: hub.DownloadProgress) -> None:
        emit(Message(text=progress.describe(), key=None if progress.finished else "download"))

    _say(emit, f"checking the Hugging Face cache for {path}")
    try:
        hub.download_model(path, report)
    except Exception as exc:  # noqa: BLE001 - no network, gated repo, disk full: one line, then let from_pretrained decide
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        emit(Message(text=f"could not pre-download {path} ({first[:200]}); loading it directly", level="warning"))


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
        _say(emit, f"saving the last step's {what} to {target.name}/" if target != out else f"saving the {what}")
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
            _say(emit, f"the {what} is {best.name}'s, the best eval loss ({float(loss):.4f}); "
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
    _say(emit, "merging the adapter into the base model")
    merged_dir = run_dir / runs.MERGED_DIR
    report = merge_adapter(str(out), str(merged_dir), config)
    _say(emit, report.describe())
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


TINY_MODEL_PARAMS = 20_000_000


def tune_cpu_threads(num_parameters: int) -> None:
    """One intra-op thread for a tiny model on CPU.

    Its 128-wide matrices gain nothing from splitting, and OpenMP threads spin-wait:
    on a shared 2-core box a 20-step demo run took 226 s with 2 threads, 41 s with 1.
    """
    import torch

    if not torch.cuda.is_available() and 0 < num_parameters < TINY_MODEL_PARAMS:
        torch.set_num_threads(1)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def trains_on_gpu(config: RunConfig) -> bool:
    """CUDA is here and the run may use it (``device: cpu`` keeps a GPU box's run on the CPU)."""
    from ftui.train.devices import DeviceError, parse_device, under_launcher

    if not _has_cuda():
        return False
    try:
        return under_launcher() or parse_device(config.device)[0] != "cpu"
    except DeviceError:
        return True  # validation refuses it before a run starts


def quiet_libraries() -> None:
    """Keep library chatter (progress bars, v6 deprecation notes, optional-kernel notices) off the terminal."""
    import logging
    import warnings

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*will be removed in v6.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*pin_memory.*", category=UserWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _pin_device(config: RunConfig, emit: Emit) -> Any:
    """Choose this process's device and make it current before anything touches CUDA; say which."""
    from ftui.train.devices import DeviceError, choose_device, pin_device

    try:
        choice = choose_device(config.device)
    except DeviceError as exc:
        raise TrainError(str(exc), "set device to auto, cuda:N (a GPU listed by nvidia-smi) or cpu") from None
    pin_device(choice)
    if choice.visible and choice.kind != "launcher":
        _say(emit, choice.describe())
    return choice


def _checkpoint_step(path: Path) -> int | None:
    try:
        return int(path.name.rsplit("-", 1)[-1])
    except ValueError:
        return None


def _pid() -> int:
    import os

    return os.getpid()


def _estimates(config: RunConfig, gpu_gb: float | None) -> tuple[float | None, float | None]:
    """(total GB incl. the CUDA context, torch-allocator GB without it): the memory plot's estimate lines."""
    try:
        from ftui.train.preflight.estimate import estimate_figures

        return estimate_figures(config, gpu_gb)
    except Exception:  # noqa: BLE001 - an estimate is decoration, never a failure
        return None, None


def run_gpu_gb() -> float | None:
    """The training GPU's memory in GB as the preflight sees it (FTUI_GPU_GB, NVML), or None on a CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    from ftui.train.preflight.estimate import detected_gpu_gb

    gpu_gb = detected_gpu_gb()[1]
    if gpu_gb is None:
        gpu_gb = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory / 1e9
    return gpu_gb


def resolve_checkpointing(config: RunConfig, emit: Emit) -> tuple[RunConfig, float | None]:
    """The config with ``gradient_checkpointing`` a bool (``auto`` decided by the estimate), and the GPU size.

    The same rule as the preflight and ``ftui train --check`` (``estimate.checkpointing_choice``);
    the choice and its reason go to the run log.
    """
    import dataclasses

    from ftui.train.preflight.estimate import checkpointing_choice, resolve_arch

    gpu_gb = run_gpu_gb()
    try:
        arch = resolve_arch(config)
    except Exception:  # noqa: BLE001 - unknown shape: checkpointing_choice keeps the safe choice
        arch = None
    on, why = checkpointing_choice(config, arch, gpu_gb)
    _say(emit, f"gradient checkpointing: {'on' if on else 'off'} ({why})")
    return dataclasses.replace(config, gradient_checkpointing=on), gpu_gb
