"""A training process survives a hang-up, and stops (saving) on SIGTERM, Ctrl+C and 'ftui attach --stop'.

Each test starts a real ``ftui train`` subprocess on the demo model (CPU, small data).
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftui import paths
from ftui.train.events import Finished, Stopped, read_events

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, **overrides) -> tuple[Path, Path]:
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[:64]
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(rows) + "\n")
    run_dir = tmp_path / "run"
    config = {
        "model": "demo", "train_path": str(data), "eval_path": None, "eval_fraction": 0.0, "method": "lora",
        "max_steps": 200, "micro_batch_size": 2, "max_seq_len": 128, "save_steps": 1000, "learning_rate": 1e-3,
        "gradient_checkpointing": False, "output_dir": str(run_dir),
    }
    config.update(overrides)
    path = tmp_path / "cfg.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path, run_dir


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def event_types(run_dir: Path) -> list[str]:
    return [e.type for e in read_events(run_dir / "events.jsonl")]


def test_a_hang_up_does_not_stop_the_run(demo_model, tmp_path):
    config, run_dir = write_config(tmp_path, max_steps=25)
    pid, master = pty.fork()  # the child gets the pty as its controlling terminal, in its own session
    if pid == 0:  # pragma: no cover - child
        os.execv(sys.executable, [sys.executable, "-m", "ftui", "train", str(config)])
    # read the terminal while waiting, as an emulator does: unread, the progress bar's redraws fill the
    # pty buffer (sooner on a loaded machine, where loading takes longer) and the child blocks on a write
    terminal = _Terminal(master)
    try:
        wait_for(lambda: terminal.read() is not None and "log" in event_types(run_dir), 120, "the first training step")
        assert not {"finished", "failed", "stopped"} & set(event_types(run_dir))
        terminal.hang_up()  # the terminal goes away: the kernel sends SIGHUP to the session
        os.kill(pid, signal.SIGHUP)  # and once more, as a dying sshd would
        wait_for(lambda: {"finished", "failed", "stopped"} & set(event_types(run_dir)), 180, "the end of the run")
        _, status = os.waitpid(pid, 0)
    finally:
        terminal.hang_up()
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished) and events[-1].step == 25, events[-1]
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert (run_dir / "adapter" / "adapter_model.safetensors").exists()
    assert not (run_dir / "run.lock").exists()


def _start(config: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ftui", "train", str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c-without-tty"])
def test_signal_stops_and_saves(demo_model, tmp_path, sig):
    config, run_dir = write_config(tmp_path)
    proc = _start(config)
    try:
        wait_for(lambda: "log" in event_types(run_dir), 120, "the first training step")
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 3, out
    last = read_events(run_dir / "events.jsonl")[-1]
    assert isinstance(last, Stopped) and last.saved and last.step < 200, last
    checkpoint = Path(last.checkpoint)
    assert (checkpoint / "adapter_model.safetensors").exists() and (checkpoint / "optimizer.pt").exists()
    assert f"checkpoint-{last.step}" == checkpoint.name
    assert "Traceback" not in out


def test_attach_follows_a_live_run_and_stops_it(demo_model, tmp_path):
    config, run_dir = write_config(tmp_path)
    proc = _start(config)
    try:
        wait_for(lambda: "log" in event_types(run_dir), 120, "the first training step")
        # on a terminal: it follows the log, and q detaches without touching the run
        pid, master = pty.fork()
        if pid == 0:  # pragma: no cover - child
            os.execv(sys.executable, [sys.executable, "-m", "ftui", "attach", str(run_dir)])
        seen = bytearray()
        try:
            def read_some() -> bytes:
                import select

                while select.select([master], [], [], 0.05)[0]:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:  # EIO: the child has exited and closed the terminal
                        break
                    if not chunk:
                        break
                    seen.extend(chunk)
                return bytes(seen)

            wait_for(lambda: b"q detach" in read_some(), 30, "attach's key help")
            wait_for(lambda: b"loss" in read_some(), 30, "a followed log line")
            os.write(master, b"q")
            wait_for(lambda: b"detached" in read_some(), 30, "the detach")
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        finally:
            os.close(master)
        assert proc.poll() is None and not {"stopped", "finished"} & set(event_types(run_dir))
        attach = subprocess.run(
            [sys.executable, "-m", "ftui", "attach", str(run_dir), "--stop"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert attach.returncode == 0, attach.stderr
    assert "stop requested" in attach.stdout and "stopped at step" in attach.stdout
    assert proc.returncode == 3
    last = read_events(run_dir / "events.jsonl")[-1]
    assert isinstance(last, Stopped) and last.saved


def test_ctrl_c_on_a_terminal_asks_and_s_stops_and_saves(demo_model, tmp_path):
    import select

    config, run_dir = write_config(tmp_path)
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        os.execv(sys.executable, [sys.executable, "-m", "ftui", "train", str(config)])
    seen = bytearray()

    def pump() -> bytes:
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen.extend(chunk)
        return bytes(seen)

    try:
        wait_for(lambda: pump() is not None and "log" in event_types(run_dir), 120, "the first training step")
        os.write(master, b"\x03")  # Ctrl+C typed at the terminal
        wait_for(lambda: b"[s] stop and save" in pump(), 30, "the Ctrl+C question")
        assert not {"stopped", "finished"} & set(event_types(run_dir))  # it asks; it does not stop on its own
        os.write(master, b"s\n")
        wait_for(lambda: pump() is not None and "stopped" in event_types(run_dir), 60, "the stop")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pump()
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the process did not exit")
    finally:
        os.close(master)
    last = read_events(run_dir / "events.jsonl")[-1]
    assert isinstance(last, Stopped) and last.saved
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3


class _Terminal:
    """The master side of a pty: everything the child wrote so far, read without blocking."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.seen = bytearray()

    def read(self) -> bytes:
        import select

        while self.master >= 0 and select.select([self.master], [], [], 0.02)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            self.seen.extend(chunk)
        return bytes(self.seen)

    def shows(self, text: bytes) -> bool:
        return text in self.read()

    def hang_up(self) -> None:
        if self.master >= 0:
            os.close(self.master)  # the terminal goes away: the kernel sends SIGHUP to the session
            self.master = -1


