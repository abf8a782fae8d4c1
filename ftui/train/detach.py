"""Outliving the terminal: what a process training a run does when its terminal may go away.

Shared by ``ftui train`` (a hang-up while the progress bar is drawn), the non-zero ranks
of a launcher, and the TUI's "keep it running" on quit (the app closes, the process stays
until the run ends). The run itself needs none of this: it lives in a thread of the
process, and only the process has to survive.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def silence_stdio() -> None:
    """Point fds 1 and 2 at /dev/null: the terminal is gone (or going), and writes to it would fail.

    Whatever the training thread or a library prints from now on (a warning, a progress bar)
    lands in /dev/null instead of raising EIO in the middle of a run.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()  # what is buffered belongs to the terminal, if it still listens
        except (OSError, ValueError):
            pass
    point_stdio_at_devnull()


_GONE = (5, 6, 32)  # EIO, ENXIO, EPIPE: what a write to a terminal (or pipe) that went away raises


class _TerminalGoneSafe:
    """A text stream that, when its terminal is gone, points fds 1 and 2 at /dev/null and carries on.

    A hang-up points them there in its signal handler, but a training thread that prints (a library's
    warning) before that handler has run in the main thread got EIO and failed the run (stress run: "OSError
    at step 11: [Errno 5] Input/output error", the app's process kept busy by another core's load)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _safely(self, call: Callable[[], Any], fallback: Any) -> Any:
        try:
            return call()
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            point_stdio_at_devnull()
            try:
                return call()  # what is buffered now goes to /dev/null
            except OSError:
                return fallback

    def write(self, text: str) -> int:
        return self._safely(lambda: self._stream.write(text), len(text))

    def flush(self) -> None:
        self._safely(self._stream.flush, None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdio() -> None:
    """Make ``sys.stdout``/``sys.stderr`` survive a terminal that goes away (see ``_TerminalGoneSafe``); once."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _TerminalGoneSafe):
            setattr(sys, name, _TerminalGoneSafe(stream))


def point_stdio_at_devnull() -> None:
    """fds 1 and 2 to /dev/null, nothing else: safe inside a signal handler (no Python stream is touched)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def exit_once_runs_end(grace_s: float = 3.0, poll_s: float = 0.5) -> threading.Thread:
    """A daemon thread that ends the process ``grace_s`` after the last live run has ended.

    For a process whose terminal is gone: it normally exits by itself once its runs are done
    (and this thread dies with it), but Textual's shutdown can block for ever on a hung-up
    terminal (its writer thread dies on EIO with writes still queued). The runs' event logs
    are complete by then; nothing else of ours is left to write.
    """
    from ftui.train import live

    def watch() -> None:
        while live.active():
            time.sleep(poll_s)
        time.sleep(grace_s)
        os._exit(0)

    thread = threading.Thread(target=watch, name="ftui-exit-guard", daemon=True)
    thread.start()
    return thread


def ignore_hangup_and_interrupt() -> bool:
    """Ignore SIGHUP (the terminal closed) and SIGINT (Ctrl+C) for the rest of the process.

    Only the main thread may change signal dispositions; elsewhere this does nothing and
    returns False.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return True


def detach_from_terminal() -> None:
    """Keep this process (and the run in it) alive whatever happens to its terminal."""
    ignore_hangup_and_interrupt()
    silence_stdio()
