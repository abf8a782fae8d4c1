"""Cheaper imports of the ML stack for a process that is about to load it (``ftui`` as its own program).

Imports nothing heavy itself: it only watches for a library module being loaded and adjusts it then.

- transformers scans its ``models/`` tree (~560 folders, ~2,600 files read and parsed) to build its lazy
  import structure, once for ``import transformers`` and again for ``transformers.models``; the scan is
  memoised, but in an ``lru_cache`` of 128 entries, so by the second scan the first one's folders are
  evicted and all are read again (~0.6 CPU-s of every process that loads a model). An unbounded cache
  of the same function makes the second scan free; the structure is the same.
"""

from __future__ import annotations

import functools
import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

IMPORT_UTILS = "transformers.utils.import_utils"


def unbounded_import_structure_cache(module: ModuleType) -> bool:
    """Memoise transformers' ``create_import_structure_from_path`` without a bound; False where it has no
    bounded ``lru_cache`` there (another transformers version): left as it is."""
    scan = getattr(module, "create_import_structure_from_path", None)
    inner = getattr(scan, "__wrapped__", None)
    parameters = getattr(scan, "cache_parameters", None)
    if inner is None or parameters is None or parameters().get("maxsize") is None:
        return False
    module.create_import_structure_from_path = functools.cache(inner)  # its recursion looks the name up here
    return True


class _AfterLoad:
    """Meta path finder: once ``name`` is executed, call ``then(module)``; removes itself on first use."""

    def __init__(self, name: str, then: Callable[[ModuleType], Any]) -> None:
        self.name = name
        self.then = then

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return None  # an unusual install (zip, editable finder): the usual finders take it, unchanged
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            del loader.exec_module  # the loader's own method again
            self.then(module)

        loader.exec_module = exec_module  # this spec's loader only; its type (and get_source) unchanged
        return spec


def install() -> None:
    """Set the adjustments up before the libraries are imported (idempotent; immediate if already loaded)."""
    loaded = sys.modules.get(IMPORT_UTILS)
    if loaded is not None:
        unbounded_import_structure_cache(loaded)
    elif not any(isinstance(f, _AfterLoad) and f.name == IMPORT_UTILS for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterLoad(IMPORT_UTILS, unbounded_import_structure_cache))
