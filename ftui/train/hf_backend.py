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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.models import hub_kernels
from ftui.train import runs
from ftui.train.bad_rows import record_bad_rows
from ftui.train.control import RunControl
from ftui.train.errors import TrainError
from ftui.train.events import Started, Stopped
from ftui.train.hf_finish import finish_run
from ftui.train.hf_setup import (
    decide_attention,
    download_from_hub,
    estimate_lines,
    pin_run_device,
    quiet_libraries,
    resolve_checkpointing,
    say,
    tf32_note,
    trains_on_gpu,
    tune_cpu_threads,
)

Emit = Callable[[Any], None]


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
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs, **hub_kernels.load_kwargs())
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
    device_choice = pin_run_device(config, emit)
    if config.method == "qlora":
        check_qlora_available()
    say(emit, "reading the model config")
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
    say(emit, attention.note)

    say(emit, "loading the data")
    try:
        train_ds, eval_ds, loaded = build_datasets(config)
    except DataError as exc:
        raise TrainError(str(exc), "fix the dataset or train_path / eval_path / data_format") from None
    if loaded.skipped and not loaded.bad_rows:  # under on_bad_rows: skip the masking step says it, row by row
        say(emit, f"skipped {loaded.skipped} rows of {Path(config.train_path).name} that have no usable answer")
    note = eval_cap_note(config, loaded)
    if note:
        say(emit, note)

    import datasets
    import torch
    from transformers import AutoTokenizer, PrinterCallback

    datasets.disable_progress_bars()  # the event log and our progress bar say what happens


    torch.manual_seed(config.seed)
    tune_cpu_threads(info.num_parameters)
    download_from_hub(info.path, emit)
    say(emit, f"loading {config.model}")
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
    say(emit, f"optimizer: {optimizer}" + (" (fused AdamW on CUDA)" if config.optimizer == "auto" and optimizer.endswith("_fused") else ""))
    say(emit, tf32_note(config))
    model = load_model(config, info.path, bf16, str(attention.value))
    kernel = str(getattr(model.config, "_attn_implementation", None) or attention.value)  # what transformers settled on
    if kernel != attention.value:
        say(emit, f"attention: transformers runs {kernel} for this model")
    distributed = int(getattr(args, "world_size", 1) or 1) > 1
    callback, all_callbacks = run_callbacks(config, args, emit, control, device_choice, callbacks, eval_ds is not None)
    say(emit, "tokenizing")
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
    _refuse_empty(trainer, config)
    checkpoint = runs.resume_checkpoint(run_dir) if resume else None  # latest, or the one the user picked
    resumed_from = _checkpoint_step(checkpoint) if checkpoint else None
    callback.ftui_resumed_from = resumed_from or 0  # "trained N steps" counts this attempt's steps only
    for damaged, why in runs.damaged_checkpoints(run_dir) if resume else []:
        fallback = f"resuming from {checkpoint.name}" if checkpoint else "starting from step 0"
        say(emit, f"checkpoint {damaged.name} is damaged ({why}); {fallback} instead")
    meta = runs.read_run_metadata(run_dir)
    device = describe_device()
    estimate_gb, estimate_torch_gb = estimate_lines(config, gpu_gb)
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
    say(emit, plan.describe())
    if _is_rank_zero():
        runs.update_run_metadata(run_dir, masking=plan.record())
    record_bad_rows(getattr(loaded, "bad_rows", None), run_dir, emit, _is_rank_zero())
    return plan, train_ds, eval_ds


def _refuse_empty(trainer: Any, config: RunConfig) -> None:
    """A train set TRL's truncation emptied (every row's replies past max_seq_len) is named here, not by the
    sampler's "num_samples=0" once training starts."""
    if trainer.train_dataset is None or len(trainer.train_dataset):
        return
    counts = (getattr(trainer, "ftui_accounting", None) or {}).get("train") or {}
    rows = f"all {counts['rows_in']:,} rows" if counts.get("rows_in") else "every row"
    raise TrainError(f"nothing is left to train: the trainer dropped {rows} of {Path(config.train_path).name}, since none "
                     f"keeps an assistant token inside max_seq_len {config.max_seq_len:,}",
                     "raise max_seq_len, or shorten the prompts (system prompt, tool definitions); "
                     "'ftui lint --tokenizer MODEL --max-seq-len N' names the long rows")


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


def _checkpoint_step(path: Path) -> int | None:
    try:
        return int(path.name.rsplit("-", 1)[-1])
    except ValueError:
        return None


def _pid() -> int:
    import os

    return os.getpid()
