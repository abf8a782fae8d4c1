"""Issue 18, faults 3-22 one by one (the corpus and the fault matrix test them together).

Each test fails on the code before its fix: escapes printed raw by CLI listings, a torn event
line gluing the next event, lint saying "0 errors" on a file cut while read, world-readable run
and session files, a stop ignored during set-up, a second Ctrl+C prompt blocking on stdin,
damaged event lines breaking listings, a list in dataset_dict.json, a read-only run dir, a
disk-full checkpoint error without words, no fallback past a truncated checkpoint, and the
cosmetic "None steps" / "trained 35 steps" / "25/15".
"""

from __future__ import annotations

import errno
import json
import os
import stat
import struct
import time
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.config import RunConfig
from ftui.train import run_lock, runs
from ftui.train import worker as worker_mod
from ftui.train.events import EventLogWriter, Message, Started, read_events

EVIL = "evil\x1b]0;pwned\x07\x1b[31mname"


def _run_dir(base: Path, name: str, events: list[dict] | None = None, raw: bytes | None = None) -> Path:
    d = base / name
    d.mkdir(parents=True)
    (d / "config.yaml").write_text("model: demo\n")
    if raw is not None:
        (d / "events.jsonl").write_bytes(raw)
    elif events is not None:
        (d / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return d


GOOD_EVENTS = [
    {"type": "started", "t": 1000.0, "run_id": "x", "method": "lora", "model": "demo", "total_steps": 4},
    {"type": "log", "t": 1001.0, "step": 4, "loss": 1.0},
    {"type": "eval", "t": 1002.0, "step": 4, "eval_loss": 0.9},
    {"type": "finished", "t": 1003.0, "step": 4},
]


# --- 3: escapes in every CLI listing -----------------------------------------------------------


def test_every_cli_listing_neutralises_names(runs_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    from tests.fakes.chat_server import FakeChatServer

    events = [dict(GOOD_EVENTS[0], model=EVIL, method="lora"), *GOOD_EVENTS[1:]]
    _run_dir(runs_dir, EVIL, events)
    data = tmp_path / f"{EVIL}.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": EVIL}, {"role": "assistant", "content": EVIL}]}) + "\n")
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{k}"}, {"role": "assistant", "content": "a"}]})
                            + "\n" for k in range(2)))
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(tmp_path / "sessions"))
    outputs = []
    with FakeChatServer(lambda body: f"{EVIL} {body['model']}") as server:
        systems = ["--system", f"{EVIL[:4]}=openai:a@{server.base_url}", "--system", f"b=openai:b@{server.base_url}"]
        commands = [
            ["runs"], ["attach", EVIL, "--no-follow"], ["lint", str(data)], ["data", "stats", str(data)],
            ["eval", "session", *systems, "--test", str(test), "--rater", "ana", "--name", EVIL],
            ["eval", "sessions"], ["eval", "generate", *systems, "--test", str(test)],
            ["eval", "metrics", *systems, "--test", str(test), "--cached-only"],
            ["lint", str(tmp_path / f"missing-{EVIL}.jsonl")],
        ]
        for argv in commands:
            code = main(argv)
            out, err = capsys.readouterr()
            outputs.append((argv[:2], code, out + err))
    for argv, code, text in outputs:
        assert code in (0, 1, 2), (argv, code, text)
        assert "\x1b" not in text and "\x07" not in text, (argv, text)
    shown = "".join(text for _, _, text in outputs)
    assert "␛]0;pwned␇" in shown  # still visible, made inert


# --- 4: the event log ends a torn line before appending -------------------------------------------


