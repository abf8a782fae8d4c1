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
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


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
