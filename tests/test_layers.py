"""The layers point down (docs/architecture.md), read from the code's own imports with `ast`: every import
statement of the product packages, lazy ones and those under TYPE_CHECKING included.

    devices  <  engine  <  store  <  auth  <  service  <  reports  <  ui  <  cli, wsgi

A module may import its own layer and the layers below; a cycle between modules is refused even within a layer.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("devices", "dashboard")
# Each product module's layer, by its longest matching prefix; a module no prefix names fails the test.
LAYERS: dict[str, int] = {
    "devices": 0,
    "dashboard.engine": 1,
    "dashboard.sites": 1,  # a site's name: the store's schema and the command line's options read it
    "dashboard.store": 2,
    "dashboard.auth": 3,
    "dashboard.service": 4,
    "dashboard.reports": 5,
    "dashboard.ui": 6,
    "dashboard.cli": 7,
    "dashboard.wsgi": 7,
}
ENGINE_MAY_IMPORT = ("dashboard.engine", "devices.readings")
MAX_LOOSE = {"dashboard": 5, "devices": 10}  # modules beside the packages: a folder per concern


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it names, as written once made absolute (may be a third-party or standard module)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))
            if "migrations" not in p.parts}


def imports_of(module: str, path: Path) -> list[Import]:
    """Every import in the file, relative ones made absolute; `from X import Y` names both X and X.Y."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append(Import(module, base, node.lineno))
            found += [Import(module, f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def product_target(target: str, modules: dict[str, Path]) -> str | None:
    """The product module an import names (its longest known prefix), or None for anything else."""
    while target not in modules and "." in target:
        target = target.rpartition(".")[0]
    return target if target in modules else None


def edges(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {product module it imports: first line}; a module's own packages (its __init__s) left out."""
    out: dict[str, dict[str, int]] = {m: {} for m in modules}
    for module, path in modules.items():
        for imp in imports_of(module, path):
            target = product_target(imp.target, modules)
            if target and target != module and not module.startswith(target + "."):
                out[module].setdefault(target, imp.line)
    return out


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer(module: str) -> int | None:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=None)
    return None if prefix is None else LAYERS[prefix]


def devices_on_dashboard(graph: dict[str, dict[str, int]]) -> list[str]:
    return [f"{m}:{line} imports {t}" for m, targets in graph.items() if m.startswith("devices")
            for t, line in targets.items() if t.startswith("dashboard")]


def foreign_to_engine(modules: dict[str, Path]) -> list[str]:
    """Engine imports of anything but the standard library, the engine and devices.readings."""
    foreign = []
    for module, path in modules.items():
        if not module.startswith("dashboard.engine"):
            continue
        for imp in imports_of(module, path):
            top = imp.target.partition(".")[0]
            allowed = (top in sys.stdlib_module_names or top == "__future__"
                       or any(imp.target == a or imp.target.startswith(a + ".") for a in ENGINE_MAY_IMPORT))
            if not allowed:
                foreign.append(f"{module}:{imp.line} imports {imp.target}")
    return foreign


def upward(graph: dict[str, dict[str, int]]) -> list[str]:
    """Imports of a higher layer, and modules no layer names."""
    unplaced = [f"{m}: in no layer" for m in graph if layer(m) is None and m != "dashboard"]
    rank = {m: layer(m) for m in graph}
    return unplaced + [f"{m}:{line} (layer {rank[m]}) imports {t} (layer {rank[t]})"
                       for m, targets in graph.items() for t, line in targets.items()
                       if rank[m] is not None and rank[t] is not None and rank[t] > rank[m]]  # type: ignore[operator]


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return product_modules()


@pytest.fixture(scope="module")
def graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    return edges(modules)


def test_no_import_cycle_between_product_modules(graph):
    assert cycles(graph) == []


def test_devices_import_nothing_of_dashboard(graph):
    assert devices_on_dashboard(graph) == []


def test_the_engine_imports_only_the_standard_library_itself_and_the_readings(modules):
    assert foreign_to_engine(modules) == []


def test_every_module_imports_only_its_own_layer_and_below(graph):
    assert upward(graph) == []


def test_a_folder_per_concern():
    for package, limit in MAX_LOOSE.items():
        loose = sorted(p.name for p in (ROOT / package).glob("*.py") if p.name != "__init__.py")
        assert len(loose) <= limit, loose


# ---- the check itself catches what it is for ---------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return product_modules(root)


def test_the_check_finds_a_lazy_cycle_an_upward_import_and_a_foreign_engine_import(tmp_path):
    modules = write(tmp_path, {
        "devices/__init__.py": "", "devices/readings.py": "",
        "devices/adapter.py": "def f():\n    from dashboard.store import x\n",  # lazy, and upward
        "dashboard/__init__.py": "",
        "dashboard/engine/__init__.py": "", "dashboard/engine/rules.py": "import numpy\nfrom ..store import y\n",
        "dashboard/store/__init__.py": "", "dashboard/store/x.py": "from .y import a\n",
        "dashboard/store/y.py": "if False:\n    from . import x\n",
    })
    graph = edges(modules)
    assert cycles(graph) == [["dashboard.store.x", "dashboard.store.y"]]
    assert devices_on_dashboard(graph) == ["devices.adapter:2 imports dashboard.store",
                                           "devices.adapter:2 imports dashboard.store.x"]
    assert foreign_to_engine(modules) == ["dashboard.engine.rules:1 imports numpy",
                                          "dashboard.engine.rules:2 imports dashboard.store",
                                          "dashboard.engine.rules:2 imports dashboard.store.y"]
    assert upward(graph) == ["devices.adapter:2 (layer 0) imports dashboard.store (layer 2)",
                             "devices.adapter:2 (layer 0) imports dashboard.store.x (layer 2)",
                             "dashboard.engine.rules:2 (layer 1) imports dashboard.store (layer 2)",
                             "dashboard.engine.rules:2 (layer 1) imports dashboard.store.y (layer 2)"]