def test_a_torn_last_line_does_not_swallow_the_next_event(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_bytes(json.dumps(GOOD_EVENTS[0]).encode() + b"\n" + b'{"type": "log", "t": 1001.0, "st')
    with EventLogWriter(log) as writer:
        writer.write(Message(text="resumed"))
    events = read_events(log)
    assert [e.type for e in events] == ["started", "message"] and events[-1].text == "resumed"


# --- 5: lint notices a file that changed while read ------------------------------------------------


def _big_jsonl(path: Path, rows: int = 40_000) -> None:
    row = json.dumps({"messages": [{"role": "user", "content": "q" * 60}, {"role": "assistant", "content": "a" * 20}]}) + "\n"
    path.write_text(row * rows)


def test_lint_says_when_the_file_shrank_while_read(tmp_path: Path, capsys, monkeypatch) -> None:
    from ftui.data.lint import drive

    path = tmp_path / "big.jsonl"
    _big_jsonl(path)
    real = drive.iter_batches

    def cut_after_first(info, *args, **kwargs):
        for n, batch in enumerate(real(info, *args, **kwargs)):
            if n == 0:
                os.truncate(path, path.stat().st_size // 10)
            yield batch

    monkeypatch.setattr(drive, "iter_batches", cut_after_first)
    assert main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert "changed while it was read" in err and "lint it again" in err


# --- 6: owner-only run, session and cache files -----------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_session_and_cache_files_are_owner_only(tmp_path: Path, monkeypatch) -> None:
    from ftui.evaluate.ab import BlindSession
    from ftui.evaluate.generate import _append_records
    from ftui.evaluate.items import EvalItem

    old = os.umask(0o022)
    try:
        def backend(config, run_dir, emit, control, resume=False, callbacks=()):
            (run_dir / "checkpoints" / "checkpoint-1").mkdir(parents=True)
            (run_dir / "checkpoints" / "checkpoint-1" / "weights.bin").write_bytes(b"x")  # umask modes: 644 / 755
            emit(Started(run_id=run_dir.name, method="lora", model="demo", total_steps=1))
            emit(worker_mod.Stopped(step=1, saved=True))

        monkeypatch.setattr(worker_mod, "_backend_for", lambda method: backend)
        config = RunConfig(train_path=str(tmp_path / "t.jsonl"), eval_path=None, output_dir=str(tmp_path / "runs" / "r1"))
        worker = worker_mod.start_run(config, check=False)
        assert worker.join(30)
        run_dir = worker.run_dir
        assert _mode(run_dir) == 0o700
        for p in run_dir.rglob("*"):
            assert _mode(p) == (0o700 if p.is_dir() else 0o600), p
        assert {"config.yaml", "events.jsonl", "run.json"} <= {p.name for p in run_dir.iterdir()}

        items = [EvalItem(str(k), ({"role": "user", "content": f"q{k}"},), "a") for k in range(2)]
        outputs = {"a": {"0": "x", "1": "y"}, "b": {"0": "y", "1": "x"}}
        session = BlindSession.create(tmp_path / "sessions" / "s1", items, outputs, "ana", seed=1)
        session.vote("left")
        session.close()
        sessions = tmp_path / "sessions"
        for p in [sessions, *sessions.rglob("*")]:
            assert _mode(p) == (0o700 if p.is_dir() else 0o600), p

        cache = tmp_path / "cache" / "generations" / "sys" / "out.jsonl"
        _append_records(cache, [{"id": "0", "output": "x"}])
        assert _mode(cache.parent) == 0o700 and _mode(cache) == 0o600
    finally:
        os.umask(old)


# --- 8: a stop during set-up (tokenising a huge row) is honoured -------------------------------------


def test_a_stop_during_set_up_interrupts_it(tmp_path: Path, monkeypatch) -> None:
    def tokenising_for_ever(config, run_dir, emit, control, resume=False, callbacks=()):
        n = 0
        while True:  # like tokenising one 4 MB row with 100k turns: never looks at the control
            n += 1

    monkeypatch.setattr(worker_mod, "_backend_for", lambda method: tokenising_for_ever)
    config = RunConfig(train_path=str(tmp_path / "t.jsonl"), eval_path=None, output_dir=str(tmp_path / "run"))
    worker = worker_mod.start_run(config, check=False)
    started = time.monotonic()
    worker.stop(save=True)
    assert worker.join(20), "the stop was not honoured during set-up"
    print(f"stopped during set-up in {time.monotonic() - started:.1f} s")  # join(20) is the bound, not a speed claim
    events = read_events(worker.events_path)
    assert events[-1].type == "stopped" and not events[-1].saved
    assert any("being set up" in getattr(e, "text", "") for e in events)


# --- 9: no second prompt waiting on stdin after Ctrl+C twice -----------------------------------------


def test_the_ctrl_c_prompt_gives_way_to_a_second_interrupt_or_the_end_of_the_run(monkeypatch) -> None:
    import io
    import sys

    from ftui.commands.train_console import _Display

    read_end, write_end = os.pipe()  # a terminal nobody types into
    try:
        monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "r", closefd=False))
        display = _Display(io.StringIO())
        started = time.monotonic()
        assert display.ask(interrupted=lambda: True) == "s"  # Ctrl+C again at the prompt: stop and save now
        assert display.ask(ended=lambda: True) == "c"  # the run ended meanwhile: nothing to answer
        assert time.monotonic() - started < 5
    finally:
        os.close(read_end)
        os.close(write_end)


