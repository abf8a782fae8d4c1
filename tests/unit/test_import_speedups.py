"""The ML stack imports cheaper in ``ftui``'s own process (issue 17): transformers' models/ tree is read once."""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ftui.train import import_speedups


def test_the_program_reads_transformers_models_tree_once() -> None:
    # transformers' 128-entry lru_cache evicted the first scan's folders: `import transformers` and
    # `transformers.models` each read all ~560 folders (1,120 misses); now each folder once
    script = (
        "import sys\n"
        "from ftui import cli\n"
        "sys.argv = ['ftui', '--version']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "import transformers.models\n"
        "from transformers.utils import import_utils\n"
        "print(import_utils.create_import_structure_from_path.cache_info().misses)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    models = Path(importlib.util.find_spec("transformers").submodule_search_locations[0]) / "models"
    folders = sum(1 for root, _, _ in os.walk(models) if "__pycache__" not in root)
    assert folders > 128  # the tree outgrows transformers' own cache, or this test proves nothing
    assert folders <= int(out.stdout.split()[-1]) <= folders + 10


def _module_with_bounded_scan(calls: list[str]) -> types.ModuleType:
    """A stand-in for transformers.utils.import_utils: a recursive, lru-cached scan that looks itself up globally."""
    module = types.ModuleType("fake_import_utils")

    @functools.lru_cache(maxsize=2)
    def create_import_structure_from_path(path: str) -> dict:
        calls.append(path)
        return {"children": [module.create_import_structure_from_path(f"{path}/{i}") for i in range(3)]} if "/" not in path else {}

    module.create_import_structure_from_path = create_import_structure_from_path
    return module


def test_the_scan_is_memoised_without_bound_and_gives_the_same_structure() -> None:
    calls: list[str] = []
    module = _module_with_bounded_scan(calls)
    before = module.create_import_structure_from_path("root")
    assert import_speedups.unbounded_import_structure_cache(module)
    calls.clear()
    after = module.create_import_structure_from_path("root")
    assert after == before and calls == ["root", "root/0", "root/1", "root/2"]
    assert module.create_import_structure_from_path("root") is after and len(calls) == 4  # each folder once
    assert not import_speedups.unbounded_import_structure_cache(module)  # already unbounded: left alone


def test_another_transformers_shape_is_left_alone() -> None:
    module = types.ModuleType("fake_import_utils")
    module.create_import_structure_from_path = lambda path: {}
    assert not import_speedups.unbounded_import_structure_cache(module)
    assert not import_speedups.unbounded_import_structure_cache(types.ModuleType("empty"))


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
