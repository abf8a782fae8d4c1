"""``python -m ftui.train CONFIG.yaml`` and ``accelerate launch -m ftui.train CONFIG.yaml``.

The code behind the ``ftui/train/__main__.py`` entry shim: it parses and reports like
``ftui train`` (the CLI side), so it lives with the commands, not in the core.

Under a launcher (WORLD_SIZE > 1) every rank trains; rank 0 creates the run directory,
shares its path with the other ranks, writes the event log and draws the progress bar.
Stop requests (SIGTERM, Ctrl+C, ``ftui attach``) reach rank 0 and are broadcast to all
ranks at the next step boundary, so they leave the loop together.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ftui.train", description="Train a run config headless.")
    parser.add_argument("config", nargs="?", help="YAML run config, '-' for stdin")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--resume", metavar="RUN", help="continue this run from its latest checkpoint")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from ftui.commands.train import load_cli_config, report_problems
    from ftui.commands.train_console import run_headless
    from ftui.config import ConfigError
    from ftui.train import runs

    args = _parse(argv)
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    try:
        config, run_dir = load_cli_config(args.config, args.overrides, args.resume)
    except (ConfigError, runs.RunDirError) as exc:
        print(f"ftui: {exc}", file=sys.stderr)
        return 2
    if rank == 0 and report_problems(config, resume=bool(args.resume)):
        return 2
    if world > 1:
        run_dir = _shared_run_dir(config, run_dir, rank, bool(args.resume))
        if rank != 0:
            return _follower(config, run_dir, bool(args.resume))
    from ftui.train.errors import InvalidRunConfig

    try:
        return run_headless(config, run_dir=run_dir, resume=bool(args.resume))
    except (InvalidRunConfig, runs.RunDirError) as exc:
        print(f"ftui: {exc}", file=sys.stderr)
        return 2


def _shared_run_dir(config, run_dir: Path | None, rank: int, resume: bool) -> Path:
    """Rank 0 picks (and creates) the run directory; every rank gets its path."""
    import torch
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    from ftui.train import runs

    PartialState(cpu=not torch.cuda.is_available())  # joins the process group the launcher set up (gloo on CPU)
    holder: list[str | None] = [None]
    if rank == 0:
        if run_dir is None:
            run_dir, _ = runs.create_run(config)
        holder[0] = str(run_dir)
    broadcast_object_list(holder, from_process=0)
    if not holder[0]:
        raise SystemExit(f"ftui: rank {rank} did not receive the run directory from rank 0; check the launcher setup")
    return Path(str(holder[0]))


def _follower(config, run_dir: Path, resume: bool) -> int:
    """A non-zero rank: train in the main thread, write nothing; rank 0 decides when to stop."""
    import dataclasses

    from ftui.train.control import RunControl
    from ftui.train.detach import ignore_hangup_and_interrupt
    from ftui.train.hf_backend import run_hf

    ignore_hangup_and_interrupt()  # rank 0 asks about Ctrl+C and broadcasts the answer
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    config = dataclasses.replace(config, output_dir=str(run_dir))
    run_hf(config, run_dir, lambda event: None, RunControl(), resume=resume)
    return 0
