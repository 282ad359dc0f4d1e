"""The backend never imports Qt, pyqtgraph or the GUI, and loads Keras only when asked."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_ROOTS = {"PySide6", "shiboken6", "pyqtgraph", "gui"}
BACKEND_FILES = sorted((REPO_ROOT / "backend").rglob("*.py"))

_IMPORT_CHECK = """
import sys
import backend.cli.main, backend.training.trainer, backend.document.project
import backend.keras_bridge.compiler, backend.keras_bridge.shapes, backend.keras_bridge.catalog
import backend.exchange.keras_file, backend.document.graph, backend.templates.examples
loaded = {name.split(".")[0] for name in sys.modules}
qt = sorted(loaded & {"PySide6", "shiboken6", "pyqtgraph", "gui"})
assert not qt, f"the backend imported {qt}"
heavy = sorted(loaded & {"keras", "tensorflow"})
assert not heavy, f"importing the backend loaded {heavy}: import it inside functions"
"""


def imported_roots(source: str) -> set[str]:
    """Top-level packages a module imports anywhere (functions included)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


def test_importing_the_backend_loads_neither_qt_nor_keras() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHECK],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_the_scan_sees_every_kind_of_import() -> None:
    source = (
        "import os\n"
        "def f():\n"
        "    from PySide6.QtCore import QObject\n"
        "    import pyqtgraph as pg\n"
        "    __import__('gui.app')\n"
        "from backend.document.graph import LayerGraph\n"
    )
    assert imported_roots(source) == {"os", "PySide6", "pyqtgraph", "gui", "backend"}


def _relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT / "backend").as_posix()


@pytest.mark.parametrize("path", BACKEND_FILES, ids=_relative)
def test_no_backend_module_imports_qt(path: Path) -> None:
    forbidden = imported_roots(path.read_text(encoding="utf-8")) & FORBIDDEN_ROOTS
    assert not forbidden, f"{_relative(path)} imports {sorted(forbidden)}"


def test_the_scan_covers_every_backend_package() -> None:
    names = {_relative(p) for p in BACKEND_FILES}
    assert {
        "cli/main.py",
        "document/graph.py",
        "training/trainer.py",
        "keras_bridge/compiler.py",
        "data/tabular.py",
    } <= names


def test_the_backend_top_level_stays_small() -> None:
    """The packages show the architecture: at most 12 modules beside them."""
    top = sorted(p.name for p in (REPO_ROOT / "backend").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 12, top


def _import_cycles(graph: Any, roots: tuple[str, ...]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), imports under
    TYPE_CHECKING included: each group is an import cycle."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in roots)
    edges = {
        m: sorted(d for d in graph.find_modules_directly_imported_by(m) if d in modules)
        for m in modules
    }
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in edges[module]:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in modules:
        if module not in order:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    import grimp

    graph = grimp.build_graph("backend", "gui")
    assert _import_cycles(graph, ("backend", "gui")) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    class Graph:
        modules = {"a.x", "a.y", "a.z"}
        imports = {"a.x": {"a.y"}, "a.y": {"a.x"}, "a.z": {"a.x"}}

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return self.imports[module]

    assert _import_cycles(Graph(), ("a",)) == [["a.x", "a.y"]]
