"""Who is training a run directory now, and the stop requests other processes leave for it.

``run.lock`` is held (flock) by the process that trains the run, so "is it live?" needs no
daemon and survives a crash (the kernel drops the lock); ``control.json`` is how ``ftui
attach`` or the TUI of another process asks that process to stop (it polls the file at
each step boundary). Nothing here imports torch.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from ftui.train.errors import RunDirError

LOCK_NAME = "run.lock"
CONTROL_NAME = "control.json"
STOP = "stop"
STOP_AND_SAVE = "stop-and-save"


class RunLock:
    """``run.lock`` held (flock) by the process training the run.

    A lock survives nothing: when the process dies, the kernel drops the flock, so a
    stale file from a crash reads as "not live". The pid inside lets ``ftui attach``
    say which process it is.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except PermissionError:
            raise RunDirError(
                f"cannot write in the run directory {self.path.parent} (read-only or not yours). "
                f"Make it writable (chmod u+w {self.path.parent}) or copy the run somewhere writable."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                owner = read_lock(self.path.parent) or {}
                raise RunDirError(
                    f"run {self.path.parent.name} is being trained by process {owner.get('pid', '?')}; "
                    f"attach to it with 'ftui attach {self.path.parent.name}'."
                ) from None
            raise
        payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, payload, 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_lock(run_dir: Path) -> dict | None:
    try:
        data = json.loads((Path(run_dir) / LOCK_NAME).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_live(run_dir: Path) -> bool:
    """True while some process (this one included) holds the run's lock."""
    path = Path(run_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        return _pid_alive(read_lock(run_dir))  # a filesystem without flock: trust the pid
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _pid_alive(owner: dict | None) -> bool:
    if not owner or owner.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(owner["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


# ---------------------------------------------------------------------------- cross-process control


def request_stop(run_dir: Path, save: bool = True) -> None:
    """Ask the process training ``run_dir`` to stop at its next step boundary (it polls control.json)."""
    path = Path(run_dir) / CONTROL_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"action": STOP_AND_SAVE if save else STOP, "t": time.time(), "by": os.getpid()}))
    os.replace(tmp, path)


def read_control(run_dir: Path) -> str | None:
    """The pending action in control.json (``stop`` / ``stop-and-save``), if any."""
    try:
        data = json.loads((Path(run_dir) / CONTROL_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    action = data.get("action") if isinstance(data, dict) else None
    return action if action in (STOP, STOP_AND_SAVE) else None


def clear_control(run_dir: Path) -> None:
    (Path(run_dir) / CONTROL_NAME).unlink(missing_ok=True)
