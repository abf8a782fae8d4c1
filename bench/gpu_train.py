"""GPU check: ftui's own training path on the Llama-3.1-8B shape vs a bare TRL script, fully offline.

What it does, in one process:

1. builds a random-weight model with the exact Llama-3.1-8B shape (hidden 4096, intermediate
   14336, 32 layers, 32 heads / 8 KV heads, vocab 128256, rope theta 500000), initialised on
   the GPU in bf16 and saved with ``save_pretrained``, and an offline tokenizer with the
   Llama-3.1 chat format (``ftui.models.families`` "llama3": its special tokens and template),
   padded with reserved special tokens to the model's 128256 entries as the real one is;
2. writes a generated chat dataset long enough to fill 2048-token packed rows;
3. for each method (QLoRA and LoRA by default; full), ~20 steps at micro-batch 2 x 2048 (packed): once through ftui's own
   path (``ftui.train.worker.start_run`` -> ``hf_backend.run_hf``: validation, the worker
   thread, events, memory sampling, ftui's defaults), once as a bare ``SFTTrainer`` script
   given the very settings ftui's trainer ran with (read from its ``TrainingArguments`` at
   ``on_train_begin``: optimizer, checkpointing, precision, packing, attention kernel);
   same data, same callback measuring both;
4. batched generation with ``ftui.evaluate.generate.LocalGenerator`` (bf16, left-padded).

Figures: per method, measured ``torch.cuda.max_memory_reserved()`` during training vs ftui's
estimate of that figure (``Estimate.torch_peak``; goal within +-15 %), ftui's tokens/s over the
bare script's (goal >= 0.97; tokens/s from TRL's ``num_tokens`` after a warm-up), MFU =
tokens/s x kN / peak bf16 FLOPS (k = 6 for full fine-tuning; LoRA/QLoRA skip weight gradients: ~4N
FLOPs per token; the peak comes from the device name: H100/H200 989e12, A100 312e12, L40S 362e12),
and batched generation tokens/s. Ends with one JSON line with ``"ok"`` (DESIGN.md section 5).
Budget: the whole run fits in 8 minutes on one H200 (most of it loading 16 GB four times).

``--methods full`` trains every weight (the bare script then gets no LoRA config and loads the
weights in the dtype ftui trained them in); ``--precision bf16`` is the pure-bf16 recipe that fits a
7-8B full fine-tune on one 80 GB+ card, ``auto`` keeps fp32 master weights. ``--shape llama-3.2-1b``
(hidden 2048, 16 layers, tied embeddings) is the size people fully fine-tune with fp32 master weights.

``--tiny``: the same code on the CPU with a tiny Llama-format model (hidden 64) and 128-token
rows, LoRA only (QLoRA is skipped, with the reason, when there is no CUDA); its figures are
not held to the goals (a shared CPU is not what the goals are about), but every field is
computed and ``ok`` means both paths trained and generation ran. A unit test runs it.

On the lent GPU machine (its image has torch and transformers but no trl, bitsandbytes or
datasets, and no network): see ``bench/gpu_check.sh``, which installs the wheels that
``../shared/tools/gpu-wheels.sh`` prepared here and runs this script.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ftui.models import hub_kernels  # noqa: E402 - after the path and the offline switches

LLAMA31_8B = {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 8, "vocab_size": 128256, "rope_theta": 500000.0,
              "max_position_embeddings": 131072, "tie_word_embeddings": False}
LLAMA32_1B = {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
              "num_key_value_heads": 8, "vocab_size": 128256, "rope_theta": 500000.0,
              "max_position_embeddings": 131072, "tie_word_embeddings": True}
SHAPES = {"llama-3.1-8b": LLAMA31_8B, "llama-3.2-1b": LLAMA32_1B}
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 1088, "rope_theta": 500000.0, "max_position_embeddings": 2048,
        "tie_word_embeddings": False}
PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "GH200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12,
                   "L4": 121e12, "RTX 4090": 165e12}
GOAL_MEMORY = 0.15
GOAL_SPEED = 0.97
WARMUP_STEPS = 5


# --- the model and the tokenizer -----------------------------------------------------------------


def build_tokenizer(vocab_size: int) -> Any:
    """The Llama-3.1 chat format of ``ftui.models.families`` padded with reserved special tokens to
    ``vocab_size`` entries (the real tokenizer has exactly as many as the embedding has rows)."""
    from ftui.models.families import FAMILIES
    from ftui.models.families import build_tokenizer as family_tokenizer

    tok = family_tokenizer(FAMILIES["llama3"])
    missing = vocab_size - len(tok)
    if missing < 0:
        raise SystemExit(f"the tokenizer has {len(tok)} tokens, more than the model's {vocab_size}")
    tok.add_tokens([f"<|reserved_special_token_{i}|>" for i in range(missing)], special_tokens=True)
    tok.model_max_length = 131072
    return tok


def build_model(shape: dict[str, Any], out: Path, cuda: bool) -> tuple[Path, int]:
    """Random weights of ``shape`` (bf16, initialised on the GPU: seconds for 8B), saved with the tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig

    tok = build_tokenizer(shape["vocab_size"])
    ids = tok.convert_tokens_to_ids
    config = LlamaConfig(**shape, bos_token_id=ids("<|begin_of_text|>"),
                         eos_token_id=[ids("<|end_of_text|>"), ids("<|eom_id|>"), ids("<|eot_id|>")])
    torch.manual_seed(0)
    with torch.device("cuda" if cuda else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16 if cuda else torch.float32)
    model.generation_config = GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
                                               do_sample=False)
    n_params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out)
    tok.save_pretrained(out)
    del model
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return out, n_params


