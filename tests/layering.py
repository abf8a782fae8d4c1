"""Check ftui's imports against ``ftui/layers.toml``: layer violations and import circles.

Reads the source with ``ast`` instead of importing it, so an import inside a function
(where the core -> CLI import once hid) counts as much as one at the top of a module.
``python -m tests.layering`` prints what it finds and exits 1 when anything is wrong;
the tests in ``tests/test_import_hygiene.py`` call the same functions.

An import's target is the ftui module it names: ``from ftui.train import runs`` is an
import of ``ftui.train.runs`` (a submodule), ``from ftui.config import RunConfig`` of
``ftui.config``. The packages Python initialises on the way (``ftui.train``) are not
counted: they are the target's own ancestors, in its layer or below.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "ftui" / "layers.toml"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the ftui module imported, or the top-level name of a third-party package
    line: int
    internal: bool  # an ftui module (else third-party or standard library)


@dataclass(frozen=True)
class Contract:
    layers: tuple[tuple[frozenset[str], bool], ...]  # (names, independent siblings?) top down
    entry: frozenset[str]  # module basenames that are entry shims
    external: Mapping[str, tuple[str, ...]]  # third-party package -> the only names that may import it

    @classmethod
    def load(cls, path: Path = CONTRACT) -> Contract:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        layers = []
        for spec in data["layers"]:
            independent = "|" in spec
            names = frozenset(n.strip() for n in spec.replace("|", ":").split(":") if n.strip())
            layers.append((names, independent))
        external = {k: tuple(v) for k, v in data.get("external", {}).items()}
        return cls(tuple(layers), frozenset(data.get("entry", [])), external)

    def place(self, module: str) -> tuple[int, str] | None:
        """(layer index, the name that covers ``module``), None for an unlisted module."""
        best: tuple[int, str] | None = None
        for index, (names, _) in enumerate(self.layers):
            for name in names:
                if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best[1])):
                    best = (index, name)
        return best

    def is_entry(self, module: str) -> bool:
        return module.rsplit(".", 1)[-1] in self.entry


def read_sources(package_dir: Path) -> dict[str, tuple[str, bool]]:
    """module name -> (source, is a package) for every ``.py`` file under ``package_dir``."""
    out: dict[str, tuple[str, bool]] = {}
    base = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        out[name] = (path.read_text(encoding="utf-8"), is_package)
    return out


def imports(sources: Mapping[str, tuple[str, bool]]) -> list[Import]:
    """Every import statement of every module, wherever it is in the module."""
    found: list[Import] = []
    for name, (text, is_package) in sources.items():
        package = name if is_package else name.rpartition(".")[0]
        for line, module, level, names in _statements(text, name):
            if module is None:
                targets = list(names)
            else:
                base = module
                if level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - level + 1]
                    base = ".".join(parts + ([base] if base else []))
                subs = [f"{base}.{alias}" for alias in names if f"{base}.{alias}" in sources]
                targets = subs if len(subs) == len(names) else [base, *subs]
            for target in targets:
                found.append(_resolve(name, target, line, sources))
    return [i for i in found if i.target != i.source]


@cache
def _statements(text: str, name: str) -> tuple[tuple[int, str | None, int, tuple[str, ...]], ...]:
    """The import statements of one source as (line, from-module or None, level, names).

    Cached on the text: the tests check the whole tree six times, each with one module changed,
    and parsing every module is what costs (a second of CPU per check)."""
    out: list[tuple[int, str | None, int, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(text, filename=name)):
        if isinstance(node, ast.Import):
            out.append((node.lineno, None, 0, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, node.module or "", node.level, tuple(alias.name for alias in node.names)))
    return tuple(out)


def _resolve(source: str, target: str, line: int, sources: Mapping[str, object]) -> Import:
    probe = target
    while probe and probe not in sources:
        probe = probe.rpartition(".")[0]
    if probe:
        return Import(source, probe, line, True)
    return Import(source, target.split(".")[0], line, False)


def violations(contract: Contract, found: list[Import], modules: list[str]) -> list[str]:
    """One line per import the contract forbids, and per module it does not place."""
    problems: list[str] = []
    root = min(modules, key=len) if modules else ""
    for module in modules:
        if module != root and not contract.is_entry(module) and contract.place(module) is None:
            problems.append(f"{module}: in no layer of {CONTRACT.name}; add it to one")
    for imp in found:
        where = f"{imp.source}:{imp.line}"
        if not imp.internal:
            allowed = contract.external.get(imp.target)
            if allowed is not None and not any(imp.source == a or imp.source.startswith(a + ".") for a in allowed):
                problems.append(f"{where} imports {imp.target}, which only {', '.join(allowed)} may import")
            continue
        if contract.is_entry(imp.target):
            problems.append(f"{where} imports {imp.target}, an entry shim (nothing imports those)")
            continue
        if contract.is_entry(imp.source) or imp.target == root:
            continue
        here, there = contract.place(imp.source), contract.place(imp.target)
        if here is None or there is None:
            continue  # reported above
        if there[0] < here[0]:
            problems.append(f"{where} imports {imp.target}: {there[1]} is a layer above {here[1]}")
        elif there[0] == here[0] and there[1] != here[1] and contract.layers[here[0]][1]:
            problems.append(f"{where} imports {imp.target}: {here[1]} and {there[1]} are independent siblings")
    return problems


def circles(found: list[Import]) -> list[list[str]]:
    """Groups of ftui modules that import each other in a ring (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.internal:
            graph.setdefault(imp.source, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            ring = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                ring.append(w)
                if w == v:
                    break
            if len(ring) > 1:
                rings.append(sorted(ring))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(rings)


def check(package_dir: Path = ROOT / "ftui", contract_path: Path = CONTRACT) -> tuple[list[str], list[list[str]]]:
    """(layer violations, import circles) of the package at ``package_dir``."""
    sources = read_sources(package_dir)
    found = imports(sources)
    return violations(Contract.load(contract_path), found, sorted(sources)), circles(found)


def main() -> int:
    problems, rings = check()
    for line in problems:
        print(line)
    for ring in rings:
        print("circle: " + " <-> ".join(ring))
    print(f"{len(problems)} layer violations, {len(rings)} import circles")
    return 1 if problems or rings else 0


if __name__ == "__main__":
    raise SystemExit(main())
