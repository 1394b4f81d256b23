"""The house as the README maps it: every package of pytest_accel is in the README's layout table, and
every import (at module level or inside a function) runs down that table, never up, so no two packages
import each other. Type-only imports (under ``if TYPE_CHECKING:``) are exempt: they never run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pytest_accel"
TOP = {"__init__", "__main__", "plugin"}  # the public API, the command entry, the hooks: above all
BOTTOM = {"errors"}  # the exception types every package may raise


def _table_ranks() -> dict[str, int]:
    """Package name -> its row in the README's layout table (cells may name several packages)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("Layout of `pytest_accel/`")
    ranks: dict[str, int] = {}
    for row, line in enumerate(re.findall(r"^  \| (`[^|]+) \|", readme[start:], re.M)):
        for name in re.findall(r"`([\w.]+)/?`", line):
            ranks[name.removesuffix(".py")] = row
    return ranks


def _unit(module: str) -> str:
    """The table's unit of a dotted module inside the package: its package, or the top-level module."""
    return module.split(".")[0]


def _imports(path: Path) -> list[str]:
    """Modules of pytest_accel that this file imports where the code runs (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for statement in node.body for child in ast.walk(statement))
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pytest_accel"):
            if node.module == "pytest_accel":
                found.extend(alias.name for alias in node.names)
            else:
                found.append(node.module.removeprefix("pytest_accel."))
        elif isinstance(node, ast.Import):
            found.extend(
                a.name.removeprefix("pytest_accel.") for a in node.names if a.name.startswith("pytest_")
            )
    return found


def _modules() -> dict[str, Path]:
    return {".".join(path.relative_to(PACKAGE).with_suffix("").parts): path for path in PACKAGE.rglob("*.py")}


def test_every_package_is_on_the_map() -> None:
    ranks = _table_ranks()
    units = {_unit(module) for module in _modules()} - TOP - BOTTOM
    assert units <= set(ranks), f"packages missing from README's layout table: {sorted(units - set(ranks))}"
    assert set(ranks) - {"plugin"} <= units, (
        f"the table names what is not there: {sorted(set(ranks) - units)}"
    )


def test_imports_only_run_down_the_map() -> None:
    ranks = _table_ranks()
    upward = []
    for module, path in _modules().items():
        here = _unit(module)
        for imported in _imports(path):
            there = _unit(imported)
            if here == there or there in BOTTOM or here in TOP or there == "pytest_accel":
                continue
            if there in TOP or ranks.get(here, -1) >= ranks.get(there, -1):
                upward.append(f"{module} imports {imported}")
    assert not upward, "imports against the layout:\n" + "\n".join(sorted(upward))


def _module_imports(module: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules this one imports where the code runs, with ``from pytest_accel.gate import
    stats`` resolved to the submodule ``gate.stats`` (a package's ``__init__`` is ``gate.__init__``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for statement in node.body for child in ast.walk(statement))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pytest_accel"):
            base = node.module.removeprefix("pytest_accel").removeprefix(".")
            for alias in node.names:
                child = f"{base}.{alias.name}" if base else alias.name
                names.append(child if child in modules else base)
        elif isinstance(node, ast.Import):
            names = [
                a.name.removeprefix("pytest_accel.") for a in node.names if a.name.startswith("pytest_accel.")
            ]
        for name in names:
            target = name if name in modules else f"{name}.__init__" if name else "__init__"
            if target in modules and target != module:
                found.add(target)
    return found


def test_no_two_modules_import_each_other() -> None:
    """No circle of modules, inside a package either (a function-level import counts: it runs)."""
    paths = _modules()
    graph = {module: _module_imports(module, path, set(paths)) for module, path in paths.items()}
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            module, trail = stack.pop()
            for imported in graph[module]:
                if imported == start:
                    circles.append(" -> ".join([*trail, start]))
                elif imported not in seen:
                    seen.add(imported)
                    stack.append((imported, [*trail, imported]))
    assert not circles, "modules that import each other:\n" + "\n".join(sorted(set(circles))[:10])
