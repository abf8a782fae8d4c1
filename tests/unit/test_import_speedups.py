"""The ML stack imports cheaper in ``ftui``'s own process (issue 17): transformers' models/ tree is scanned
at most once per process, and not at all once its structure is in ftui's cache."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ftui.train import import_speedups
from ftui.train.import_speedups import FolderScan

PROGRAM = """
import json, os, sys
from ftui import cli
sys.argv = ['ftui', '--version']
try:
    cli.main()
except SystemExit:
    pass
import transformers.models, transformers.models.llama
from transformers.utils import import_utils
scan = import_utils.create_import_structure_from_path
same = None
if scan.loaded:  # read back from the store: the library's own scan of the tree gives the same structure
    fresh = type(scan)(scan.inner, scan.models_dir, scan.scanner_file, None)
    import_utils.create_import_structure_from_path = fresh
    same = fresh(scan.models_dir) == scan.memo[scan.models_dir] and fresh.scanned == scan.loaded
print(json.dumps({"scanned": scan.scanned, "loaded": scan.loaded, "same": same}))
"""


def test_the_program_scans_transformers_models_once_then_reads_it_back(tmp_path: Path) -> None:
    # before: 1,120 folder scans per process (transformers' 128-entry lru_cache overflowed between its two scans)
    env = {**os.environ, "FTUI_CACHE_DIR": str(tmp_path)}

    def run() -> dict:
        out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, env=env)
        return json.loads(out.stdout.splitlines()[-1])

    models = Path(importlib.util.find_spec("transformers").submodule_search_locations[0]) / "models"
    folders = sum(1 for root, _, _ in os.walk(models) if "__pycache__" not in root)
    assert folders > 128  # the tree outgrows transformers' own cache, or this test proves less
    assert run() == {"scanned": folders, "loaded": 0, "same": None}
    assert (tmp_path / import_speedups.STORE_NAME).exists()
    assert run() == {"scanned": 0, "loaded": folders, "same": True}


def _tree(root: Path) -> Path:
    for name, text in {"a.py": "__all__ = ['A']\n", "sub/b.py": "__all__ = ['B']\n", "sub/deep/c.py": "x = 1\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _library_scan(calls: list[str]) -> types.ModuleType:
    """A stand-in for transformers.utils.import_utils: a recursive, bounded-lru scan that looks itself up."""
    module = types.ModuleType("fake_import_utils")
    module.__file__ = __file__

    @functools.lru_cache(maxsize=2)
    def create_import_structure_from_path(path: str) -> dict:
        calls.append(path)
        structure: dict = {}
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            if entry.is_dir():
                structure[entry.name] = module.create_import_structure_from_path(entry.path)
            else:
                names = set(re.findall(r"'(\w+)'", Path(entry.path).read_text()))  # its __all__
                structure.setdefault(frozenset({"torch"}), {})[entry.name[:-3]] = names
        return {frozenset(): {}, **structure}

    module.create_import_structure_from_path = create_import_structure_from_path
    return module


def _scan(tree: Path, store: Path | None) -> tuple[FolderScan, list[str]]:
    calls: list[str] = []
    module = _library_scan(calls)
    scan = FolderScan(module.create_import_structure_from_path.__wrapped__, str(tree), __file__, store)
    module.create_import_structure_from_path = scan
    return scan, calls


def test_a_stored_tree_reads_back_equal_with_its_subfolders_shared(tmp_path: Path) -> None:
    tree, store = _tree(tmp_path / "models"), tmp_path / "cache" / "store.json"
    first, calls = _scan(tree, store)
    expected = first(tree)
    assert len(calls) == 3 and first(str(tree / "a.py")) is expected  # a file stands for its folder; once each
    second, calls = _scan(tree, store)
    got = second(tree)
    assert calls == [] and second.loaded == 3 and got == expected
    assert got["sub"] is second(str(tree / "sub")) and got["sub"]["deep"] is second(tree / "sub" / "deep")
    assert list(got) == list(expected)  # the library's key order


def test_a_changed_file_or_a_damaged_store_means_a_new_scan(tmp_path: Path) -> None:
    tree, store = _tree(tmp_path / "models"), tmp_path / "store.json"
    _scan(tree, store)[0](tree)
    changed = tree / "sub" / "b.py"
    mtime = changed.stat().st_mtime_ns
    changed.write_text("__all__ = ['C']\n")  # the same size: only the mtime tells
    os.utime(changed, ns=(mtime, mtime + 1_000_000_000))
    again, calls = _scan(tree, store)
    assert again(tree)["sub"][frozenset({"torch"})]["b"] == {"C"} and len(calls) == 3
    store.write_text("{not json")
    damaged, calls = _scan(tree, store)
    damaged(tree)
    assert len(calls) == 3 and json.loads(store.read_text())["format"] == import_speedups.STORE_FORMAT


def test_a_shape_it_does_not_know_is_never_stored(tmp_path: Path) -> None:
    assert import_speedups.encode_folder({frozenset(): {"m": ["not", "a", "set"]}}) is None
    assert import_speedups.encode_folder({"odd": "value"}) is None
    scan = FolderScan(lambda path: {frozenset(): {"m": ("tuple",)}}, str(tmp_path), __file__, tmp_path / "s.json")
    scan(tmp_path)
    assert not (tmp_path / "s.json").exists()


def test_another_transformers_shape_is_left_alone() -> None:
    module = types.ModuleType("fake_import_utils")
    module.__file__ = __file__
    module.create_import_structure_from_path = lambda path: {}
    assert not import_speedups.faster_import_structure(module)
    assert not import_speedups.faster_import_structure(types.ModuleType("empty"))
    bounded = _library_scan([])
    assert import_speedups.faster_import_structure(bounded)
    assert not import_speedups.faster_import_structure(bounded)  # done already


def test_the_hook_runs_once_after_the_module_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "speedup_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "inner.py").write_text("VALUE = 41\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[int] = []
    finder = import_speedups._AfterLoad("speedup_pkg.inner", lambda module: seen.append(module.VALUE + 1))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    try:
        import speedup_pkg.inner as inner

        assert seen == [42] and finder not in sys.meta_path
        assert inner.__loader__.exec_module.__func__ is type(inner.__loader__).exec_module  # the loader's own again
        assert inner.__loader__.get_source("speedup_pkg.inner") == "VALUE = 41\n"  # tracebacks still show the source
    finally:
        for name in ("speedup_pkg.inner", "speedup_pkg"):
            sys.modules.pop(name, None)


def test_install_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delitem(sys.modules, import_speedups.IMPORT_UTILS, raising=False)
    import_speedups.install()
    import_speedups.install()
    assert sum(isinstance(f, import_speedups._AfterLoad) for f in sys.meta_path) == 1
