"""Issue 13 (9) in a real terminal: "keep running" on quit gives the shell its prompt back.

tmux runs an interactive bash; in it, ftui's app runs with a run training in its process (the
stand-in run of tests/fixtures/train/keep_running_app.py, launched the way ``ftui`` launches its
app). After Ctrl+Q and "k": the shell runs the next command (the prompt is back), Ctrl+C at that
shell interrupts what runs there and not the run, the printed ``ftui attach RUN`` typed as printed
follows the run (and asks on Ctrl+C instead of ignoring it), and the run trains on to its end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ftui.train.events import Finished, read_events
from tests.reliability.test_train_signals import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None or not Path("/proc/self/stat").exists(), reason="needs tmux, /proc"),
]

SCRIPT = Path(__file__).resolve().parents[1] / "fixtures" / "train" / "keep_running_app.py"
BOUND_S = 120.0  # a stuck test fails after this; nothing waits for it to pass


class Tmux:
    """One tmux server of our own (its own socket) running one interactive shell."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], env=self.env, capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def start(self, rc: Path) -> None:
        rc.write_text("PS1='prompt$ '\n")  # bash takes no PS1 from the environment here
        self("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", f"bash --noprofile --rcfile {rc}")

    def type(self, line: str) -> None:
        self("send-keys", "-t", "t", "-l", line)
        self("send-keys", "-t", "t", "Enter")

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-S", "-2000", "-t", "t")

    def shows(self, text: str) -> bool:
        return text in self.screen()

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], env=self.env, capture_output=True, timeout=30)


def _alive(pid: int) -> bool:
    """Running (an exited process that nobody has reaped yet is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _child_named(parent: int, name: str) -> bool:
    """True while ``parent`` has a child process called ``name`` (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if comm == name and int(rest[1]) == parent:
            return True
    return False


def _processes_naming(path: Path) -> list[int]:
    """The processes whose command line holds ``path`` (a path of this test's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _events(run_dir: Path) -> list[str]:
    path = run_dir / "events.jsonl"
    return [e.type for e in read_events(path)] if path.exists() else []


def test_keep_running_gives_the_prompt_back_and_the_printed_command_follows_the_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run_dir, release = runs / "20261203-lora-keep", tmp_path / "release"
    env = dict(
        os.environ, FTUI_RUNS_DIR=str(runs), TERM="xterm-256color",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `ftui` as installed
    )
    tmux = Tmux(Path("/tmp") / f"ftui-test-{uuid.uuid4().hex[:8]}.sock", env)  # short: a socket path has a limit
    try:
        tmux.start(tmp_path / "bashrc")
        wait_for(lambda: tmux.shows("prompt$"), BOUND_S, "the shell")
        tmux.type(f"{sys.executable} {SCRIPT} {run_dir} {release}; echo \"ftui exited: $?\"")
        wait_for(lambda: "log" in _events(run_dir) and tmux.shows("F3 Train"), BOUND_S, "the app with a run training")
        tmux.keys("C-q")
        wait_for(lambda: tmux.shows("keep running"), BOUND_S, "the quit question")

        def answered() -> bool:  # the question ignores keys for its first 300 ms: answer until it takes
            if re.search(r"ftui exited: \d", tmux.screen()):  # the echo's output, not the line typed
                return True
            tmux.keys("k")
            return False

        wait_for(answered, BOUND_S, "the prompt back (the launched process exited)")
        assert tmux.shows("ftui exited: 0")
        tmux.keys("C-u")  # a "k" typed while the app was closing waits at the prompt: clear the line
        screen = tmux.screen()
        shown = re.search(r"pid (\d+)", screen)
        follow = re.search(r"Follow it: (ftui attach \S+)", screen)
        assert shown and follow, screen[-1500:]
        trainer = int(shown.group(1))
        assert _alive(trainer) and not {"finished", "failed", "stopped"} & set(_events(run_dir))

        # Ctrl+C at the shell: the command running there is interrupted (130), the run is not
        tmux.type("sleep 600")
        shell = int(tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        wait_for(lambda: _child_named(shell, "sleep"), BOUND_S, "sleep to run in the shell")
        tmux.keys("C-c")
        tmux.type('echo "after ctrl-c: $?"')
        wait_for(lambda: tmux.shows("after ctrl-c: 130"), BOUND_S, "Ctrl+C to interrupt sleep at the prompt")
        assert _alive(trainer) and not {"finished", "failed", "stopped"} & set(_events(run_dir))

        # the printed command, typed as printed, follows the run; Ctrl+C there asks; q detaches
        tmux.type(f'{follow.group(1)}; echo "attach exited: $?"')
        wait_for(lambda: tmux.shows("q detach"), BOUND_S, "attach's keys")
        tmux.keys("C-c")
        wait_for(lambda: tmux.shows("Ctrl+C: [s] stop and save"), BOUND_S, "attach's Ctrl+C question")
        tmux.keys("q")
        wait_for(lambda: tmux.shows("attach exited: 0"), BOUND_S, "attach to detach")
        assert "detached; the run goes on" in tmux.screen()
        assert _alive(trainer) and not {"finished", "failed", "stopped"} & set(_events(run_dir))

        release.touch()  # the run ends a few steps later, in the background
        wait_for(lambda: {"finished", "failed", "stopped"} & set(_events(run_dir)), BOUND_S, "the end of the run")
        wait_for(lambda: not _alive(trainer), BOUND_S, "the background process to end")
    finally:
        release.touch()
        tmux.close()
        for pid in _processes_naming(run_dir):  # whatever this test started and a failure left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished), events[-1]
    steps = [e.step for e in events if e.type == "log"]
    assert steps == list(range(1, events[-1].step + 1))  # the log never stopped being written
