"""The core never imports Textual; the CLI and the TUI shell import no heavy ML library at start-up.

Runs each import in a fresh interpreter, the way Harlequin's import-hygiene test does,
so modules already imported by other tests cannot hide a violation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets", "openai", "accelerate")
CORE = ("ftui.advisor", "ftui.data", "ftui.train", "ftui.evaluate", "ftui.models", "ftui.config", "ftui.paths")


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _core_modules() -> list[str]:
    """Every module under the core packages, so a new module is checked without editing this test."""
    import pkgutil

    names: list[str] = []
    for package in CORE:
        module = __import__(package, fromlist=["_"])
        names.append(package)
        if hasattr(module, "__path__"):
            names += [m.name for m in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")]
    return names


def test_core_never_imports_textual() -> None:
    modules = _core_modules()
    statement = "\n".join(
        f"try:\n    import {name}\nexcept ImportError as exc:\n    print('skip', {name!r}, exc, file=sys.stderr)"
        for name in modules
    )
    loaded = _modules_after(statement)
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded), "a core module imports Textual"


@pytest.mark.parametrize("module", ["ftui.cli", "ftui.tui.app", "ftui", "ftui.workspace"])
def test_startup_modules_import_nothing_heavy(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"{module} imports heavy libraries at start-up: {heavy[:5]}"


def test_cli_parser_build_imports_nothing_heavy() -> None:
    """Building the parser imports every sub-command module: they must all stay light."""
    loaded = _modules_after("from ftui.cli import build_parser\nbuild_parser()")
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"a sub-command module imports heavy libraries at import: {heavy[:5]}"


def test_the_first_screen_leaves_the_calculator_for_later() -> None:
    """The Plan screen paints before its calculator's modules load (bench/startup.py)."""
    loaded = _modules_after("import ftui.tui.app, ftui.tui.screens.plan")
    later = {"ftui.tui.screens.plan_calc", "ftui.advisor.vram", "ftui.advisor.cost", "ftui.tui.screenshots",
             "textual.widgets._tabbed_content", "pandas"}
    assert not (loaded & later), sorted(loaded & later)
