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
import threading
import time
from dataclasses import dataclass
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


def cached_config(repo_id: str) -> Path | None:
    """The cached config.json of a Hub model, else None (nothing is fetched)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # noqa: BLE001 - a malformed id or cache is just "not cached"
        return None
    return Path(found) if isinstance(found, str) else None


def download_config(repo_id: str) -> Path:
    """Fetch config.json alone (kilobytes) into the cache; raises what huggingface_hub raises."""
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id, "config.json"))


def no_hub_message(repo_id: str, reason: str | None) -> str:
    """What to do when a Hub model is needed, is not cached, and cannot be fetched."""
    why = "HF_HUB_OFFLINE=1 forbids downloading it" if reason is None else f"the Hub cannot be reached ({reason})"
    return (
        f"{repo_id!r} is not in the local Hugging Face cache and {why}. "
        f"Fix: run 'hf download {repo_id}' on a machine with internet and copy the cache (HF_HOME), "
        "or pass a local model directory."
    )


# ---------------------------------------------------------------------------------------------
# Downloading a model with visible progress
# ---------------------------------------------------------------------------------------------

# What from_pretrained reads from a model repo: configs, tokenizer files and one weight format.
# Subfolders (e.g. Llama's original/ consolidated checkpoint) and remote code are never fetched.
_SMALL_FILES = ("*.json", "*.model", "*.tiktoken", "*.txt", "*.jinja", "tokenizer*")


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report: bytes written so far of the total to download, and the recent rate."""

    repo_id: str
    done: int
    total: int
    rate: float  # bytes per second over the last report interval (0 at the start)
    elapsed_s: float
    files: int
    finished: bool = False

    def describe(self) -> str:
        """'downloading org/name: 3.2 of 16.1 GB (20%) · 85.3 MB/s · about 2 min left'."""
        if self.finished:
            return f"downloaded {self.repo_id}: {format_bytes(self.done)} in {_duration(self.elapsed_s)}"
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        parts = [f"downloading {self.repo_id}: {format_bytes(self.done)} of {format_bytes(self.total)}{share}"]
        if self.rate > 0:
            parts.append(f"{format_bytes(self.rate)}/s")
            if self.total > self.done:
                parts.append(f"about {_duration((self.total - self.done) / self.rate)} left")
        return " · ".join(parts)


def format_bytes(count: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count:.0f} B"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def pick_model_files(names: list[str]) -> list[str]:
    """The top-level files ``from_pretrained`` needs: configs, tokenizer, and one weight format.

    safetensors is preferred (sharded ``model-*-of-*`` or single), ``pytorch_model*.bin`` only
    when there is no safetensors; other weight copies (``consolidated.safetensors``) are skipped.
    """
    import fnmatch

    top = [n for n in names if "/" not in n]
    small = [n for n in top if any(fnmatch.fnmatch(n, p) for p in _SMALL_FILES)]
    weights: list[str] = []
    if "model.safetensors" in top:
        weights = ["model.safetensors"]
    elif "model.safetensors.index.json" in top:
        weights = [n for n in top if fnmatch.fnmatch(n, "model-*.safetensors")]
    elif "pytorch_model.bin" in top:
        weights = ["pytorch_model.bin"]
    elif "pytorch_model.bin.index.json" in top:
        weights = [n for n in top if fnmatch.fnmatch(n, "pytorch_model-*.bin")]
    else:
        weights = [n for n in top if n.endswith(".safetensors")]
    return sorted(dict.fromkeys(small + weights))


class ProgressReporter:
    """Sums the bytes huggingface_hub reports from its download threads; calls back at most every ``interval_s``."""

    def __init__(self, repo_id: str, total: int, files: int, on_progress, interval_s: float = 1.0) -> None:  # noqa: ANN001
        self.repo_id = repo_id
        self.total = total
        self.files = files
        self.on_progress = on_progress
        self.interval_s = interval_s
        self.started = time.monotonic()
        self._bars: list[_ReporterBar] = []
        self._lock = threading.Lock()
        self._last_time = self.started
        self._last_done = 0

    def done(self) -> int:
        # snapshot_download feeds one bar with bytes written to disk and one with bytes received:
        # the larger is the honest "done" (the received count is smaller when the Hub deduplicates)
        return max((bar.n for bar in self._bars if bar.unit == "B"), default=0)

    def tqdm_class(self) -> type:
        """A tqdm look-alike class bound to this reporter, for ``snapshot_download(tqdm_class=...)``."""
        reporter = self

        class Bar(_ReporterBar):
            def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
                super().__init__(reporter, *args, **kwargs)

        return Bar

    def register(self, bar: _ReporterBar) -> None:
        with self._lock:
            self._bars.append(bar)

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_time < self.interval_s:
                return
            done = self.done()
            rate = (done - self._last_done) / (now - self._last_time) if now > self._last_time else 0.0
            self._last_time, self._last_done = now, done
        self.on_progress(DownloadProgress(self.repo_id, done, max(self.total, done), max(rate, 0.0), now - self.started,
                                          self.files))

    def finish(self) -> DownloadProgress:
        done = self.done()
        report = DownloadProgress(self.repo_id, done, max(self.total, done), 0.0, time.monotonic() - self.started,
                                  self.files, finished=True)
        self.on_progress(report)
        return report


class _ReporterBar:
    """Mimics the tqdm methods huggingface_hub calls; draws nothing, counts into its reporter."""

    _lock = threading.RLock()

    def __init__(self, reporter: ProgressReporter, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        self.reporter = reporter
        self.unit = kwargs.get("unit", "it")
        self.total = kwargs.get("total")
        self.n = kwargs.get("initial", 0) or 0
        self.desc = kwargs.get("desc", "")
        self.format_dict: dict = {"rate": None}
        reporter.register(self)

    def update(self, n: float | None = 1) -> None:
        with self._lock:
            self.n += n or 0
        self.reporter.tick()

    def refresh(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        pass

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    set_description_str = set_description

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _ReporterBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @classmethod
    def get_lock(cls) -> threading.RLock:
        return cls._lock

    @classmethod
    def set_lock(cls, lock: threading.RLock) -> None:
        cls._lock = lock


def download_model(repo_id: str, on_progress, interval_s: float = 1.0) -> DownloadProgress | None:  # noqa: ANN001
    """Fetch the files ``from_pretrained`` needs for a Hub model into the HF cache, reporting progress.

    ``on_progress(DownloadProgress)`` is called at most every ``interval_s`` while bytes arrive,
    then once with ``finished=True``. Returns that last report, or None when everything was
    already cached (nothing reported). Raises what huggingface_hub raises (no network, no access).
    """
    from huggingface_hub import snapshot_download

    quiet = ProgressReporter(repo_id, 0, 0, lambda _report: None)
    plan = snapshot_download(repo_id, dry_run=True, tqdm_class=quiet.tqdm_class())
    wanted = set(pick_model_files([f.filename for f in plan]))
    missing = [f for f in plan if f.filename in wanted and f.will_download]
    if not missing:
        return None
    reporter = ProgressReporter(repo_id, sum(int(f.file_size or 0) for f in missing), len(missing), on_progress, interval_s)
    reporter.tick(force=True)
    snapshot_download(repo_id, allow_patterns=sorted(wanted), tqdm_class=reporter.tqdm_class())
    return reporter.finish()
