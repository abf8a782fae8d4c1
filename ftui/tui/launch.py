"""Run the TUI so that "keep running" on quit can give the shell its prompt back.

A run trains in a thread of the TUI's process, and a shell waits for the process it
started: while that process lives, the terminal is held. So, on a terminal, ``ftui`` forks
once at launch, before any thread exists: the child runs the app (and any run), the parent
only waits and passes signals on. When the user quits with "keep running", the child leaves
the terminal's session (``setsid``) and tells the parent, which exits at once: the shell
prints its prompt, and the run trains on in the background, followed with ``ftui attach RUN``.
Without a terminal (tests, pipes) there is no fork and nothing changes.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

DETACH_FD_ENV = "FTUI_DETACH_FD"  # the child's end of the pipe to the waiting parent
DETACHED = b"detached\n"


def run_detachable(main: Callable[[], int]) -> int:
    """``main()`` in a forked child when stdin is a terminal; this process waits for it or its detach."""
    if not hasattr(os, "fork") or sys.stdin is None or not os.isatty(sys.stdin.fileno()) or DETACH_FD_ENV in os.environ:
        return main()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the app; the write end goes to the app through the environment
        os.close(read_end)
        os.environ[DETACH_FD_ENV] = str(write_end)
        return main()
    os.close(write_end)
    return _wait_for(pid, read_end)


def _wait_for(pid: int, read_end: int) -> int:
    """The parent: pass termination signals on to the child; return its exit code, or 0 once it detached."""

    def forward(signum: int, frame: object) -> None:  # noqa: ARG001 - signal handler
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    message = b""
    while True:
        try:
            chunk = os.read(read_end, 64)
        except OSError:
            break
        if not chunk:
            break  # the child closed its end: it exited (or exec'd)
        message += chunk
        if DETACHED in message:
            return 0  # the run goes on in the child, which left this terminal's session
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def can_detach() -> bool:
    """True in the child of ``run_detachable``: "keep running" can give the prompt back."""
    return DETACH_FD_ENV in os.environ and os.environ[DETACH_FD_ENV].isdigit()


def detach() -> bool:
    """Leave the terminal's session and release the waiting parent (the shell gets its prompt). Once."""
    fd_text = os.environ.pop(DETACH_FD_ENV, "")
    if not fd_text.isdigit():
        return False
    try:
        os.setsid()  # no controlling terminal: the terminal's hang-up and job control no longer reach us
    except OSError:
        pass
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    except OSError:
        pass
    try:
        os.write(int(fd_text), DETACHED)
        os.close(int(fd_text))
    except OSError:
        return False
    return True
