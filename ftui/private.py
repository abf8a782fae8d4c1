"""Owner-only files and directories for what ftui writes about a user's data.

Why: run directories hold a copy of the training data (OpenAI uploads), configs, logs with
dataset paths, and votes; blind-session and generation-cache directories hold model outputs
on the user's test set. Under the usual umask 022 all of that would be world-readable on a
shared GPU box. Directories are made 0700 and files 0600; errors (a filesystem without
permissions, a file owned by someone else) are ignored: privacy is best effort, never a crash.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p`` with the new directories 0700, and ``path`` itself made 0700 when it exists."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for new in reversed(missing):  # pathlib gives only the last one ``mode``; each new one is ours
        new.mkdir(exist_ok=True, mode=DIR_MODE)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)  # raises what mkdir raises when it is a file
    try:
        os.chmod(path, DIR_MODE)
    except OSError:
        pass
    return path


def private_file(path: Path) -> None:
    """Make one file 0600 (best effort)."""
    try:
        os.chmod(path, FILE_MODE)
    except OSError:
        pass


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to a file created 0600 (truncating it if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    private_file(path)


def tighten_tree(root: Path) -> None:
    """Every directory under ``root`` 0700 and every file 0600 (for what libraries wrote with the
    umask's modes: checkpoints, adapters, tokenizers). Symlinks are not followed."""
    root = Path(root)
    if not root.is_dir() or root.is_symlink():
        return
    try:
        os.chmod(root, DIR_MODE)
    except OSError:
        pass
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _exc: None):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                try:
                    os.chmod(full, DIR_MODE)
                except OSError:
                    pass
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                try:
                    os.chmod(full, FILE_MODE)
                except OSError:
                    pass
