"""The backend never imports Qt, pyqtgraph or the GUI, and loads Keras only when asked."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_ROOTS = {"PySide6", "shiboken6", "pyqtgraph", "gui"}
BACKEND_FILES = sorted((REPO_ROOT / "backend").glob("*.py"))

_IMPORT_CHECK = """
import sys
import backend.cli, backend.trainer, backend.project, backend.compiler, backend.shapes
import backend.catalog, backend.export, backend.graph, backend.examples
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
        "from backend.graph import LayerGraph\n"
    )
    assert imported_roots(source) == {"os", "PySide6", "pyqtgraph", "gui", "backend"}


@pytest.mark.parametrize("path", BACKEND_FILES, ids=lambda p: Path(p).name)
def test_no_backend_module_imports_qt(path: Path) -> None:
    forbidden = imported_roots(path.read_text(encoding="utf-8")) & FORBIDDEN_ROOTS
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def test_the_scan_covers_the_backend() -> None:
    names = {p.name for p in BACKEND_FILES}
    assert {"cli.py", "graph.py", "trainer.py", "compiler.py"} <= names
