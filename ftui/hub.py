"""Reaching the Hugging Face Hub, or knowing quickly that we cannot.

huggingface_hub retries a refused or unresolvable connection five times with backoff
(about 23 s) and logs every retry. On a GPU box without internet that is 23 s of silence
and a dozen lines before the one message that matters, so before any download we try
one TCP connection to the Hub (3 s at most) and, when it fails, use the local cache only
or say exactly what to do.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

_PROBE_TTL_S = 30.0
_probe: tuple[float, str | None] | None = None


def offline_requested() -> bool:
    """The user asked for the cache only (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def unreachable_reason(timeout: float = 3.0) -> str | None:
    """None when the Hub endpoint accepts a connection, else why not (one short phrase)."""
    global _probe
    now = time.monotonic()
    if _probe is not None and now - _probe[0] < _PROBE_TTL_S:
        return _probe[1]
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    reason: str | None = None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = f"cannot reach {host}: {exc.strerror or exc}"
    _probe = (now, reason)
    return reason


def cached_snapshot(repo_id: str) -> Path | None:
    """The local snapshot directory of a Hub model when it is in the cache, else None."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, malformed id, broken cache: all mean "not here"
        return None


def no_hub_message(repo_id: str, reason: str | None) -> str:
    """What to do when a Hub model is needed, is not cached, and cannot be fetched."""
    why = "HF_HUB_OFFLINE=1 forbids downloading it" if reason is None else f"the Hub cannot be reached ({reason})"
    return (
        f"{repo_id!r} is not in the local Hugging Face cache and {why}. "
        f"Fix: run 'hf download {repo_id}' on a machine with internet and copy the cache (HF_HOME), "
        "or pass a local model directory."
    )
