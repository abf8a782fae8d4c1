"""``ftui train`` under a distributed launcher: ``accelerate launch -m ftui train CONFIG.yaml``,
``torchrun --nproc_per_node N -m ftui train CONFIG.yaml``.

With WORLD_SIZE > 1 every rank trains; rank 0 checks the config, creates the run directory,
shares its path with the other ranks, writes the event log and draws the progress bar.
Stop requests (SIGTERM, Ctrl+C, ``ftui attach``) reach rank 0 and are broadcast to all
ranks at the next step boundary, so they leave the loop together.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path


def launched_world() -> int:
    """How many ranks the launcher started (1 without a launcher)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1") or 1)
    except ValueError:
        return 1


def train_ranks(config, run_dir: Path | None, resume: bool, report_problems: Callable[..., bool]) -> int:
    """Train ``config`` on this rank; rank 0 reports the config's problems first and owns the run directory."""
    from ftui.commands.train_console import run_headless
    from ftui.errors import UserError
    from ftui.train import runs
    from ftui.train.errors import InvalidRunConfig

    rank = int(os.environ.get("RANK", "0") or 0)
    if rank == 0 and report_problems(config, resume=resume):
        return 2
    run_dir = _shared_run_dir(config, run_dir, rank, resume)
    try:
        if rank != 0:
            return _follower(config, run_dir, resume)
        try:
            return run_headless(config, run_dir=run_dir, resume=resume)
        except (InvalidRunConfig, runs.RunDirError) as exc:
            raise UserError(str(exc)) from None
    finally:
        _leave_process_group()


def _leave_process_group() -> None:
    """Tear this rank's process group down before the interpreter exits.

    A follower that returned with gloo's threads still running aborted at exit ("terminate called without an
    active exception", SIGABRT) while rank 0 was still saving: the launcher then stopped rank 0 and the whole
    launch failed with status 1 (once in a clean-clone CI, 2-process CPU DDP). Leaving the group ends them."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


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
