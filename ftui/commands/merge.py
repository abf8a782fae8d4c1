"""CLI: ``ftui merge RUN`` merges a finished LoRA / QLoRA run's adapter into its base model.

The same merge a run does at its end with ``merge_at_end`` (``ftui.train.merge``): on the
GPU when the base fits in its free memory, else shard by shard with one safetensors shard
in RAM at a time, so a 70B run can be merged on a box with far less RAM than the model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftui.textsafe import safe_print as print  # noqa: A004 - run names and paths reach these lines


def register(sub: argparse._SubParsersAction) -> None:
    merge = sub.add_parser(
        "merge",
        help="merge a finished LoRA/QLoRA run's adapter into its base (shard by shard when RAM is short)",
        description="Write RUN's adapter merged into its base model as a standalone model directory "
        "(safetensors, the base's dtype). On the GPU when the base fits there, else one shard at a time.",
    )
    merge.add_argument("run", metavar="RUN", help="run id, unique prefix or path ('ftui runs' lists them)")
    merge.add_argument("--out", metavar="DIR", help="where to write the merged model (default: RUN/merged)")
    merge.add_argument("--cpu", action="store_true", help="never use the GPU: merge shard by shard in host RAM")
    merge.add_argument("--checkpoint", metavar="N", help="merge checkpoint-N (or best / last) instead of the final adapter")
    merge.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from ftui.errors import UserError
    from ftui.train import runs

    try:
        run_dir = runs.find_run(args.run)
    except runs.RunDirError as exc:
        raise UserError(str(exc)) from None
    adapter = run_dir / runs.ADAPTER_DIR
    if getattr(args, "checkpoint", None):
        from ftui.train.checkpoints import find_checkpoint

        try:
            adapter = find_checkpoint(run_dir, args.checkpoint)
        except runs.RunDirError as exc:
            raise UserError(str(exc)) from None
    if not (adapter / "adapter_config.json").is_file():
        if (run_dir / "model").is_dir():
            raise UserError(f"run {run_dir.name} is a full fine-tune: {run_dir / 'model'} is already a whole model")
        raise UserError(f"run {run_dir.name} has no adapter yet (still training, stopped without saving, or failed)")
    default = run_dir / (runs.MERGED_DIR if adapter.name == runs.ADAPTER_DIR else f"{runs.MERGED_DIR}-{adapter.name}")
    out = Path(args.out).expanduser() if args.out else default
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} already exists and is not empty; remove it or give another --out")
    try:
        base = runs.load_run_config(run_dir).model
    except Exception:  # noqa: BLE001 - an unreadable config.yaml: the adapter still names its base
        base = None

    from ftui.train.merge import MergeError, merge

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rmerged shard {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        report = merge(adapter, out, base=base, allow_gpu=not args.cpu, progress=progress)
    except MergeError as exc:
        raise UserError(f"cannot merge run {run_dir.name}: {exc}") from None
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(report.describe())
    return 0
