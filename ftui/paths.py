"""Where ftui keeps runs, caches and the demo model.

Every location has an environment override so tests, CI and shared GPU boxes can
point ftui somewhere else without touching config files:

- ``FTUI_HOME``        base for runs and sessions (default ``$XDG_DATA_HOME/ftui`` or ``~/.local/share/ftui``)
- ``FTUI_RUNS_DIR``    training runs (default ``$FTUI_HOME/runs``)
- ``FTUI_CACHE_DIR``   caches: demo model, generation outputs (default ``$XDG_CACHE_HOME/ftui`` or ``~/.cache/ftui``)
- ``FTUI_DEMO_MODEL``  the built demo model directory (default ``$FTUI_CACHE_DIR/demo-model``)
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
SAMPLE_DATA_DIR = REPO_ROOT / "sample_data"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def home_dir() -> Path:
    """Base directory for durable user data (runs, rating sessions)."""
    explicit = _env_path("FTUI_HOME")
    if explicit:
        return explicit
    xdg = _env_path("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return xdg / "ftui"


def runs_dir() -> Path:
    """Directory holding one sub-directory per training run."""
    return _env_path("FTUI_RUNS_DIR") or home_dir() / "runs"


def sessions_dir() -> Path:
    """Directory holding blind A/B rating sessions."""
    return _env_path("FTUI_SESSIONS_DIR") or home_dir() / "sessions"


def cache_dir() -> Path:
    """Directory for rebuildable things: the demo model, cached generations."""
    explicit = _env_path("FTUI_CACHE_DIR")
    if explicit:
        return explicit
    xdg = _env_path("XDG_CACHE_HOME") or Path.home() / ".cache"
    return xdg / "ftui"


def config_dir() -> Path:
    """Small user state: what the TUI remembers between launches (``FTUI_CONFIG_DIR`` overrides)."""
    explicit = _env_path("FTUI_CONFIG_DIR")
    if explicit:
        return explicit
    xdg = _env_path("XDG_CONFIG_HOME") or Path.home() / ".config"
    return xdg / "ftui"


def demo_model_dir() -> Path:
    """Where the offline demo model is built and looked up."""
    return _env_path("FTUI_DEMO_MODEL") or cache_dir() / "demo-model"


def sample_data(name: str) -> Path:
    """Path of a file shipped in ``sample_data/``."""
    return SAMPLE_DATA_DIR / name


def resolve_data_path(value: str | None) -> Path | None:
    """A dataset path as given, or under the ftui checkout when relative and missing here (the sample data)."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists():
        return path
    candidate = REPO_ROOT / path
    return candidate if candidate.exists() else path


class DirectoryError(Exception):
    """A directory ftui needs cannot be created or written; the message says which and how to fix it."""


def ensure_writable_dir(path: Path, what: str, env_var: str) -> Path:
    """Create ``path`` if needed and check it is readable and writable, or raise DirectoryError with the fix."""
    if path.exists() and not path.is_dir():
        raise DirectoryError(f"the {what} directory {path} is a file, not a directory. Point {env_var} at a directory.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DirectoryError(
            f"cannot create the {what} directory {path}: {exc.strerror or exc}. "
            f"Fix its permissions or point {env_var} at a writable directory."
        ) from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise DirectoryError(
            f"the {what} directory {path} is not readable and writable. "
            f"Fix its permissions or point {env_var} at a writable directory."
        )
    return path
