"""YAML reading through libyaml when PyYAML was built with it.

PyYAML's pure-Python loader takes ~60 ms for the decision tree alone, which is paid on
the TUI's first frame; the C loader reads the same documents in a few ms and raises the
same ``yaml.YAMLError`` subclasses, with marks, on bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any


def safe_load(stream: str | bytes | IO[str] | IO[bytes]) -> Any:
    """``yaml.safe_load`` with the C loader when available."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader either way


def load_file_cached(path: Path) -> Any:
    """``safe_load`` of a file, through a JSON copy in the cache dir keyed by its size and mtime.

    Why: importing PyYAML alone costs ~10 ms, paid on the TUI's first frame for the decision
    tree; json is loaded anyway. The copy is rewritten whenever the file changes; a cache
    that cannot be read or written, or a document JSON cannot hold, just reads the YAML.
    """
    import json
    import os
    import zlib  # already loaded at start-up, unlike hashlib

    from ftui.paths import cache_dir

    st = path.stat()
    key = f"{st.st_size}-{st.st_mtime_ns}"
    name = f"{path.stem}-{zlib.crc32(str(path.resolve()).encode()):08x}.json"
    cached = cache_dir() / "yaml" / name
    try:
        saved = json.loads(cached.read_text(encoding="utf-8"))
        if isinstance(saved, dict) and saved.get("key") == key:
            return saved["value"]
    except (OSError, ValueError, KeyError):
        pass
    with open(path, encoding="utf-8") as fh:
        value = safe_load(fh)
    try:
        text = json.dumps({"key": key, "value": value})
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, cached)
    except (OSError, TypeError, ValueError):
        pass
    return value
