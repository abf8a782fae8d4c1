"""Which device a single-process run trains on, and pinning it before the trainer looks.

With two or more GPUs visible and no launcher, transformers' ``TrainingArguments`` counts
every visible GPU (``n_gpu``) and ``Trainer`` wraps the model in ``nn.DataParallel``,
which TRL's ``SFTTrainer`` refuses. ``CUDA_VISIBLE_DEVICES`` cannot fix that in-process
once ``torch.cuda`` is initialised (the TUI's validation already asked it), so a
single-process run picks one GPU here (``RunConfig.device``: ``auto`` = the first,
``cuda:1`` / ``1``, or ``cpu``), makes it the current device, and overrides the device
and ``n_gpu`` that ``TrainingArguments._setup_devices`` computed. Under a launcher
(``accelerate launch`` / ``torchrun``: ``WORLD_SIZE`` or ``LOCAL_RANK`` in the
environment) the launcher owns devices and nothing here applies.

Parsing (``parse_device``) is free of torch (the form checks it on every keystroke); the rest imports
torch inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEVICE_HELP = "auto (the first GPU), cuda:N or N for GPU N, or cpu"
MULTI_GPU_HINT = "Multi-GPU: accelerate launch -m ftui train CONFIG.yaml"


class DeviceError(ValueError):
    """A device setting that cannot be used here; ``str()`` says why and what to write instead."""


def parse_device(value: str) -> tuple[str, int | None]:
    """``("auto", None)``, ``("cpu", None)`` or ``("cuda", index)``; DeviceError for anything else."""
    text = str(value or "").strip().lower()
    if text in ("", "auto"):
        return "auto", None
    if text == "cpu":
        return "cpu", None
    if text == "cuda":
        return "cuda", 0
    number = text[len("cuda:"):] if text.startswith("cuda:") else text
    if number.isdigit():
        return "cuda", int(number)
    raise DeviceError(f"'{value}' is not a device; use {DEVICE_HELP}")


def under_launcher(env: Mapping[str, str] | None = None) -> bool:
    """True when a distributed launcher started this process (it then owns device placement)."""
    env = os.environ if env is None else env
    try:
        world = int(env.get("WORLD_SIZE", "1") or 1)
    except ValueError:
        world = 1
    return world > 1 or bool(env.get("LOCAL_RANK", "").strip())


@dataclass(frozen=True)
class DeviceChoice:
    """Where a single-process run trains: ``kind`` "cuda" (with ``index``), "cpu", or "launcher"."""

    kind: str
    index: int | None = None
    visible: int = 0  # GPUs this process can see
    name: str | None = None  # the GPU's name, for the log line

    @property
    def cuda(self) -> bool:
        return self.kind == "cuda"

    def describe(self) -> str:
        """The run-log line: how many GPUs are visible and which one trains (and how to use them all)."""
        if self.kind == "launcher":
            return "devices are placed by the distributed launcher (one GPU per rank)"
        gpus = f"{self.visible} GPU{'s' if self.visible != 1 else ''} visible"
        if self.kind == "cpu":
            return f"{gpus}; training on the CPU" if self.visible else "no GPU visible; training on the CPU"
        where = f"cuda:{self.index}" + (f" ({self.name})" if self.name else "")
        text = f"{gpus}; training on {where}"
        return f"{text}. {MULTI_GPU_HINT}" if self.visible > 1 else text


def device_problem(value: str, check_hardware: bool = True) -> str | None:
    """Why ``value`` cannot be used here (one line with the fix), or None. Cheap without ``check_hardware``."""
    try:
        kind, index = parse_device(value)
    except DeviceError as exc:
        return str(exc)
    if kind != "cuda" or not check_hardware or under_launcher():
        return None
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        return f"'{value}' asks for a GPU and none is visible here; use auto or cpu"
    if index is not None and index >= count:
        valid = ", ".join(f"cuda:{i}" for i in range(count))
        return f"cuda:{index} does not exist: {count} GPU{'s' if count != 1 else ''} visible ({valid}); use one of those or auto"
    return None


def choose_device(value: str, env: Mapping[str, str] | None = None) -> DeviceChoice:
    """The device a run configured with ``device: value`` trains on in this process (no side effects)."""
    if under_launcher(env):
        return DeviceChoice("launcher")
    kind, index = parse_device(value)
    import torch

    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if kind == "cpu" or (kind == "auto" and visible == 0):
        return DeviceChoice("cpu", visible=visible)
    if visible == 0:
        raise DeviceError(f"device '{value}' asks for a GPU and none is visible here; use auto or cpu")
    index = 0 if index is None else index
    if index >= visible:
        raise DeviceError(f"cuda:{index} does not exist: {visible} GPU{'s' if visible != 1 else ''} visible; "
                          f"use cuda:0..cuda:{visible - 1} or auto")
    try:
        name = str(torch.cuda.get_device_name(index))
    except Exception:  # noqa: BLE001 - a name is decoration
        name = None
    return DeviceChoice("cuda", index=index, visible=visible, name=name)


def pin_device(choice: DeviceChoice) -> None:
    """Make the chosen GPU this thread's current device (model loading with device_map follows it)."""
    if choice.cuda:
        import torch

        torch.cuda.set_device(choice.index)


def pin_training_args(args: Any, choice: DeviceChoice) -> None:
    """Make ``TrainingArguments`` train on ``choice`` alone: its device, ``n_gpu == 1``, current device.

    ``_setup_devices`` (a cached property) picks ``cuda:0`` and counts every visible GPU
    as ``n_gpu`` when no launcher is present; the Trainer then places the model on
    ``args.device`` and wraps it in ``nn.DataParallel`` when ``n_gpu > 1``. We let it run
    (it also sets up accelerate's state, whose single-process device is plain "cuda",
    i.e. the current device) and then replace its two answers.
    """
    if not choice.cuda:
        return
    import torch

    _ = args.device  # run _setup_devices once, so the values below are not recomputed over
    device = torch.device("cuda", choice.index)
    args.__dict__["_setup_devices"] = device
    args._n_gpu = 1
    torch.cuda.set_device(device)
