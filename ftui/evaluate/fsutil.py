"""Durability helpers: a file's new name or new entry is only crash-safe once its directory is synced."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: str | Path) -> None:
    """fsync a directory so a file created, renamed or replaced in it survives a power loss (POSIX;
    a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
