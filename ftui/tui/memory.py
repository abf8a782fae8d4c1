"""What ftui remembers between launches: the last mode, dataset, wizard answers and form values.

One small JSON file in the config dir (``paths.config_dir()/session.json``), written
atomically (a temporary file renamed over the old one) so a crash or a full disk never
leaves half a file; a file that cannot be read or parsed, or holds the wrong shapes, is
ignored (ftui starts as on a first launch) and replaced at the next save. Nothing secret
is kept: paths, a model id, answer keys and the Train form's field texts.

The TUI saves on every mode switch and form change through ``save_soon``: the state is
serialised at once and written by a thread, so the UI thread never waits on the disk (an
fsync took 4-18 ms here, far more on a busy disk); a burst of saves writes only the last
state. The writer is not a daemon and ``flush`` waits for it, so a save is never lost on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ftui import paths

FILE_NAME = "session.json"
MODES = ("plan", "data", "train", "evaluate")

_lock = threading.Lock()
_pending: tuple[Path, str] | None = None  # the newest state not yet written: (file, its JSON)
_writer: threading.Thread | None = None  # the thread writing it, while there is something to write


def memory_path() -> Path:
    return paths.config_dir() / FILE_NAME


def load() -> dict[str, Any]:
    """The remembered state, keeping only the parts of the right shape; {} when there is none or it is damaged."""
    try:
        raw = json.loads(memory_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    if raw.get("mode") in MODES:
        out["mode"] = raw["mode"]
    for key in ("data_path", "eval_path", "model"):
        if isinstance(raw.get(key), str) and raw[key]:
            out[key] = raw[key]
    answers = raw.get("wizard_answers")
    if isinstance(answers, list) and all(isinstance(a, str) for a in answers):
        out["wizard_answers"] = answers
    form = raw.get("train_form")
    if isinstance(form, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in form.items()):
        out["train_form"] = form
    return out


def save(state: dict[str, Any]) -> bool:
    """Write ``state`` atomically (mode 0600), now; False when the config dir cannot be written (never raises)."""
    try:
        text = _serialise(state)
    except (TypeError, ValueError):
        return False
    return _write(memory_path(), text)


def save_soon(state: dict[str, Any]) -> None:
    """``save`` in a thread: ``state`` is taken as it is now; a newer call before the write replaces it."""
    global _pending, _writer
    try:
        text = _serialise(state)
    except (TypeError, ValueError):
        return
    with _lock:
        _pending = (memory_path(), text)
        if _writer is None:
            _writer = threading.Thread(target=_write_pending, name="session-memory", daemon=False)
            _writer.start()


def flush(timeout: float = 5.0) -> None:
    """Wait (bounded) until every ``save_soon`` so far is on disk."""
    with _lock:
        writer = _writer
    if writer is not None and writer is not threading.current_thread():
        writer.join(timeout)


def _write_pending() -> None:
    global _pending, _writer
    while True:
        with _lock:
            job, _pending = _pending, None
            if job is None:
                _writer = None
                return
        _write(*job)


def _serialise(state: dict[str, Any]) -> str:
    return json.dumps(state, indent=1, sort_keys=True)


def _write(path: Path, text: str) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    return True
