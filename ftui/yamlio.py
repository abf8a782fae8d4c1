"""YAML reading through libyaml when PyYAML was built with it.

PyYAML's pure-Python loader takes ~60 ms for the decision tree alone, which is paid on
the TUI's first frame; the C loader reads the same documents in a few ms and raises the
same ``yaml.YAMLError`` subclasses, with marks, on bad input.
"""

from __future__ import annotations

from typing import IO, Any


def safe_load(stream: str | bytes | IO[str] | IO[bytes]) -> Any:
    """``yaml.safe_load`` with the C loader when available."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader either way