WORDS = ("the invoice page shows a wrong total after the upgrade and support asked for the order number so "
         "please check the billing account settings because the mobile app crashes on start when offline "
         "mode is on while the export to pdf works but dark mode would help reading long reports at night").split()


def write_chat_data(path: Path, rows: int, words_per_turn: int, seed: int = 7) -> None:
    """Multi-turn chats of seeded random words: enough text to fill every packed row."""
    rng = random.Random(seed)

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(rows):
            messages = [{"role": "system", "content": "You are a helpful support assistant."}]
            for _turn in range(3):
                messages += [{"role": "user", "content": text(words_per_turn // 2)},
                             {"role": "assistant", "content": text(words_per_turn)}]
            fh.write(json.dumps({"messages": messages}) + "\n")


# --- measuring both paths the same way ------------------------------------------------------------


def probe_callback():  # noqa: ANN201
    """Timestamps TRL's ``num_tokens`` at every log, reads the torch peak at every step end (before
    ftui's own sampler resets it), and keeps the trainer's arguments and attention kernel."""
    from transformers import TrainerCallback

    class Probe(TrainerCallback):
        def __init__(self) -> None:
            self.logs: list[tuple[float, int, float]] = []  # (time, step, num_tokens)
            self.peak = 0
            self.args: Any = None
            self.attention: str | None = None
            self.left_over = 0  # bytes still allocated on the GPU when the run started
            self.dtype: Any = None  # the trainable weights' dtype (full fine-tuning: fp32 master or pure bf16)

        def _peak(self) -> None:
            import torch

            if torch.cuda.is_available():
                self.peak = max(self.peak, torch.cuda.max_memory_reserved())

        def on_train_begin(self, args, state, control, model=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
            self.args = args
            config = getattr(model, "config", None)
            self.attention = getattr(config, "_attn_implementation", None)
            trainable = [p for p in model.parameters() if p.requires_grad] if model is not None else []
            self.dtype = trainable[0].dtype if trainable else None

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003, ANN201
            self._peak()

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
            self._peak()
            if logs and "num_tokens" in logs and "loss" in logs:
                self.logs.append((time.perf_counter(), int(state.global_step), float(logs["num_tokens"])))

        def tokens_per_s(self, fallback_tokens_per_step: int) -> float | None:
            last = max((x[1] for x in self.logs), default=0)
            warmup = min(WARMUP_STEPS, last // 3)  # a short smoke run still keeps two thirds of its steps
            usable = [x for x in self.logs if x[1] > warmup]
            if len(usable) < 2:
                return None
            (t0, s0, n0), (t1, s1, n1) = usable[0], usable[-1]
            tokens = n1 - n0 if n1 > n0 else (s1 - s0) * fallback_tokens_per_step
            return tokens / (t1 - t0) if t1 > t0 else None

    return Probe()


def reset_gpu() -> int:
    """Free what earlier runs left and restart the peak counter; returns the bytes still allocated
    (a run's peak includes them, so the figures show them: they should be ~0)."""
    import torch

    if not torch.cuda.is_available():
        return 0  # no device memory to free (a full collection is ~0.25 CPU-s with the ML stack loaded)
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return int(torch.cuda.memory_allocated())


def run_ftui(config: Any, run_dir: Path) -> tuple[Any, str, str]:
    """ftui's own path: validation, the worker thread, events, ftui's defaults. (probe, status, detail)"""
    from ftui.train.events import read_events
    from ftui.train.worker import InvalidRunConfig, start_run

    probe = probe_callback()
    probe.left_over = reset_gpu()
    try:
        worker = start_run(config, run_dir=run_dir, callbacks=[probe])
    except InvalidRunConfig as exc:
        return probe, "refused", str(exc)[:300]
    worker.join()
    events = read_events(worker.events_path)
    last = events[-1]
    detail = getattr(last, "message", "") or ""
    return probe, last.type, detail[:300]


def run_bare(method: str, model_dir: Path, data: Path, ours: Any, lora: dict[str, Any], run_dir: Path,
             cuda: bool) -> Any:
    """What a user's own TRL script does with the settings ftui's trainer ran with (``ours``, its probe):
    load, LoRA config (none for full fine-tuning, whose weights load in the dtype ftui trained), train()."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    CHECKPOINTING = _checkpointing_field()  # noqa: N806 - the SFTConfig field's name in this transformers
    settings, attention = ours.args, ours.attention
    probe = probe_callback()
    reset_gpu()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if method == "full" and ours.dtype is not None:
        kwargs["dtype"] = ours.dtype
    if attention:
        kwargs["attn_implementation"] = attention
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_use_double_quant=True,
                                                           bnb_4bit_compute_dtype=torch.bfloat16,
                                                           bnb_4bit_quant_storage=torch.bfloat16)
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs, **hub_kernels.load_kwargs())  # as ftui loads
    checkpointing = ran_with_checkpointing(settings)
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    args = SFTConfig(
        output_dir=str(run_dir), max_steps=settings.max_steps, per_device_train_batch_size=settings.per_device_train_batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps, learning_rate=settings.learning_rate,
        lr_scheduler_type=settings.lr_scheduler_type, warmup_steps=settings.warmup_steps, optim=settings.optim,
        weight_decay=settings.weight_decay, bf16=settings.bf16, fp16=settings.fp16, tf32=settings.tf32,
        **{CHECKPOINTING: checkpointing, f"{CHECKPOINTING}_kwargs": {"use_reentrant": False} if checkpointing else None},
        max_length=settings.max_length, packing=settings.packing, packing_strategy=settings.packing_strategy,
        padding_free=settings.padding_free, assistant_only_loss=settings.assistant_only_loss,
        logging_steps=1, save_strategy="no", report_to="none", seed=settings.seed, use_cpu=not cuda,
        disable_tqdm=True, dataloader_pin_memory=cuda,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=load_dataset("json", data_files=str(data), split="train"),
                         processing_class=tokenizer,
                         peft_config=None if method == "full" else LoraConfig(task_type="CAUSAL_LM", **lora),
                         callbacks=[probe])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    del trainer, model
    reset_gpu()
    return probe


def ran_with_checkpointing(settings: Any) -> bool:
    """Whether the trainer checkpointed activations (transformers 5 name first, the old alias else)."""
    value = getattr(settings, "activation_checkpointing", None)
    return bool(value if value is not None else getattr(settings, "gradient_checkpointing", False))


def _checkpointing_field() -> str:
    import dataclasses

    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(SFTConfig)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def generation_tokens_per_s(model_dir: Path, prompts: int, new_tokens: int, device: str) -> tuple[float, int]:
    """Batched greedy generation through ftui's LocalGenerator: generated (non-pad) tokens per second."""
    import torch

    from ftui.evaluate.generate import GenerationConfig, LocalGenerator
    from ftui.evaluate.systems import SystemSpec

    reset_gpu()
    gen = LocalGenerator(SystemSpec("base", str(model_dir), device=device))
    counted = {"tokens": 0}
    inner, pad = gen.model.generate, gen.tokenizer.pad_token_id

    def counting(**kwargs: Any) -> Any:
        out = inner(**kwargs)
        new = out[:, kwargs["input_ids"].shape[1]:]
        counted["tokens"] += int((new != pad).sum())
        return out

    gen.model.generate = counting
    rng = random.Random(3)
    convs = [[{"role": "user", "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))}]
             for _ in range(prompts)]
    config = GenerationConfig(max_new_tokens=new_tokens, batch_size=prompts)
    gen.generate_batch(convs[:2], GenerationConfig(max_new_tokens=4))  # warm-up: kernels, allocator
    counted["tokens"] = 0
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    gen.generate_batch(convs, config)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    del gen
    reset_gpu()
    return counted["tokens"] / seconds, counted["tokens"]


def peak_flops(device_name: str) -> float | None:
    for key, flops in PEAK_BF16_FLOPS.items():
        if key.lower() in device_name.lower():
            return flops
    return None


def flops_per_token(method: str) -> int:
    """Training FLOPs per parameter per token: forward 2, backward 4 (full); adapters skip weight gradients: 4."""
    return 6 if method == "full" else 4


def qlora_skip_reason() -> str | None:
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        return "no CUDA device: QLoRA (bitsandbytes 4-bit) runs on NVIDIA GPUs only"
    if importlib.util.find_spec("bitsandbytes") is None:
        return "bitsandbytes is not installed"
    return None


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", "--quick", dest="tiny", action="store_true",
                    help="CPU smoke mode: tiny Llama-format model, short rows, LoRA only")
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps per run (default 20; --tiny 8)")
    ap.add_argument("--methods", default="qlora,lora", help="comma-separated: qlora, lora, full (default qlora,lora)")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="llama-3.1-8b", help="the real model shape (GPU)")
    ap.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp16", "fp32"),
                    help="RunConfig.precision (full fine-tuning: auto = fp32 master weights, bf16 = pure bf16)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temp dir, removed)")
    opts = ap.parse_args(argv)
    started = time.perf_counter()

    import torch

    cuda = torch.cuda.is_available() and not opts.tiny
    if not opts.tiny and not torch.cuda.is_available():
        print("no CUDA device here: run with --tiny for the CPU smoke mode", file=sys.stderr)
        return 2
    from ftui.config import RunConfig
    from ftui.train.hf_setup import quiet_libraries, skip_bitsandbytes_without_cuda
    from ftui.train.preflight.estimate import estimate_for

    skip_bitsandbytes_without_cuda()  # as `ftui train` does (--tiny on a CPU box: QLoRA is skipped anyway)
    quiet_libraries()
    import datasets

    datasets.disable_progress_bars()
    shape = TINY if opts.tiny else SHAPES[opts.shape]
    shape_name = "tiny" if opts.tiny else opts.shape
    steps = opts.steps or (8 if opts.tiny else 20)
    seq, batch = (128, 2) if opts.tiny else (2048, 2)
    if opts.tiny:
        torch.set_num_threads(1)  # ftui does the same for a tiny model (tune_cpu_threads): both sides alike
    work = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="ftui-gpu-train-"))
    work.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"device: {device}; model shape: {'tiny Llama (hidden 64)' if opts.tiny else opts.shape}, random "
          f"weights; {steps} steps at micro-batch {batch} x {seq} (packed)")
    try:
        t0 = time.perf_counter()
        model_dir, n_params = build_model(shape, work / "model", cuda)
        print(f"built and saved {n_params / 1e9:.2f}B parameters in {time.perf_counter() - t0:.0f} s")
        data = work / "chat.jsonl"
        # every conversation (3 turns of ~1.5 x words_per_turn words, >= 1 token a word) is longer than seq_len,
        # so BFD packing truncates each to exactly one full row: batch x seq tokens every step; rows for each
        # step twice over
        words_per_turn = 40 if opts.tiny else 600
        rows = max(32, 2 * steps * batch)
        write_chat_data(data, rows, words_per_turn)

        methods = [m.strip() for m in opts.methods.split(",") if m.strip()]
        skipped: dict[str, str] = {}
        if "qlora" in methods:
            reason = qlora_skip_reason() if not opts.tiny else (qlora_skip_reason() or "--tiny runs LoRA only")
            if reason:
                skipped["qlora"] = reason
                methods.remove("qlora")
                print(f"qlora skipped: {reason}")
        flops = peak_flops(device) if cuda else None
        results = []
        for method in methods:
            config = RunConfig(model=str(model_dir), train_path=str(data), eval_path=None, eval_fraction=0.0,
                               method=method, precision=opts.precision, max_steps=steps, micro_batch_size=batch, max_seq_len=seq, packing=True,
                               assistant_only_loss=False, save_steps=100_000, save_total_limit=0, logging_steps=1,
                               learning_rate=1e-4, warmup_ratio=0.0, device="auto" if cuda else "cpu")
            lora = {"r": config.lora_r, "lora_alpha": config.lora_alpha, "lora_dropout": config.lora_dropout,
                    "target_modules": "all-linear", "bias": "none"}

            # ftui first: the bare script is given the settings ftui's trainer actually ran with
            t = time.perf_counter()
            ours, status, detail = run_ftui(config, work / f"ftui-{method}")
            print(f"  {method} ftui: {status} in {time.perf_counter() - t:.0f} s {detail}")
            bare = None
            settings = ours.args
            # the estimate of the program that ran: "auto" checkpointing as the run resolved it
            checkpointing = ran_with_checkpointing(settings) if settings is not None else None
            estimate = estimate_for(dataclasses.replace(config, gradient_checkpointing=checkpointing)
                                    if checkpointing is not None else config)
            if status == "finished" and settings is not None:
                t = time.perf_counter()
                bare = run_bare(method, model_dir, data, ours, lora, work / f"bare-{method}", cuda)
                print(f"  {method} bare TRL: finished in {time.perf_counter() - t:.0f} s")
            tokens_per_step = batch * seq
            ours_tps = ours.tokens_per_s(tokens_per_step)
            bare_tps = bare.tokens_per_s(tokens_per_step) if bare else None
            peak = ours.peak if cuda else None
            est_peak = estimate.torch_peak if estimate is not None else None
            row = {
                "method": method, "status": status,
                "ftui_tokens_s": _round(ours_tps, 1), "bare_tokens_s": _round(bare_tps, 1),
                "speed_ratio": _round(ours_tps / bare_tps) if ours_tps and bare_tps else None,
                "peak_reserved_gb": _round(peak / 1e9, 2) if peak else None,
                "bare_peak_reserved_gb": _round(bare.peak / 1e9, 2) if bare and cuda else None,
                "estimate_gb": _round(est_peak / 1e9, 2) if est_peak else None,
                "memory_ratio": _round(peak / est_peak) if peak and est_peak else None,
                "mfu": _round(ours_tps * flops_per_token(method) * n_params / flops, 4) if ours_tps and flops else None,
                "precision": opts.precision, "weights_dtype": str(ours.dtype).removeprefix("torch.") if ours.dtype else None,
                "gradient_checkpointing": checkpointing,
                "optimizer": str(getattr(getattr(settings, "optim", None), "value", getattr(settings, "optim", None))),
                "attention": ours.attention,
                "left_over_gb": _round(ours.left_over / 1e9, 2),
            }
            if status != "finished":
                row["detail"] = detail
            results.append(row)
            print(f"  {method}: ftui {row['ftui_tokens_s']} tok/s vs bare {row['bare_tokens_s']} tok/s "
                  f"(ratio {row['speed_ratio']}, goal >= {GOAL_SPEED}); peak reserved {row['peak_reserved_gb']} GB vs "
                  f"estimate {row['estimate_gb']} GB (ratio {row['memory_ratio']}, goal 1 +- {GOAL_MEMORY}); "
                  f"MFU {row['mfu']}; checkpointing {row['gradient_checkpointing']}, {row['optimizer']}, "
                  f"{row['attention']}")
        t = time.perf_counter()
        gen_tps, gen_tokens = generation_tokens_per_s(model_dir, prompts=8 if opts.tiny else 32,
                                                      new_tokens=16 if opts.tiny else 128,
                                                      device="auto" if cuda else "cpu")
        print(f"batched generation: {gen_tokens} tokens at {gen_tps:.1f} tokens/s ({time.perf_counter() - t:.0f} s "
              "with the load)")
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)

    trained = bool(results) and all(r["status"] == "finished" and r["ftui_tokens_s"] and r["bare_tokens_s"]
                                    for r in results)
    goals_met = None
    if cuda:
        goals_met = trained and all(
            r["speed_ratio"] is not None and r["speed_ratio"] >= GOAL_SPEED
            and r["memory_ratio"] is not None and abs(r["memory_ratio"] - 1) <= GOAL_MEMORY for r in results)
    seconds = time.perf_counter() - started
    print(f"total {seconds:.0f} s")
    print(json.dumps({
        "bench": "gpu_train", "mode": shape_name, "device": device,
        "params": n_params, "steps": steps, "micro_batch": batch, "seq_len": seq, "runs": results,
        "generation_tokens_s": _round(gen_tps, 1), "skipped": skipped,
        "goal_speed_ratio": GOAL_SPEED, "goal_memory_within": GOAL_MEMORY,
        "goals_judged": cuda, "goals_met": goals_met, "seconds": round(seconds, 1),
        "ok": bool(trained and gen_tokens > 0 and (goals_met if cuda else True)),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