def test_keep_running_on_quit_gives_the_prompt_back_and_the_run_outlives_the_terminal(tmp_path):
    """Quit the TUI with "keep running": the launched process exits at once (the shell's prompt comes back)
    printing ``ftui attach RUN``; the run trains on in the background through a hang-up to `finished`."""
    import fcntl
    import re
    import struct
    import termios

    script = Path(__file__).resolve().parents[1] / "fixtures" / "train" / "keep_running_app.py"
    run_dir, release = tmp_path / "run", tmp_path / "release"
    env = dict(os.environ, FTUI_RUNS_DIR=str(tmp_path / "runs"))
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(sys.executable, [sys.executable, str(script), str(run_dir), str(release)], env)
    terminal = _Terminal(master)
    try:
        wait_for(lambda: terminal.read() is not None and "log" in event_types(run_dir), 60, "the first step")
        wait_for(lambda: terminal.shows(b"Train"), 60, "the app on the terminal")
        os.write(master, b"\x11")  # ctrl+q
        wait_for(lambda: terminal.shows(b"keep running"), 30, "the quit question")

        def answered() -> bool:  # the question ignores keys for its first 300 ms: answer until it takes
            os.write(master, b"k")
            return any(terminal.shows(b"in the background (pid") for _ in range(10))

        wait_for(answered, 30, "the app to close")
        deadline = time.monotonic() + 20
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:  # the launched process: the shell waits on it
            assert time.monotonic() < deadline, "the prompt did not come back: the launched process still runs"
            time.sleep(0.05)
        assert os.WIFEXITED(done[1]) and os.WEXITSTATUS(done[1]) == 0
        screen = terminal.read().decode("utf-8", "replace")
        shown = re.search(r"pid (\d+)", screen)
        assert shown and "ftui attach" in screen, screen[-400:]
        trainer = int(shown.group(1))
        assert trainer != pid
        assert "finished" not in event_types(run_dir)
        terminal.hang_up()
        for sig in (signal.SIGHUP, signal.SIGINT):  # a dying sshd, a stray Ctrl+C: the run goes on
            os.kill(trainer, sig)
        release.touch()  # from now on the run prints at every step, to a terminal that is gone
        wait_for(lambda: {"finished", "failed", "stopped"} & set(event_types(run_dir)), 60, "the end of the run")
        wait_for(lambda: not (run_dir / "run.lock").exists(), 30, "the background process to end")
    finally:
        terminal.hang_up()
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished), events[-1]
    steps = [e.step for e in events if e.type == "log"]
    assert steps == list(range(1, events[-1].step + 1)) and len(steps) > 5  # the log never stopped being written


def _start_app_with_a_run(tmp_path: Path) -> tuple[int, _Terminal, Path, Path]:
    """The TUI on a pty, a stand-in run training in its process (tests/fixtures/train/keep_running_app.py)."""
    import fcntl
    import struct
    import termios

    script = Path(__file__).resolve().parents[1] / "fixtures" / "train" / "keep_running_app.py"
    run_dir, release = tmp_path / "run", tmp_path / "release"
    env = dict(os.environ, FTUI_RUNS_DIR=str(tmp_path / "runs"), FTUI_HOME=str(tmp_path / "home"))
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(sys.executable, [sys.executable, str(script), str(run_dir), str(release)], env)
    terminal = _Terminal(master)
    wait_for(lambda: terminal.read() is not None and "log" in event_types(run_dir), 60, "the first step")
    wait_for(lambda: terminal.shows(b"Train"), 60, "the app on the terminal")
    return pid, terminal, run_dir, release


