"""What ftui remembers between launches: the last mode, dataset, wizard answers and form values.

One small JSON file in the config dir (``paths.config_dir()/session.json``), written
atomically (a temporary file renamed over the old one) so a crash or a full disk never
leaves half a file; a file that cannot be read or parsed, or holds the wrong shapes, is
ignored (ftui starts as on a first launch) and replaced at the next save. Nothing secret
is kept: paths, a model id, answer keys and the Train form's field texts.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ftui import paths

FILE_NAME = "session.json"
MODES = ("plan", "data", "train", "evaluate")


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
    """Write ``state`` atomically (mode 0600); False when the config dir cannot be written (never raises)."""
    path = memory_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, TypeError, ValueError):
        return False
    return True
