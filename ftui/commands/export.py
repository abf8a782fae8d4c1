"""CLI: ``ftui export RUN --what adapter|merged|gguf --out DIR`` and ``ftui checkpoints RUN``.

The same code the Train screen's Runs view calls (``ftui.train.export``): the adapter copied,
base + adapter merged into safetensors, or that merged model converted to GGUF by llama.cpp's
``convert_hf_to_gguf.py`` (the exact command is printed when the converter is not installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftui.textsafe import safe_print as print  # noqa: A004 - run names and paths reach these lines


def register(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export",
        help="export a run's adapter, its merged model, or a GGUF file (llama.cpp)",
        description="Export a finished run (or one of its checkpoints): the adapter, the base + adapter merged "
        "(safetensors), or a GGUF file converted by llama.cpp's convert_hf_to_gguf.py "
        "(found through FTUI_GGUF_CONVERTER, LLAMA_CPP_DIR or PATH).",
    )
    export.add_argument("run", metavar="RUN", help="run id, unique prefix or path ('ftui runs' lists them)")
    export.add_argument("--what", choices=("adapter", "merged", "gguf"), default="merged", help="what to write (default: merged)")
    export.add_argument("--out", metavar="DIR", help="folder to write into (default: RUN/export/WHAT)")
    export.add_argument("--checkpoint", metavar="N", help="export checkpoint-N (or best / last) instead of the final adapter")
    export.add_argument("--outtype", default="f16", choices=("f16", "bf16", "q8_0", "f32"), help="GGUF tensor type (default f16)")
    export.add_argument("--cpu", action="store_true", help="never use the GPU for the merge")
    export.set_defaults(func=cmd_export)

    ckpts = sub.add_parser("checkpoints", help="list a run's checkpoints (step, eval loss, size, best)",
                           description="List RUN's checkpoints with their step, eval loss and size; the best is marked.")
    ckpts.add_argument("run", metavar="RUN", help="run id, unique prefix or path")
    ckpts.set_defaults(func=cmd_checkpoints)


def _find_run(ref: str) -> Path:
    from ftui.errors import UserError
    from ftui.train import runs

    try:
        return runs.find_run(ref)
    except runs.RunDirError as exc:
        raise UserError(str(exc)) from None


def cmd_export(args: argparse.Namespace) -> int:
    from ftui.errors import UserError
    from ftui.train.export import ExportError, default_out, export_run, source_dir

    run_dir = _find_run(args.run)
    try:
        src = source_dir(run_dir, args.checkpoint)
        out = Path(args.out).expanduser() if args.out else default_out(run_dir, args.what, src.name if args.checkpoint else None)
        result = export_run(run_dir, args.what, out, checkpoint=args.checkpoint, outtype=args.outtype,
                            allow_gpu=not args.cpu, say=lambda text: print(text, file=sys.stderr, flush=True))
    except ExportError as exc:
        raise UserError(f"cannot export run {run_dir.name}: {exc}") from None
    print(result.path)
    return 0


def cmd_checkpoints(args: argparse.Namespace) -> int:
    from ftui.textsafe import neutralize
    from ftui.train.checkpoints import describe_size, list_checkpoints

    run_dir = _find_run(args.run)
    found = list_checkpoints(run_dir)
    if not found:
        print(f"run {neutralize(run_dir.name)} has no checkpoints")
        return 0
    print(f"{'checkpoint':<18} {'step':>7} {'eval loss':>10} {'size':>10}")
    for c in found:
        loss = f"{c.eval_loss:.4f}" if c.eval_loss is not None else "—"
        note = "  best" if c.best else ""
        note += f"  damaged: {c.problem}" if c.problem else ""
        print(f"{c.name:<18} {c.step:>7} {loss:>10} {describe_size(c.size_bytes):>10}{note}")
    print(f"evaluate one with --system run:{neutralize(run_dir.name)}@checkpoint-N; "
          f"export with 'ftui export {neutralize(run_dir.name)} --checkpoint N'")
    return 0