# --- 10: damaged event logs never break a listing --------------------------------------------------------


def test_damaged_event_logs_do_not_hide_the_good_runs(runs_dir: Path, capsys) -> None:
    _run_dir(runs_dir, "a-good", GOOD_EVENTS)
    bad = [dict(GOOD_EVENTS[0], t="yesterday"), {"type": "eval", "t": 1002.0, "step": 3, "eval_loss": "NaN"},
           {"type": "eval", "t": 1002.5, "step": "x", "eval_loss": 0.5}, {"type": "log", "t": 1003.0, "step": 4, "loss": [1]}]
    _run_dir(runs_dir, "b-damaged", bad)
    _run_dir(runs_dir, "c-binary", raw=b"\xff\xfe\x00garbage\n{\"type\": \"started\"}\n")
    d = _run_dir(runs_dir, "d-dir-log")
    (d / "events.jsonl").mkdir()
    summaries = {s.run_id: s for s in runs.list_runs()}
    assert set(summaries) == {"a-good", "b-damaged", "c-binary", "d-dir-log"}
    assert summaries["a-good"].status == "finished" and summaries["a-good"].best_eval_loss == 0.9
    assert summaries["b-damaged"].best_eval_loss == pytest.approx(float("nan"), nan_ok=True)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "a-good" in out and "b-damaged" in out and "d-dir-log" in out
    for name in ("b-damaged", "c-binary", "d-dir-log"):
        assert main(["attach", name, "--no-follow"]) == 0, name
        assert "not running" in capsys.readouterr().out


def test_one_run_that_cannot_be_summarised_is_listed_as_unreadable(runs_dir: Path, monkeypatch) -> None:
    _run_dir(runs_dir, "a-good", GOOD_EVENTS)
    _run_dir(runs_dir, "b-bad", GOOD_EVENTS)
    real = runs.summarize_run

    def flaky(run_dir):
        if Path(run_dir).name == "b-bad":
            raise PermissionError(13, "Permission denied")
        return real(run_dir)

    monkeypatch.setattr(runs, "summarize_run", flaky)
    summaries = {s.run_id: s for s in runs.list_runs()}
    assert summaries["a-good"].status == "finished" and summaries["b-bad"].status == "unreadable"


# --- 11: dataset_dict.json holding a list ----------------------------------------------------------------


