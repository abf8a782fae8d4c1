"""Run directories, listing, the live lock, the control file and the worker's plumbing (fake backend)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.train import live, run_lock, runs, worker
from ftui.train.events import Eval, EventLogWriter, Failed, Finished, Log, Started, Stopped, read_events


def fake_backend(steps: int = 1000, fail_at: int | None = None, finish: bool = True):
    def run(config, run_dir, emit, control, resume=False, callbacks=()):
        emit(Started(run_id=Path(run_dir).name, method=config.method, model=config.model, total_steps=steps))
        for step in range(1, steps + 1):
            if control.stop_requested:
                emit(Stopped(step=step - 1, saved=control.save_requested))
                return
            if fail_at == step:
                raise ValueError(f"bad thing at {step} with key {__import__('os').environ.get('OPENAI_API_KEY')}")
            emit({"type": "log", "t": time.time(), "step": step, "loss": 1.0 / step})
            time.sleep(0.01)
        if finish:
            emit(Finished(step=steps))

    return run


@pytest.fixture
def use_backend(monkeypatch):
    def install(backend):
        monkeypatch.setattr(worker, "_backend_for", lambda method: backend)

    return install


def test_run_id_is_sortable_readable_and_unique():
    config = RunConfig(model="/models/Llama-3.1-8B-Instruct/")
    first = runs.new_run_id(config, now=time.mktime((2026, 11, 23, 18, 30, 0, 0, 0, -1)))
    assert re.fullmatch(r"20261123-183000-lora-llama-3\.1-8b-instruct-[0-9a-f]{4}", first), first
    assert runs.new_run_id(config) != runs.new_run_id(config)


def test_create_run_writes_config_with_absolute_paths(runs_dir):
    run_dir, as_run = runs.create_run(RunConfig())
    assert run_dir.parent == runs_dir
    saved = runs.load_run_config(run_dir)
    assert saved == as_run and Path(saved.train_path).is_absolute() and saved.output_dir == str(run_dir)
    (run_dir / "events.jsonl").write_text("")
    with pytest.raises(runs.RunDirError, match="already holds a run"):
        runs.create_run(RunConfig(), run_dir)


def test_metadata_has_hashes_and_versions(runs_dir, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "hello"}\n')
    config = RunConfig(train_path=str(data), eval_path=None)
    run_dir, _ = runs.create_run(config)
    meta = runs.write_run_metadata(run_dir, config, device="cpu")
    import hashlib

    assert meta["datasets"] == {str(data.resolve()): hashlib.sha256(data.read_bytes()).hexdigest()}
    assert meta["versions"]["torch"] and meta["versions"]["trl"] and meta["device"] == "cpu"


def _write_log(run_dir: Path, events) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with EventLogWriter(run_dir / "events.jsonl") as writer:
        for event in events:
            writer.write(event)


def test_list_runs_derives_everything_from_the_log(runs_dir):
    t0 = 1_800_000_000.0
    _write_log(runs_dir / "a-finished", [
        Started(t=t0, run_id="a", method="lora", model="demo", total_steps=10),
        Eval(t=t0 + 1, step=0, eval_loss=3.0), Log(t=t0 + 2, step=10, loss=1.0),
        Eval(t=t0 + 3, step=10, eval_loss=2.5), Finished(t=t0 + 30, step=10),
    ])
    _write_log(runs_dir / "b-failed", [
        Started(t=t0 + 100, run_id="b", method="full", model="m", total_steps=5),
        Failed(t=t0 + 110, message="out of GPU memory at step 3", step=3),
    ])
    _write_log(runs_dir / "c-crashed", [Started(t=t0 + 200, run_id="c", method="qlora", model="m")])
    _write_log(runs_dir / "d-resumed", [
        Started(t=t0 + 300, run_id="d", method="lora", model="m"), Stopped(t=t0 + 301, step=3, saved=True),
        Started(t=t0 + 400, run_id="d", method="lora", model="m", resumed_from_step=3),
    ])
    summaries = {s.run_id: s for s in runs.list_runs()}
    assert [s.run_id for s in runs.list_runs()] == ["d-resumed", "c-crashed", "b-failed", "a-finished"]
    a = summaries["a-finished"]
    assert (a.status, a.method, a.model, a.best_eval_loss, a.duration_s, a.last_step, a.total_steps) == (
        "finished", "lora", "demo", 2.5, 30.0, 10, 10)
    assert summaries["b-failed"].status == "failed" and summaries["b-failed"].message.startswith("out of GPU memory")
    assert summaries["c-crashed"].status == "interrupted"  # the log says running, but no process holds the lock
    assert summaries["d-resumed"].status == "interrupted"  # its latest start is after the stop


def test_lock_makes_a_run_live_and_a_second_trainer_is_refused(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    assert not run_lock.is_live(run_dir)
    lock = run_lock.RunLock(run_dir)
    lock.acquire()
    try:
        assert run_lock.is_live(run_dir)
        assert run_lock.read_lock(run_dir)["pid"] > 0
        with pytest.raises(runs.RunDirError, match="ftui attach"):
            run_lock.RunLock(run_dir).acquire()
    finally:
        lock.release()
    assert not run_lock.is_live(run_dir) and not (run_dir / "run.lock").exists()
    (run_dir / "run.lock").write_text(json.dumps({"pid": 999999, "host": "elsewhere"}))  # stale, from a crash
    assert not run_lock.is_live(run_dir)


def test_find_run_by_id_prefix_suffix_and_path(runs_dir):
    _write_log(runs_dir / "20261123-183000-lora-demo-aaaa", [])
    _write_log(runs_dir / "20261123-190000-full-demo-bbbb", [])
    assert runs.find_run("20261123-1830").name.endswith("aaaa")
    assert runs.find_run("bbbb").name.startswith("20261123-1900")
    assert runs.find_run(str(runs_dir / "20261123-190000-full-demo-bbbb")).name.endswith("bbbb")
    with pytest.raises(runs.RunDirError, match="matches 2 runs"):
        runs.find_run("20261123")
    with pytest.raises(runs.RunDirError, match="ftui runs"):
        runs.find_run("nope")


def test_worker_writes_events_and_stops_through_the_control_file(runs_dir, use_backend):
    use_backend(fake_backend())
    w = worker.start_run(RunConfig(), check=False)
    assert w in live.active() and run_lock.is_live(w.run_dir)
    deadline = time.monotonic() + 10
    while not any(isinstance(e, Log) for e in read_events(w.events_path)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    run_lock.request_stop(w.run_dir, save=True)  # what 'ftui attach' does from another process
    assert w.join(timeout=10)
    events = read_events(w.events_path)
    assert isinstance(events[-1], Stopped) and events[-1].saved
    assert any(e.type == "message" and "another process" in e.text for e in events)
    assert not run_lock.is_live(w.run_dir) and w not in live.active()
    assert runs.summarize_run(w.run_dir).status == "stopped"


def test_worker_turns_an_exception_into_failed_and_scrubs_secrets(runs_dir, use_backend, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-abcdef123456")
    use_backend(fake_backend(fail_at=3))
    w = worker.start_run(RunConfig(), check=False)
    assert w.join(timeout=10)
    last = read_events(w.events_path)[-1]
    assert isinstance(last, Failed) and last.step == 2 and "ValueError" in last.message and "bad thing at 3" in last.message
    for path in w.run_dir.rglob("*"):
        if path.is_file():
            assert b"sk-test-SECRET" not in path.read_bytes(), path


def test_a_backend_that_ends_without_a_result_is_a_failure(runs_dir, use_backend):
    use_backend(fake_backend(steps=2, finish=False))
    w = worker.start_run(RunConfig(), check=False)
    assert w.join(timeout=10)
    last = read_events(w.events_path)[-1]
    assert isinstance(last, Failed) and "without a result" in last.message


def test_start_run_refuses_an_invalid_config_before_creating_anything(runs_dir):
    with pytest.raises(worker.InvalidRunConfig) as info:
        worker.start_run(RunConfig(learning_rate=0, lora_r=0))
    assert {p.field for p in info.value.problems} == {"learning_rate", "lora_r"}
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_resume_needs_a_checkpoint(runs_dir, use_backend):
    use_backend(fake_backend(steps=2))
    w = worker.start_run(RunConfig(), check=False)
    w.join(timeout=10)
    with pytest.raises(runs.RunDirError, match="no checkpoint to resume from"):
        worker.start_run(RunConfig(), run_dir=w.run_dir, resume=True, check=False)


def test_runs_and_attach_commands(runs_dir, use_backend, capsys):
    from ftui.cli import main

    use_backend(fake_backend(steps=3))
    w = worker.start_run(RunConfig(), check=False)
    w.join(timeout=10)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and "lora" in out and "best eval loss" in out
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["status"] == "finished"
    assert main(["attach", w.run_id]) == 0
    out = capsys.readouterr().out
    assert "finished at step 3" in out and "is not running" in out
    assert main(["attach", "no-such-run"]) == 2
    assert "ftui runs" in capsys.readouterr().err


def test_train_resume_cli_uses_the_runs_own_config(runs_dir, use_backend, capsys):
    from ftui.cli import main

    use_backend(fake_backend(steps=2))
    first = worker.start_run(RunConfig(max_steps=2), check=False)
    first.join(timeout=10)
    checkpoint = first.run_dir / "checkpoints" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text("{}")
    assert main(["train", "--resume", first.run_id[-4:], "--set", "max_steps=4"]) == 0
    out = capsys.readouterr().out
    assert f"run directory: {first.run_dir}" in out
    assert [e.type for e in read_events(first.events_path)].count("started") == 2
    assert runs.load_run_config(first.run_dir).max_steps == 4  # the config.yaml says what the resumed run ran
    assert main(["train", "cfg.yaml", "--resume", first.run_id]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_live_run_cannot_be_started_twice(runs_dir, use_backend):
    use_backend(fake_backend())
    w = worker.start_run(RunConfig(), check=False)
    try:
        checkpoint = w.run_dir / "checkpoints" / "checkpoint-1"
        checkpoint.mkdir(parents=True)
        (checkpoint / "trainer_state.json").write_text("{}")
        with pytest.raises(runs.RunDirError, match="being trained by process"):
            worker.start_run(RunConfig(), run_dir=w.run_dir, resume=True, check=False)
    finally:
        w.stop()
        w.join(timeout=10)
    assert json.loads((w.run_dir / "run.json").read_text())["pid"] == __import__("os").getpid()


# ---------------------------------------------------------------------- the log writer never dies quietly
class _Disk:
    """Stands in for the disk under events.jsonl: refuses the next ``failures_left`` writes, or those ``refuse`` picks."""

    def __init__(self) -> None:
        self.failures_left = 0
        self.refuse = lambda event: False
        self.refused = 0

    def check(self, event: dict) -> None:
        if self.failures_left > 0 or self.refuse(event):
            self.failures_left = max(0, self.failures_left - 1)
            self.refused += 1
            raise OSError(28, "No space left on device")


@pytest.fixture
def disk(monkeypatch) -> _Disk:
    state = _Disk()
    real_write = EventLogWriter.write

    def write(self, event):
        data = event.to_dict() if hasattr(event, "to_dict") else event
        state.check(data)
        real_write(self, data)

    monkeypatch.setattr(EventLogWriter, "write", write)
    return state


@pytest.fixture
def thread_errors(monkeypatch) -> list[BaseException]:
    """Exceptions that ended a thread (a writer thread that died would land here)."""
    import threading

    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    return errors


def _wait_for_a_step(w: worker.TrainingWorker) -> None:
    deadline = time.monotonic() + 10
    while not any(isinstance(e, Log) for e in read_events(w.events_path)):
        assert time.monotonic() < deadline, "no step was logged"
        time.sleep(0.02)


def test_a_write_that_fails_mid_run_stops_the_run_and_the_log_says_why(runs_dir, use_backend, disk, thread_errors):
    use_backend(fake_backend())
    w = worker.start_run(RunConfig(), check=False)
    _wait_for_a_step(w)
    disk.failures_left = 3  # a full disk, freed a moment later
    assert w.join(timeout=10), "the run must stop when its log cannot be written"
    assert disk.refused == 3 and w.control.stop_requested and w.control.save_requested
    assert w.result == "failed" and "No space left on device" in w.log_error
    events = read_events(w.events_path)
    assert [e.type for e in events if e.type in ("finished", "failed", "stopped")] == ["failed"]
    last = events[-1]
    assert isinstance(last, Failed) and last.message == w.log_error
    assert last.message.startswith("the event log could not be written at step") and "--resume" in last.hint
    assert thread_errors == [] and not run_lock.is_live(w.run_dir)
    assert runs.summarize_run(w.run_dir).status == "failed"


def test_a_log_that_stays_unwritable_is_still_reported(runs_dir, use_backend, disk, thread_errors):
    import io

    from ftui.commands.train_console import EXIT_FAILED, run_headless

    use_backend(fake_backend())
    disk.refuse = lambda event: True  # from the first event on
    out = io.StringIO()
    assert run_headless(RunConfig(), stream=out) == EXIT_FAILED
    assert re.search(r"^failed: the event log could not be written at step \d+ \(OSError: \[Errno 28\] No space left "
                     r"on device\); training stopped$", out.getvalue(), re.M), out.getvalue()
    assert thread_errors == []
    (run_dir,) = runs_dir.iterdir()
    assert not run_lock.is_live(run_dir) and read_events(run_dir / "events.jsonl") == []


def _backend_with_an_unserialisable_event(config, run_dir, emit, control, resume=False, callbacks=()):
    emit(Started(run_id=Path(run_dir).name, method=config.method, model=config.model, total_steps=30))
    emit({"type": "log", "t": time.time(), "step": 1, "loss": object()})
    for step in range(2, 31):
        if control.stop_requested:
            emit(Stopped(step=step - 1, saved=control.save_requested))
            return
        emit(Log(step=step, loss=1.0 / step))
        time.sleep(0.01)
    emit(Finished(step=30))


def test_an_unserialisable_event_is_dropped_with_a_warning(runs_dir, use_backend, disk, thread_errors):
    use_backend(_backend_with_an_unserialisable_event)
    w = worker.start_run(RunConfig(), check=False)
    assert w.join(timeout=10)
    events = read_events(w.events_path)
    assert any(e.type == "message" and e.text.startswith("unserialisable log event dropped") for e in events)
    assert isinstance(events[-1], Finished) and w.result == "finished" and w.log_error is None


def test_when_the_warning_about_a_dropped_event_cannot_be_written_either_the_run_stops(
    runs_dir, use_backend, disk, thread_errors
):
    use_backend(_backend_with_an_unserialisable_event)
    disk.refuse = lambda event: event.get("type") == "message" and "unserialisable" in event.get("text", "")
    w = worker.start_run(RunConfig(), check=False)
    assert w.join(timeout=10)
    assert thread_errors == [] and disk.refused == 1
    assert w.result == "failed" and "No space left on device" in w.log_error
    last = read_events(w.events_path)[-1]
    assert isinstance(last, Failed) and last.message == w.log_error and last.step is not None and last.step < 30


def test_a_control_file_that_cannot_be_removed_still_stops_the_run(runs_dir, use_backend, thread_errors, monkeypatch):
    use_backend(fake_backend())
    w = worker.start_run(RunConfig(), check=False)
    _wait_for_a_step(w)

    def cannot_remove(run_dir):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_lock, "clear_control", cannot_remove)
    run_lock.request_stop(w.run_dir, save=True)
    assert w.join(timeout=10)
    assert thread_errors == []
    events = read_events(w.events_path)
    texts = [e.text for e in events if e.type == "message"]
    assert sum("could not remove control.json" in t for t in texts) == 1
    assert "stop-and-save requested from another process" in texts
    assert isinstance(events[-1], Stopped) and events[-1].saved and w.log_error is None


def test_an_unexpected_error_in_the_writer_stops_the_run_and_the_log_goes_on(runs_dir, use_backend, thread_errors,
                                                                              monkeypatch):
    use_backend(fake_backend())
    w = worker.start_run(RunConfig(), check=False)
    _wait_for_a_step(w)

    def broken(run_dir):
        raise RuntimeError("the control file reader broke")

    monkeypatch.setattr(run_lock, "read_control", broken)
    assert w.join(timeout=10)
    assert thread_errors == [] and w.control.save_requested
    assert w.log_error.startswith("the event log writer failed at step") and "RuntimeError" in w.log_error
    last = read_events(w.events_path)[-1]
    assert isinstance(last, Failed) and last.message == w.log_error and w.result == "failed"
    assert not run_lock.is_live(w.run_dir)
