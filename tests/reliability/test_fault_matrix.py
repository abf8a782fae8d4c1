"""The fault matrix (issue 18): every fault a run can meet ends in a recorded status, a run that
can be resumed, and listings (``ftui runs``, ``ftui attach``, ``list_runs``) that still read it.

Faults: SIGTERM, SIGINT once and twice, SIGHUP then kill -9 mid-run, disk full while writing a
checkpoint and while writing the log (an injected ENOSPC: a size-limited mount needs privileges
this test must not assume), a read-only run directory, torn and damaged event logs, and a
truncated checkpoint (the resume falls back to the last intact one and says so).

Cost: the signals and disk faults train in this process (``run_headless`` in the main thread,
the signal sent to ourselves once the first step is logged), so torch and the demo model load
once; only kill -9 needs its own process, started first so it trains while the rest runs.
Helpers come from tests/reliability/test_train_signals.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.config import RunConfig, load_config
from ftui.train import runs
from ftui.train.events import EventLogWriter, read_events
from ftui.train.worker import start_run
from tests.reliability.test_train_signals import event_types, wait_for, write_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, **overrides) -> RunConfig:
    path, _ = write_config(tmp_path, **{"max_steps": 4, "save_steps": 2, "save_total_limit": 3, **overrides})
    return load_config(path)


def _headless_with_signals(config: RunConfig, signals: list[int], after: str = "log") -> tuple[int, str]:
    """``ftui train`` in this process (main thread); ``signals`` are sent once the log shows ``after``."""
    import io

    from transformers import TrainerCallback

    from ftui.commands.train_console import run_headless

    run_dir = Path(config.output_dir)
    out = io.StringIO()
    first_sent = threading.Event()

    def send() -> None:
        wait_for(lambda: after in event_types(run_dir), 120, f"a {after} event")
        for n, sig in enumerate(signals):
            if n:  # a person presses Ctrl+C again once the first one has been answered
                wait_for(lambda: "stopping at the next step" in out.getvalue(), 60, "the first stop")
            os.kill(os.getpid(), sig)
            first_sent.set()

    class HoldTheStop(TrainerCallback):
        """With a second signal to come, no step ends before it is answered: a run that stopped first put the
        default SIGINT handler back, and the second Ctrl+C killed the pytest worker (KeyboardInterrupt)."""

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003, ANN201, ARG002
            if len(signals) > 1 and first_sent.is_set():
                wait_for(lambda: "already stopping" in out.getvalue(), 60, "the second signal answered")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    code = run_headless(config, stream=out, callbacks=[HoldTheStop()])
    sender.join(5)
    return code, out.getvalue()


def _readable(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> runs.RunSummary:
    """The run in every listing: list_runs, ``ftui runs``, ``ftui attach --no-follow``."""
    summary = next(s for s in runs.list_runs(run_dir.parent) if s.run_dir == run_dir)
    os.environ["FTUI_RUNS_DIR"] = str(run_dir.parent)
    try:
        capsys.readouterr()
        assert main(["runs"]) == 0
        assert run_dir.name in capsys.readouterr().out
        assert main(["attach", str(run_dir), "--no-follow"]) == 0
        assert "Traceback" not in capsys.readouterr().out
    finally:
        os.environ.pop("FTUI_RUNS_DIR", None)
    return summary


def _resume(run_dir: Path, max_steps: int) -> list:
    import dataclasses

    config = dataclasses.replace(runs.load_run_config(run_dir), max_steps=max_steps, output_dir=str(run_dir))
    worker = start_run(config, run_dir=run_dir, resume=True)
    assert worker.join(180)
    return read_events(run_dir / "events.jsonl")


# --- kill -9 (its own process, started first) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory, demo_model):
    tmp = tmp_path_factory.mktemp("kill9")
    config, run_dir = write_config(tmp, max_steps=200, save_steps=2)
    proc = subprocess.Popen([sys.executable, "-m", "ftui", "train", str(config)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc, run_dir
    proc.kill()
    proc.wait(30)


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory, demo_model, killed_run) -> Path:
    """One clean run (checkpoints at 2 and 4) to copy faults into; loads the ML stack once."""
    config = _config(tmp_path_factory.mktemp("warm"))
    worker = start_run(config)
    assert worker.join(300)
    assert read_events(worker.events_path)[-1].type == "finished"
    return worker.run_dir


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "runs" / run_dir.name
    shutil.copytree(run_dir, target)
    cfg = runs.load_run_config(target)
    (target / "config.yaml").write_text(json.dumps({**json.loads(json.dumps(cfg.__dict__)), "output_dir": str(target)}))
    return target


# --- signals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "expect"),
    [([signal.SIGTERM], "SIGTERM"), ([signal.SIGINT], "stopping at the next step"),
     ([signal.SIGINT, signal.SIGINT], "already stopping")],
    ids=["sigterm", "sigint-once", "sigint-twice"],
)
def test_a_signal_stops_saves_and_the_run_resumes(warm, tmp_path, capsys, signals, expect) -> None:
    config = _config(tmp_path, max_steps=200)
    code, out = _headless_with_signals(config, signals)
    assert code == 3, out
    assert expect in out and "Traceback" not in out
    run_dir = Path(config.output_dir)
    last = read_events(run_dir / "events.jsonl")[-1]
    assert last.type == "stopped" and last.saved, last
    assert runs.latest_checkpoint(run_dir) is not None
    assert _readable(run_dir, capsys).status == "stopped"
    events = _resume(run_dir, last.step + 1)
    assert events[-1].type == "finished" and events[-1].step == last.step + 1


def test_sighup_then_kill_9_leaves_a_resumable_interrupted_run(killed_run, warm, capsys) -> None:
    proc, run_dir = killed_run
    wait_for(lambda: "checkpoint" in event_types(run_dir), 240, "the first checkpoint")
    proc.send_signal(signal.SIGHUP)  # the terminal went away: the run goes on
    steps_at_hup = len([t for t in event_types(run_dir) if t == "log"])
    wait_for(lambda: len([t for t in event_types(run_dir) if t == "log"]) > steps_at_hup + 1, 120, "steps after SIGHUP")
    assert proc.poll() is None
    proc.kill()  # kill -9 at whatever step it is on
    proc.wait(30)
    summary = _readable(run_dir, capsys)
    assert summary.status == "interrupted"
    checkpoint = runs.latest_checkpoint(run_dir)
    assert checkpoint is not None
    step = int(checkpoint.name.split("-")[1])
    events = _resume(run_dir, step + 2)
    assert events[-1].type == "finished" and events[-1].step == step + 2
    said = [e.text for e in events if e.type == "message" and e.text.startswith("trained")]
    assert said and said[-1].startswith("trained 2 steps"), said  # not the global step count


# --- disk full ---------------------------------------------------------------------------------------------


def test_disk_full_while_checkpointing_says_so_and_resumes_from_the_last_good_one(warm, tmp_path, capsys,
                                                                                  monkeypatch) -> None:
    import torch

    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):
        if "checkpoint-4" in str(f):
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4416 vs 4304")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    config = _config(tmp_path)
    worker = start_run(config)
    assert worker.join(180)
    monkeypatch.setattr(torch, "save", real_save)
    last = read_events(worker.events_path)[-1]
    assert last.type == "failed" and "no space left on device" in last.message and "--resume" in last.hint
    assert _readable(worker.run_dir, capsys).status == "failed"
    assert runs.latest_checkpoint(worker.run_dir).name == "checkpoint-2"
    assert _resume(worker.run_dir, 4)[-1].type == "finished"


def test_disk_full_in_the_log_stops_with_a_recorded_failure(warm, tmp_path, capsys, monkeypatch) -> None:
    real_write = EventLogWriter.write
    state = {"failed": False}

    def write(self, event):
        data = event if isinstance(event, dict) else event.to_dict()
        if data.get("type") == "log" and data.get("step") == 1 and not state["failed"]:
            state["failed"] = True  # the disk fills once, then space comes back
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, event)

    monkeypatch.setattr(EventLogWriter, "write", write)
    config = _config(tmp_path, max_steps=200)
    worker = start_run(config)
    assert worker.join(180)
    last = read_events(worker.events_path)[-1]
    assert last.type == "failed" and "No space left on device" in last.message, last
    assert _readable(worker.run_dir, capsys).status == "failed"
    assert runs.latest_checkpoint(worker.run_dir) is not None  # it stopped with a checkpoint


# --- read-only run dir, damaged logs, truncated checkpoint -----------------------------------------------------


def test_a_read_only_run_dir_is_refused_readably_and_stays_listed(warm, tmp_path, capsys, monkeypatch) -> None:
    run_dir = _copy(warm, tmp_path)
    # as root the kernel ignores permission bits, so os.access answers as it would for a user
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).startswith(str(run_dir)))
    assert main(["train", "--resume", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "chmod u+w" in err and "Traceback" not in err
    monkeypatch.undo()
    assert _readable(run_dir, capsys).status == "finished"


def test_torn_and_damaged_logs_stay_readable_and_resume_cleanly(warm, tmp_path, capsys) -> None:
    run_dir = _copy(warm, tmp_path)
    log = run_dir / "events.jsonl"
    log.write_bytes(log.read_bytes() + b'{"type": "eval", "t": "noon", "step": 4, "eval_loss": "NaN"}\n'
                    b'{"type": "log", "step": "four"}\n\xff\xfe not json\n{"type": "log", "t": 1.0, "st')
    summary = _readable(run_dir, capsys)
    assert summary.status == "finished"
    events = _resume(run_dir, 6)
    assert events[-1].type == "finished" and events[-1].step == 6
    starts = [e for e in events if e.type == "started"]
    assert len(starts) == 2 and starts[-1].resumed_from_step == 4  # the event after the torn line is whole
    assert _readable(run_dir, capsys).last_step == 6


def test_a_truncated_checkpoint_is_passed_over_on_resume(warm, tmp_path, capsys) -> None:
    run_dir = _copy(warm, tmp_path)
    weights = run_dir / "checkpoints" / "checkpoint-4" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    events = _resume(run_dir, 6)
    said = " ".join(e.text for e in events if e.type == "message")
    assert "checkpoint-4 is damaged" in said and "resuming from checkpoint-2 instead" in said
    assert events[-1].type == "finished" and events[-1].step == 6
    starts = [e for e in events if e.type == "started"]
    assert starts[-1].resumed_from_step == 2
    assert _readable(run_dir, capsys).status == "finished"