def _after_the_app(shown: bytes) -> str:
    """What the terminal showed once the app left the alternate screen, escapes stripped."""
    import re

    return re.sub(rb"\x1b\[[0-9;?<>=$]*[a-zA-Z]", b"", shown.split(b"\x1b[?1049l")[-1])[-3000:].decode(errors="replace")


def _exit_status(pid: int, terminal: _Terminal | None, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        assert time.monotonic() < deadline, "the process did not exit"
        if terminal is not None:
            terminal.read()
        time.sleep(0.1)
    return done[1]


def test_sigterm_to_the_tui_stops_its_run_with_a_checkpoint(tmp_path):
    """SIGTERM to `ftui` while a run trains in it: the run stops at a step boundary and saves; the terminal is restored."""
    pid, terminal, run_dir, _release = _start_app_with_a_run(tmp_path)
    try:
        os.kill(pid, signal.SIGTERM)
        status = _exit_status(pid, terminal, 30)
        shown = terminal.read()
    finally:
        terminal.hang_up()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    last = read_events(run_dir / "events.jsonl")[-1]
    assert isinstance(last, Stopped) and last.saved
    assert b"SIGTERM: stopping" in shown
    assert b"\x1b[?1049l" in shown  # the alternate screen was left: the shell gets its terminal back
    assert not (run_dir / "run.lock").exists()


def test_a_hang_up_of_the_tui_leaves_its_run_training(tmp_path):
    """The SSH link drops while the TUI shows a run training in it: the run goes on to `finished`, then the process exits."""
    pid, terminal, run_dir, release = _start_app_with_a_run(tmp_path)
    try:
        terminal.hang_up()  # no quit, no answer: the terminal just goes
        os.kill(pid, signal.SIGHUP)  # and once more, as a dying sshd would
        time.sleep(0.5)
        assert os.waitpid(pid, os.WNOHANG) == (0, 0), "a hang-up killed the run's process"
        release.touch()  # the run now prints at every step, to a terminal that is gone
        status = _exit_status(pid, None, 60)
    finally:
        terminal.hang_up()
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished), events[-1]
    steps = [e.step for e in events if e.type == "log"]
    assert steps == list(range(1, events[-1].step + 1))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "hang-up"])
def test_the_tui_without_a_run_ends_cleanly_on(sig, tmp_path):
    env = dict(os.environ, FTUI_HOME=str(tmp_path / "home"), FTUI_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm-256color")
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        os.execve(sys.executable, [sys.executable, "-m", "ftui"], env)
    terminal = _Terminal(master)
    try:
        wait_for(lambda: terminal.shows(b"Should you fine-tune?"), 60, "the Plan screen")
        if sig == signal.SIGHUP:
            terminal.hang_up()
        os.kill(pid, sig)
        status = _exit_status(pid, terminal if sig == signal.SIGTERM else None, 30)
        shown = terminal.read()
    finally:
        terminal.hang_up()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, _after_the_app(shown)  # a traceback, if any
    if sig == signal.SIGTERM:
        assert b"\x1b[?1049l" in shown


def test_the_tui_notices_a_lost_terminal_that_sent_no_hang_up(tmp_path):
    """A tmux server killed under a shell that does not pass SIGHUP on: the app must not spin on a dead terminal."""
    env = dict(os.environ, FTUI_HOME=str(tmp_path / "home"), FTUI_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm-256color")
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})  # inherited by exec: no SIGHUP ever arrives
        os.execve(sys.executable, [sys.executable, "-m", "ftui"], env)
    terminal = _Terminal(master)
    try:
        wait_for(lambda: terminal.shows(b"Should you fine-tune?"), 60, "the Plan screen")
        terminal.hang_up()
        status = _exit_status(pid, None, 15)
    finally:
        terminal.hang_up()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_prints_after_the_terminal_went_and_before_its_hang_up_was_handled_lose_nothing(tmp_path):
    """A run's library printed to a terminal that had gone before the app's hang-up handler ran (one core kept busy):
    EIO failed the run at step 11. With ftui's guarded stdio the writes go to /dev/null and the process carries on.
    Here SIGHUP is blocked, so no handler ever runs: only the guard stands between the prints and EIO."""
    go, result = tmp_path / "go", tmp_path / "result"
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
            from ftui.train.detach import guard_stdio

            # the streams of a process on this terminal (pytest's capture is what this fork inherited)
            sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)  # noqa: SIM115
            guard_stdio()
            print("ready", flush=True)
            deadline = time.monotonic() + 60
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            for step in range(20):
                print(f"step {step}", flush=True)
                print(f"warning at step {step}", file=sys.stderr, flush=True)
            result.write_text("carried on")
            code = 0
        finally:
            os._exit(code)
    terminal = _Terminal(master)
    try:
        wait_for(lambda: terminal.shows(b"ready"), 60, "the child's first line")
    finally:
        terminal.hang_up()
    go.touch()
    status = _exit_status(pid, None, 60)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert result.read_text() == "carried on"
