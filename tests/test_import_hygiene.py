"""The layer rules hold; the core never imports Textual; the CLI and the TUI shell import no heavy ML library at start-up.

The layer rules (``ftui/layers.toml``) are checked on the source (``tests/layering.py``),
so an import inside a function counts. The start-up checks run each import in a fresh
interpreter, the way Harlequin's import-hygiene test does, so modules already imported
by other tests cannot hide a violation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests import layering

HEAVY = ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets", "openai", "accelerate")
CORE = ("ftui.advisor", "ftui.data", "ftui.train", "ftui.evaluate", "ftui.models", "ftui.config", "ftui.paths")


def test_every_import_follows_the_layer_contract() -> None:
    problems, _ = layering.check()
    assert problems == [], "\n".join(problems)


def test_no_import_circles_among_ftui_modules() -> None:
    _, rings = layering.check()
    assert rings == [], "\n".join(" <-> ".join(ring) for ring in rings)


def _checked_with(module: str, extra: str) -> tuple[list[str], list[list[str]]]:
    """The checker's verdict on the real sources with ``extra`` appended to ``module``."""
    sources = layering.read_sources(layering.ROOT / "ftui")
    text, is_package = sources[module]
    sources[module] = (text + "\n\n" + extra, is_package)
    found = layering.imports(sources)
    return layering.violations(layering.Contract.load(), found, sorted(sources)), layering.circles(found)


def test_the_checker_catches_a_forbidden_import_inside_a_function() -> None:
    problems, rings = _checked_with("ftui.config", "def later():\n    from ftui.train import worker\n    return worker\n")
    assert any(p.startswith("ftui.config:") and "ftui.train.worker" in p and "layer above" in p for p in problems), problems
    assert any("ftui.config" in ring and "ftui.train.worker" in ring for ring in rings), rings  # worker imports config


def test_the_checker_catches_textual_in_the_core_and_the_faces_importing_each_other() -> None:
    problems, _ = _checked_with("ftui.train.runs", "def draw():\n    import textual.app\n")
    assert any(p.startswith("ftui.train.runs:") and "imports textual" in p for p in problems), problems
    problems, _ = _checked_with("ftui.tui.app", "def run():\n    from ftui.commands import train\n")
    assert any("independent siblings" in p for p in problems), problems
    problems, _ = _checked_with("ftui.train.worker", "def again():\n    from ftui import __main__\n")
    assert any("entry shim" in p for p in problems), problems


def test_the_checker_reads_a_package_it_is_pointed_at(tmp_path) -> None:  # noqa: ANN001 - pytest's tmp_path
    """A throw-away package and contract: the import inside a function is what breaks the rule."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("X = 1\n\ndef f():\n    from pkg.high import Y\n    return Y\n")
    (package / "high.py").write_text("from pkg.low import X\n\nY = X\n")
    contract = tmp_path / "layers.toml"
    contract.write_text('layers = ["pkg.high", "pkg.low"]\n')
    problems, rings = layering.check(package, contract)
    assert problems == ["pkg.low:4 imports pkg.high: pkg.high is a layer above pkg.low"]
    assert rings == [["pkg.high", "pkg.low"]]


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
