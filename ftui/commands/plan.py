"""``ftui plan``: the VRAM estimate (default), ``advise`` (the decision tree) and ``cost``.

Light at import: the advisor modules are plain Python and are imported inside the
command functions anyway, so building the parser costs nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ftui.textsafe import safe_print as print  # noqa: A004 - model names, paths and file names reach these lines

PRESET_HELP = "0.5B, 1B, 3B, 7B, 8B, 13B, 34B, 70B"
BAR_WIDTH = 28


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def _user_error(exc: Exception):  # noqa: ANN202
    from ftui.errors import UserError

    return UserError(str(exc))


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ftui plan`` (estimate), ``ftui plan advise`` and ``ftui plan cost``."""
    from ftui.advisor.vram import LOSSES, METHODS, OPTIMIZERS
    from ftui.config import PRECISIONS as CONFIG_PRECISIONS

    p = sub.add_parser(
        "plan",
        help="estimate training memory (and fit on your GPU); 'advise' walks the decision tree; 'cost' prices a run",
        description="Estimate the GPU memory a fine-tune needs, per component, and whether it fits. "
        "Sub-commands: 'advise' (should you fine-tune at all?), 'cost' (OpenAI / self-hosted cost, break-even).",
    )
    p.add_argument("--model", metavar="SIZE_OR_PATH", help=f"a size preset ({PRESET_HELP}), a local model dir / "
                   "config.json, or a Hub id (read from the HF cache; config.json only, no weights)")
    p.add_argument("--config", metavar="RUN.yaml", help="price a run config exactly as 'ftui train' will run it "
                   "(the flags below, when given, override its keys)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a run-config key, as in 'ftui train --set' (repeatable)")
    p.add_argument("--method", choices=METHODS, help="full fine-tune, LoRA or QLoRA (default lora)")
    p.add_argument("--seq-len", type=_positive_int, metavar="N", help="tokens per sequence (default 2048)")
    p.add_argument("--batch", type=_positive_int, metavar="N", help="micro-batch size per GPU (default 1)")
    p.add_argument("--grad-ckpt", action=argparse.BooleanOptionalAction, default=None,
                   help="gradient checkpointing (default auto: off when the run fits the GPU with 15%% to spare)")
    p.add_argument("--optim", choices=OPTIMIZERS, help="optimizer (default adamw_torch)")
    p.add_argument("--precision", choices=(*CONFIG_PRECISIONS, "amp"),
                   help="as the run config's precision (default auto: full fine-tuning keeps fp32 master weights "
                   "under bf16 autocast, 16 B/param; LoRA a bf16 base); bf16: full fine-tuning in pure bf16 "
                   "(8 B/param); amp: fp32 master weights")
    p.add_argument("--rank", type=int, metavar="R", help="LoRA rank (default 16)")
    p.add_argument("--lora-dropout", type=float, metavar="P", help="LoRA dropout (default 0.05; >0 keeps a mask)")
    p.add_argument("--targets", metavar="MODULES",
                   help="LoRA targets: all-linear, attention, or comma-separated module names (default all-linear)")
    p.add_argument("--loss", choices=LOSSES,
                   help="what-if for the loss: chunked (TRL's LM head, what ftui trains with), plain (full logits: "
                   "TRL with label smoothing), fused (a fused linear+CE kernel); default: what the config trains with")
    p.add_argument("--gpu-gb", type=_positive_float, metavar="N",
                   help="GPU memory in GB (default: detect with NVML; FTUI_GPU_GB also sets it)")
    p.add_argument("--json", action="store_true", help="print one JSON object (schema: docs/plan.md)")
    p.set_defaults(func=run_estimate)
    plan_sub = p.add_subparsers(dest="plan_command", metavar="{advise,cost}")

    a = plan_sub.add_parser("advise", help="walk the fine-tune / prompt / RAG decision tree",
                            description="Answer the decision tree's questions (interactively, or all at once with "
                            "--answers) and get a recommendation, method, starting hyperparameters and risks.")
    a.add_argument("--answers", metavar="ID=KEY,...",
                   help="answers as question-id=key pairs, e.g. gap=2,prompt_fixes=n,problem_kind=1,style_examples=2; "
                   "or just the keys in order: 2,n,1,2")
    a.add_argument("--record", metavar="PATH", help="also write the Markdown decision record to PATH")
    a.add_argument("--list", action="store_true", help="print every question id with its options, then exit")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.set_defaults(func=run_advise)

    c = plan_sub.add_parser("cost", help="OpenAI vs self-hosted training cost, and inference break-even",
                            description="Price a training run on OpenAI and on a rented GPU, and (with "
                            "--requests-per-day) the days until cheaper inference pays it back.")
    c.add_argument("--data", metavar="PATH", help="dataset to count tokens from (default: --tokens)")
    c.add_argument("--tokens", type=_positive_int, metavar="N", help="training tokens per epoch (instead of --data)")
    c.add_argument("--epochs", type=_positive_float, default=3.0, help="epochs (default 3)")
    c.add_argument("--openai-model", default="gpt-4o-mini-2024-07-18", help="OpenAI model to fine-tune")
    c.add_argument("--model", default="8B", metavar="SIZE_OR_PATH", help="self-hosted model (default 8B)")
    c.add_argument("--method", choices=METHODS, default="qlora", help="self-hosted method (default qlora)")
    c.add_argument("--gpu", default="H100-80GB", help="GPU type from the price table (default H100-80GB)")
    c.add_argument("--hourly", type=float, metavar="USD", help="override the GPU's hourly price")
    c.add_argument("--mfu", type=float, help="model FLOPs utilisation, 0–1 (default 0.35 full / 0.28 LoRA / 0.22 QLoRA)")
    c.add_argument("--requests-per-day", type=_positive_float, metavar="N", help="enables the break-even")
    c.add_argument("--prompt-tokens-before", type=int, default=1500, metavar="N",
                   help="prompt tokens per request today (with few-shot examples; default 1500)")
    c.add_argument("--prompt-tokens-after", type=int, default=100, metavar="N",
                   help="prompt tokens per request with the fine-tuned model (default 100)")
    c.add_argument("--output-tokens", type=int, default=50, metavar="N", help="output tokens per request (default 50)")
    c.add_argument("--before-model", default="gpt-4o", help="the API model used today (default gpt-4o)")
    c.add_argument("--after", default="openai", metavar="openai|self-hosted",
                   help="serve the fine-tune on OpenAI (the fine-tuned model's prices) or self-hosted "
                   "(one GPU of --gpu, 24 h/day)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=run_cost)


# ----------------------------------------------------------------- estimate
def config_from_args(args: argparse.Namespace):  # noqa: ANN201 - a RunConfig
    """The RunConfig the flags describe: --config (with --set), then each flag given, over RunConfig's defaults.

    ``ftui plan`` prices this config through the same ``train_setup`` as the form and
    ``ftui train``; without --config, the sequence length and micro-batch default to 2048 × 1.
    """
    import dataclasses

    from ftui.advisor.overrides import config_precision
    from ftui.config import ConfigError, RunConfig, apply_overrides, load_config
    from ftui.errors import UserError

    try:
        config = load_config(args.config) if args.config else RunConfig(max_seq_len=2048, micro_batch_size=1)
        config = apply_overrides(config, args.overrides)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    if args.model:
        config = dataclasses.replace(config, model=args.model)
    elif not args.config and not any(o.strip().startswith("model=") for o in args.overrides):
        raise UserError("give --model SIZE_OR_PATH (e.g. --model 8B) or --config RUN.yaml for a memory estimate, "
                        "or run 'ftui plan advise' for the decision tree")
    if config.method == "openai":
        raise UserError("an OpenAI fine-tune needs no local GPU memory: give --method full, lora or qlora")
    changes: dict[str, Any] = {}
    for flag, key in (("method", "method"), ("seq_len", "max_seq_len"), ("batch", "micro_batch_size"),
                      ("grad_ckpt", "gradient_checkpointing"), ("optim", "optimizer"), ("rank", "lora_r"),
                      ("lora_dropout", "lora_dropout")):
        value = getattr(args, flag)
        if value is not None:
            changes[key] = value
    if args.targets is not None:
        targets = args.targets
        changes["target_modules"] = (targets if targets in ("all-linear", "attention")
                                     else [t.strip() for t in targets.split(",") if t.strip()])
    if args.precision is not None:
        method = changes.get("method", config.method)
        changes["precision"] = config_precision(method, "amp") if args.precision == "amp" else args.precision
    return dataclasses.replace(config, **changes)


def estimate_from_args(args: argparse.Namespace) -> dict[str, Any]:
    from ftui.advisor.errors import AdvisorError
    from ftui.advisor.gpu import detect_gpu
    from ftui.advisor.model_config import architecture_for
    from ftui.advisor.vram import cheapest_fix, estimate
    from ftui.train.preflight.estimate import checkpointing_choice, train_setup

    config = config_from_args(args)
    gpu = None
    gpu_gb = args.gpu_gb
    if gpu_gb is None:
        gpu = detect_gpu()
        gpu_gb = gpu.total_gb if gpu else None
    try:
        arch = architecture_for(config.model)
        setup = train_setup(config, arch, gpu_gb)
        if args.loss is not None:
            from dataclasses import replace

            setup = replace(setup, loss=args.loss)
        est = estimate(arch, setup, gpu_gb)
        fix = cheapest_fix(arch, setup, gpu_gb) if est.fits is False else None
    except AdvisorError as exc:
        raise _user_error(exc) from None
    result = estimate_json(est, gpu, fix)
    result["setup"]["grad_checkpointing_why"] = checkpointing_choice(config, arch, gpu_gb)[1]
    return result


def estimate_json(est, gpu=None, fix=None) -> dict[str, Any]:  # noqa: ANN001
    """The documented ``--json`` object (schema ``ftui.plan.estimate/1``)."""
    from ftui.advisor.vram import weights_basis
    from ftui.train.preflight.estimate import fix_changes

    a, s = est.arch, est.setup
    return {
        "schema": "ftui.plan.estimate/1",
        "model": {"name": a.name, "source": a.source, "params_b": round(a.n_params / 1e9, 6),
                  "hidden_size": a.hidden_size, "intermediate_size": a.intermediate_size, "layers": a.num_layers,
                  "heads": a.num_heads, "kv_heads": a.num_kv_heads, "vocab_size": a.vocab_size,
                  "tied_embeddings": a.tie_embeddings},
        "setup": {"method": s.method, "seq_len": s.seq_len, "micro_batch": s.micro_batch,
                  "grad_checkpointing": s.grad_checkpointing, "optimizer": s.optimizer, "precision": s.precision,
                  "lora_r": s.lora_r if s.method != "full" else None,
                  "lora_targets": (s.lora_targets if isinstance(s.lora_targets, str) else list(s.lora_targets))
                  if s.method != "full" else None, "loss": s.loss},
        "breakdown": est.breakdown_gb(),
        "total_gb": round(est.total_gb, 3),
        "torch_peak_gb": round(est.torch_peak / 1e9, 3),
        "trainable_params": est.trainable_params,
        "gpu": {"name": gpu.name, "total_gb": round(gpu.total_gb, 2), "count": gpu.count, "source": gpu.source}
        if gpu else None,
        "gpu_gb": est.gpu_gb,
        "fits": est.fits,
        "basis": weights_basis(s),
        "fix": None if fix is None else {
            "changes": [{"field": c.field, "value": c.value, "says": c.says} for c in fix.changes],
            "config": dict(fix_changes(fix)),
            "total_gb": round(fix.estimate.total_gb, 3)},
        "notes": est.notes,
    }


def _bar(value: float, scale: float) -> str:
    cells = 0 if scale <= 0 else value / scale * BAR_WIDTH
    full = int(cells)
    return "█" * full + ("▌" if cells - full >= 0.5 else "")


def format_estimate(result: dict[str, Any]) -> str:
    from ftui.advisor.vram import COMPONENT_LABELS

    m, s = result["model"], result["setup"]
    from ftui.advisor.architectures import format_params

    head = f"{m['name']} ({format_params(int(m['params_b'] * 1e9))} params) · {s['method']}"
    if s["method"] != "full":
        head += f" r={s['lora_r']}"
    head += (f" · seq {s['seq_len']} × batch {s['micro_batch']} · grad ckpt {'on' if s['grad_checkpointing'] else 'off'}"
             f" · {s['optimizer']} · {s['precision']} · loss {s['loss']}")
    total = result["total_gb"]
    scale = max(total, result["gpu_gb"] or 0)
    lines = [head, f"  ({result['basis']}; gradient checkpointing: {s.get('grad_checkpointing_why', 'given')})", ""]
    for key, gb in result["breakdown"].items():
        lines.append(f"  {COMPONENT_LABELS[key]:<30} {gb:8.2f} GB  {_bar(gb, scale)}")
    lines.append(f"  {'TOTAL':<30} {total:8.2f} GB  {_bar(total, scale)}")
    gpu_gb = result["gpu_gb"]
    if gpu_gb is None:
        lines.append("\n  GPU: none detected — pass --gpu-gb N (or set FTUI_GPU_GB) to check the fit.")
    else:
        name = result["gpu"]["name"] if result["gpu"] else "given"
        verdict = "FITS" if result["fits"] else "DOES NOT FIT"
        lines.append(f"  {'GPU (' + name + ')':<30} {gpu_gb:8.2f} GB  {verdict}")
        if result["fix"]:
            steps = "; ".join(c["says"] for c in result["fix"]["changes"])
            keys = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                            for k, v in result["fix"]["config"].items())
            lines.append(f"\n  Cheapest fix: {steps} -> {result['fix']['total_gb']:.1f} GB (set {keys})")
        elif result["fits"] is False:
            lines.append("\n  Nothing on this GPU fits even QLoRA at rank 4, batch 1, seq 256: use a smaller model, "
                         "a bigger GPU, or several GPUs (FSDP/DeepSpeed via accelerate).")
    for note in result["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def run_estimate(args: argparse.Namespace) -> int:
    result = estimate_from_args(args)
    print(json.dumps(result) if args.json else format_estimate(result))
    return 0


# ------------------------------------------------------------------- advise
def parse_answers(text: str) -> dict[str, str] | list[str]:
    from ftui.errors import UserError

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UserError("--answers is empty: give id=key pairs (gap=2,prompt_fixes=n) or keys in order (2,n)")
    if all("=" in p for p in parts):
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in parts)}
    if any("=" in p for p in parts):
        raise UserError("--answers mixes id=key pairs and bare keys; use one style")
    return parts