@pytest.mark.parametrize("content", ['["train", "test"]', '"train"', '{"splits": "train"}', '{"splits": 3}'])
def test_odd_dataset_dict_json_is_one_message(tmp_path: Path, capsys, content: str) -> None:
    d = tmp_path / "dd"
    d.mkdir()
    (d / "dataset_dict.json").write_text(content)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}) + "\n")
    for argv in (["lint", str(d)], ["data", "stats", str(d)], ["lint", str(good), "--eval", str(d)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "dataset_dict.json" in err or "DatasetDict" in err, err
        assert "t, r, a" not in err


# --- 12: a read-only run directory -----------------------------------------------------------------------


def test_resuming_a_read_only_run_dir_is_one_message(tmp_path: Path, monkeypatch) -> None:
    run_dir = _run_dir(tmp_path, "run", GOOD_EVENTS)
    # root ignores permission bits, so the kernel's answer is what we simulate: the lock cannot be created
    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).startswith(str(run_dir)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(runs.RunDirError, match="cannot write in the run directory"):
        run_lock.RunLock(run_dir).acquire()
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).startswith(str(run_dir)))
    with pytest.raises(runs.RunDirError, match="read-only"):
        worker_mod.start_run(runs.load_run_config(run_dir), run_dir=run_dir, resume=True, check=False)


# --- 14: disk full while checkpointing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4096 vs 0"),
     OSError(errno.ENOSPC, "No space left on device"),
     RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")],
)
def test_disk_full_while_checkpointing_says_so(exc: BaseException) -> None:
    message, hint = worker_mod.describe_failure(exc, 12)
    assert message.startswith("no space left on device at step 12")
    assert "free disk space" in hint and "--resume" in hint


# --- 15: a truncated checkpoint is passed over --------------------------------------------------------------


def _checkpoint(base: Path, step: int, cut: int = 0) -> Path:
    d = base / "checkpoints" / f"checkpoint-{step}"
    d.mkdir(parents=True)
    (d / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    blob = struct.pack("<Q", len(header)) + header + b"\0" * 16
    (d / "adapter_model.safetensors").write_bytes(blob[: len(blob) - cut] if cut else blob)
    return d


def test_a_truncated_checkpoint_is_passed_over_and_named(tmp_path: Path) -> None:
    good = _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 4, cut=10)
    _checkpoint(tmp_path, 6, cut=40)  # even the header is cut
    assert runs.latest_checkpoint(tmp_path) == good
    damaged = runs.damaged_checkpoints(tmp_path)
    assert [p.name for p, _ in damaged] == ["checkpoint-6", "checkpoint-4"]
    assert all("truncated" in why for _, why in damaged)


# --- 22: cosmetic ---------------------------------------------------------------------------------------------


def test_no_none_steps_and_the_listing_counts_the_latest_attempt(runs_dir: Path) -> None:
    from ftui.train.event_text import describe_event

    described = describe_event(Started(run_id="r", method="openai", model="gpt", total_steps=None, device="openai"))
    assert described is not None
    line = described.text
    assert "None" not in line and "steps" not in line
    events = [dict(GOOD_EVENTS[0], total_steps=25), {"type": "log", "t": 1001.0, "step": 25, "loss": 1.0},
              {"type": "stopped", "t": 1002.0, "step": 25, "saved": True},
              dict(GOOD_EVENTS[0], t=1003.0, total_steps=15, resumed_from_step=10),
              {"type": "log", "t": 1004.0, "step": 15, "loss": 1.0}, {"type": "finished", "t": 1005.0, "step": 15}]
    d = _run_dir(runs_dir, "r2", events)
    summary = runs.summarize_run(d)
    assert (summary.last_step, summary.total_steps) == (15, 15)


async def test_the_tui_runs_list_shows_good_runs_beside_damaged_ones(runs_dir: Path) -> None:
    from ftui.tui.app import FtuiApp
    from tests.tui.test_train_screen import SIZE, open_train, wait_for

    _run_dir(runs_dir, "a-good", GOOD_EVENTS)
    _run_dir(runs_dir, "b-damaged", [dict(GOOD_EVENTS[0], t="noon"), {"type": "eval", "t": 1.0, "step": 1, "eval_loss": "NaN"}])
    (_run_dir(runs_dir, "c-dir-log") / "events.jsonl").mkdir()
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs_panel.loaded > 0, 10)
        assert {s.run_id for s in screen.runs_panel.summaries} == {"a-good", "b-damaged", "c-dir-log"}
