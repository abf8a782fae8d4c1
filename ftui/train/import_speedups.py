"""Cheaper imports of the ML stack for a process that is about to load it (``ftui`` as its own program).

Imports nothing heavy itself: it only watches for a library module being loaded and adjusts it then.

transformers builds its lazy import structure by scanning its ``models/`` tree (~560 folders, ~2,600
files read and parsed, ~0.6 CPU-s) in every process that imports it, and did so twice: once for
``import transformers``, again for ``transformers.models``, because the scan is memoised in an
``lru_cache`` of 128 entries that the first scan overflows. Here the same scan is memoised per folder
without a bound, and the models/ tree's result is kept in ftui's cache, keyed on the path, size and
mtime of every file in it (and of the scanner's own module): a later process reads it back (~30 ms)
instead of scanning. The structure is the same either way; any doubt (another transformers shape, an
unreadable or stale store) means the library's own scan.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys

TYPE_CHECKING = False  # typing, json and hashlib load only when used: main() installs this before the TUI's first frame
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import ModuleType
    from typing import Any

    Structure = dict[Any, Any]

IMPORT_UTILS = "transformers.utils.import_utils"
STORE_NAME = "transformers-import-structure.json"
STORE_FORMAT = 1


class FolderScan:
    """transformers' ``create_import_structure_from_path``, memoised per folder, the models/ tree on disk."""

    def __init__(self, inner: Callable[[str], Structure], models_dir: str, scanner_file: str, store: Path | None) -> None:
        self.inner = inner  # the library's function, unwrapped: its recursion looks the module's name up (us)
        self.models_dir = models_dir
        self.scanner_file = scanner_file
        self.store = store
        self.memo: dict[str, Structure] = {}
        self.scanned = 0  # folders the library scanned in this process
        self.loaded = 0  # folders read back from the store

    def __call__(self, module_path: Any) -> Structure:
        folder = os.fspath(module_path)
        if os.path.isfile(folder):  # as the library does: a file stands for its folder
            folder = os.path.dirname(folder)
        found = self.memo.get(folder)
        if found is not None:
            return found
        if folder != self.models_dir or self.store is None:
            return self._scan(folder)
        key = tree_key(folder, self.scanner_file)
        found = self._read(key)
        if found is None:
            found = self._scan(folder)
            self._write(key)
        return found

    def _scan(self, folder: str) -> Structure:
        result = self.inner(folder)
        self.memo[folder] = result
        self.scanned += 1
        return result

    def _read(self, key: str) -> Structure | None:
        import json

        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))  # type: ignore[union-attr]
            if data.get("format") != STORE_FORMAT or data.get("key") != key:
                return None
            folders = data["folders"]
            decoded: dict[str, Structure] = {}
            for relative in sorted(folders, key=lambda r: -r.count("/")):  # subfolders before their parents
                folder = os.path.join(self.models_dir, relative) if relative else self.models_dir
                decoded[folder] = decode_folder(folders[relative], folder, decoded)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        self.memo.update(decoded)
        self.loaded += len(decoded)
        return decoded[self.models_dir]

    def _write(self, key: str) -> None:
        import json

        prefix = self.models_dir + os.sep
        folders: dict[str, Any] = {}
        for folder, structure in self.memo.items():
            if folder == self.models_dir or folder.startswith(prefix):
                encoded = encode_folder(structure)
                if encoded is None:
                    return  # a shape this store does not know: scan every time rather than store it wrong
                folders[os.path.relpath(folder, self.models_dir).replace(os.sep, "/") if folder != self.models_dir else ""] = encoded
        data = {"format": STORE_FORMAT, "key": key, "folders": folders}
        store = self.store
        assert store is not None
        temporary = store.with_name(f".{store.name}.{os.getpid()}")
        try:
            store.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, store)  # whole or not at all, for a process reading it meanwhile
        except OSError:
            temporary.unlink(missing_ok=True)


def encode_folder(structure: Structure) -> list[Any] | None:
    """One folder's scan as JSON, in its key order: [backends, {module: objects}] or a subfolder's name."""
    items: list[Any] = []
    for key, value in structure.items():
        if isinstance(key, str) and isinstance(value, dict):
            items.append(key)  # a subfolder: stored under its own path, the same object once read back
        elif isinstance(key, frozenset) and isinstance(value, dict) and all(
            isinstance(m, str) and isinstance(o, set) for m, o in value.items()
        ):
            items.append([sorted(key), {module: sorted(objects) for module, objects in value.items()}])
        else:
            return None
    return items


def decode_folder(items: list[Any], folder: str, decoded: dict[str, Structure]) -> Structure:
    structure: Structure = {}
    for item in items:
        if isinstance(item, str):
            structure[item] = decoded[os.path.join(folder, item)]
        else:
            backends, modules = item
            structure[frozenset(backends)] = {module: set(objects) for module, objects in modules.items()}
    return structure


def tree_key(root: str, *also: str) -> str:
    """A digest of every file and folder under ``root`` (path, size, mtime) and of the files ``also``."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for path in also:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    folders = [root]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name == "__pycache__":
                    continue
                if entry.is_dir():
                    folders.append(entry.path)
                    digest.update(f"{entry.path}/\n".encode())
                else:
                    stat = entry.stat()
                    digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _store_path() -> Path | None:
    from ftui import paths

    try:
        return paths.cache_dir() / STORE_NAME
    except (OSError, RuntimeError):  # no home directory to put a cache under
        return None


def faster_import_structure(module: ModuleType, store: Path | None = None) -> bool:
    """Put a ``FolderScan`` in place of transformers' scan; False where it is not the bounded ``lru_cache``
    this was written for (another transformers version, or done already): left as it is."""
    scan = getattr(module, "create_import_structure_from_path", None)
    inner = getattr(scan, "__wrapped__", None)
    parameters = getattr(scan, "cache_parameters", None)
    file = getattr(module, "__file__", None)
    if inner is None or parameters is None or parameters().get("maxsize") is None or not file:
        return False
    models_dir = os.path.join(os.path.dirname(os.path.dirname(file)), "models")
    module.create_import_structure_from_path = FolderScan(inner, models_dir, file, store)
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

    def adjust(module: ModuleType) -> None:
        faster_import_structure(module, _store_path())

    loaded = sys.modules.get(IMPORT_UTILS)
    if loaded is not None:
        adjust(loaded)
    elif not any(isinstance(f, _AfterLoad) and f.name == IMPORT_UTILS for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterLoad(IMPORT_UTILS, adjust))