def _ask_interactively(walker) -> None:  # noqa: ANN001
    while walker.question is not None:
        q = walker.question
        print(f"\n{q.question}")
        if q.help:
            print(f"  ({q.help})")
        for o in q.options:
            print(f"  [{o.key}] {o.label}")
        print("  [b] back   [r] restart   [q] quit")
        try:
            key = input("> ").strip().lower()
        except EOFError:
            key = "q"
        if key == "q":
            raise SystemExit(130)
        if key == "b":
            walker.back()
        elif key == "r":
            walker.restart()
        elif not walker.answer(key):
            print(f"  '{key}' is not an option here.")


def _tree_listing(tree) -> str:  # noqa: ANN001
    lines = []
    for q in tree.questions.values():
        lines.append(f"{q.id}: {q.question}")
        lines += [f"    {o.key} = {o.label} -> {o.next}" for o in q.options]
    return "\n".join(lines)


def format_outcome(walker) -> str:  # noqa: ANN001
    o = walker.outcome
    if o is None:
        q = walker.question
        opts = ", ".join(f"{x.key}={x.label}" for x in q.options)
        return f"Not finished. Next question ({q.id}): {q.question}\n  options: {opts}"
    hp = ", ".join(f"{k}={v}" for k, v in o.hyperparameters.items())
    lines = [o.title, "=" * len(o.title), "", f"Recommendation: {o.recommendation}", "", f"Why: {o.why}", "",
             "Next steps:"] + [f"  {i}. {s}" for i, s in enumerate(o.next_steps, 1)]
    lines += ["", f"Data size: {o.data_size}", f"Method: {o.method_label}", f"Starting hyperparameters: {hp}"]
    if o.hyperparameters_note:
        lines.append(f"  ({o.hyperparameters_note})")
    lines += ["", "Risks:"] + [f"  - {r}" for r in o.risks]
    if o.template:
        lines += ["", "Few-shot template:", o.template.rstrip()]
    if o.break_even:
        lines += ["", "Check the break-even: ftui plan cost --requests-per-day N ..."]
    return "\n".join(lines)


