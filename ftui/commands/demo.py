"""CLI sub-commands for the demo area: ``ftui demo-model``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ftui.textsafe import safe_print as print  # noqa: A004 - the model path


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
    parser = sub.add_parser(
        "demo-model",
        help="build the tiny offline demo model (reused when already built)",
        description="Build the tiny offline demo model: a small Llama with a byte-level BPE tokenizer "
        "trained on ftui's sample data and a chat template with generation markers, pretrained for a few "
        "seconds on generic assistant replies (fluent, not on-task: the 'base' a fine-tune is compared with). "
        "Deterministic, no downloads, about 20-30 s on a 2-core CPU. Default location: $FTUI_DEMO_MODEL, else "
        "$FTUI_CACHE_DIR/demo-model (~/.cache/ftui/demo-model).",
    )
    parser.add_argument("--out", metavar="DIR", help="build into DIR instead of the cache directory")
    parser.add_argument("--force", action="store_true", help="rebuild even if an intact model is already there")
    parser.set_defaults(func=run_demo_model)


def run_demo_model(args: argparse.Namespace) -> int:
    from ftui import paths
    from ftui.errors import UserError

    out = Path(args.out).expanduser() if args.out else paths.demo_model_dir()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} is a file. Give a directory path (it is created if missing).")
    try:
        paths.ensure_writable_dir(out.parent, "demo model parent", "FTUI_DEMO_MODEL or --out")
    except paths.DirectoryError as exc:
        raise UserError(str(exc)) from None

    from ftui.models.demo import build_demo_model, is_built

    reused = not args.force and is_built(out)
    started = time.perf_counter()
    try:
        path = build_demo_model(out, force=args.force)
    except paths.DirectoryError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write the demo model to {out}: {exc.strerror or exc}. "
                        "Pick another directory with --out.") from None
    elapsed = time.perf_counter() - started
    print(path)
    what = "already built, reused" if reused else f"built in {elapsed:.1f} s"
    print(f"{what}; load it with AutoModelForCausalLM/AutoTokenizer.from_pretrained, or use the model name 'demo'")
    return 0