def run_advise(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ftui.advisor.errors import AdvisorError
    from ftui.advisor.overrides import plan_overrides
    from ftui.advisor.record import render_record, save_record
    from ftui.advisor.tree import Walker, load_tree, walk
    from ftui.errors import UserError

    tree = load_tree()
    if args.list:
        print(_tree_listing(tree))
        return 0
    if args.answers is not None:
        try:
            walker = walk(parse_answers(args.answers), tree)
        except AdvisorError as exc:
            raise _user_error(exc) from None
    elif sys.stdin.isatty():
        walker = Walker(tree)
        _ask_interactively(walker)
    else:
        raise UserError("stdin is not a terminal: pass --answers (see 'ftui plan advise --list' for the ids)")
    record_path = None
    if args.record:
        try:
            record_path = save_record(render_record(walker), Path(args.record).expanduser())
        except OSError as exc:
            raise UserError(f"cannot write {args.record}: {exc.strerror or exc}; choose a writable path") from None
    if args.json:
        o = walker.outcome
        print(json.dumps({
            "schema": "ftui.plan.advise/1",
            "answers": [{"question": s.question.id, "key": s.option.key, "label": s.option.label}
                        for s in walker.steps],
            "complete": o is not None,
            "next_question": None if o else walker.current_id,
            "outcome": None if o is None else {
                "id": o.id, "title": o.title, "recommendation": o.recommendation, "why": o.why,
                "next_steps": list(o.next_steps), "data_size": o.data_size, "method": o.method,
                "method_label": o.method_label, "hyperparameters": o.hyperparameters, "risks": list(o.risks),
                "hyperparameters_note": o.hyperparameters_note or None, "template": o.template or None,
                "break_even": o.break_even},
            "run_config_overrides": plan_overrides(o) if o else {},
            "record": str(record_path) if record_path else None,
        }))
    else:
        print(format_outcome(walker))
        if record_path:
            print(f"\nDecision record written to {record_path}")
    return 0 if walker.outcome is not None else 2


# --------------------------------------------------------------------- cost
def run_cost(args: argparse.Namespace) -> int:
    from ftui.advisor import cost
    from ftui.advisor.errors import AdvisorError
    from ftui.advisor.model_config import architecture_for
    from ftui.data.source import DatasetError
    from ftui.data.stats import dataset_tokens
    from ftui.errors import UserError

    if (args.data is None) == (args.tokens is None):
        raise UserError("give exactly one of --data PATH (count its tokens) or --tokens N")
    try:
        prices = cost.load_prices()
        data = dataset_tokens(args.data) if args.data else None
        tokens = data.tokens if data else args.tokens
        oa = cost.openai_training_cost(tokens, args.epochs, args.openai_model, prices)
        arch = architecture_for(args.model)
        sh = cost.self_hosted_cost(arch.n_params, args.method, tokens, args.epochs, args.gpu, args.hourly, args.mfu,
                                   prices=prices)
        be = None
        if args.requests_per_day:
            if args.before_model not in prices.openai_base:
                raise AdvisorError(f"no price for --before-model {args.before_model!r}; known: "
                                   f"{', '.join(prices.openai_base)}")
            before = prices.openai_base[args.before_model]
            if args.after == "openai":
                after = prices.openai_finetune[args.openai_model]
                fixed, train_cost = 0.0, oa.cost
            elif args.after == "self-hosted":
                after, fixed, train_cost = {"input_per_m": 0.0, "output_per_m": 0.0}, sh.hourly * 24, sh.cost
            else:
                raise AdvisorError("--after must be 'openai' or 'self-hosted'")
            be = cost.break_even(train_cost, args.requests_per_day, args.prompt_tokens_before,
                                 args.prompt_tokens_after, args.output_tokens, before["input_per_m"],
                                 before["output_per_m"], after["input_per_m"], after["output_per_m"], fixed)
    except (AdvisorError, DatasetError) as exc:
        raise _user_error(exc) from None
    result = {
        "schema": "ftui.plan.cost/1",
        "prices_checked": prices.checked,
        "dataset": None if data is None else {"path": data.path, "examples": data.examples, "tokens": data.tokens,
                                              "exact": data.exact},
        "tokens_per_epoch": tokens,
        "epochs": args.epochs,
        "openai": {"model": oa.model, "billable_tokens": oa.billable_tokens, "price_per_m": oa.price_per_m,
                   "cost_usd": round(oa.cost, 4)},
        "self_hosted": {"model": arch.name, "method": args.method, "gpu": sh.gpu, "tokens_per_s": round(sh.tokens_per_s),
                        "gpu_hours": round(sh.hours, 4), "hourly_usd": sh.hourly, "cost_usd": round(sh.cost, 4),
                        "assumption": sh.assumption},
        "break_even": None if be is None else {
            "after": args.after, "cost_before_per_day": round(be.cost_before_per_day, 2),
            "cost_after_per_day": round(be.cost_after_per_day, 2), "saving_per_day": round(be.saving_per_day, 2),
            "days_to_pay_back": None if be.days is None else round(be.days, 3),
            "tokens_saved_per_day": be.tokens_saved_per_day},
    }
    if args.json:
        print(json.dumps(result))
        return 0
    src = f"{data.examples} examples in {data.path}, ~" if data else ""
    print(f"Training data: {src}{tokens:,} tokens per epoch × {args.epochs:g} epochs (prices checked {prices.checked})")
    print(f"  OpenAI {oa.model}: {oa.billable_tokens:,} billable tokens × ${oa.price_per_m}/1M = {cost.money(oa.cost)}")
    print(f"  Self-hosted {arch.name} {args.method} on {sh.gpu}: {cost.duration(sh.hours)} × ${sh.hourly:.2f}/h "
          f"= {cost.money(sh.cost)}")
    print(f"    assumption: {sh.assumption}")
    if be is not None:
        print(f"Break-even ({args.after}): {cost.money(be.cost_before_per_day)}/day today -> "
              f"{cost.money(be.cost_after_per_day)}/day, saving {cost.money(be.saving_per_day)}/day")
        print("  never pays back at this volume" if be.days is None else f"  pays back in {cost.duration(be.days * 24)}")
    return 0
