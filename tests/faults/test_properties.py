"""Property-based robustness: random edits, malformed files and graph surgery never crash,
never corrupt a saved file, and either load or report a clear error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.document.graph import GraphError, LayerGraph
from backend.document.layer_table import LAYERS, UnknownLayerError
from backend.document.project import ProjectError, load_project, project_from_dict, save_project
from backend.editing.commands import (
    AddNode,
    Connect,
    Disconnect,
    MoveNodes,
    RemoveNodes,
    SetParams,
    UndoStack,
)
from backend.templates.examples import digits_cnn

LAYER_TYPES = sorted(LAYERS)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _edit(graph: LayerGraph, stack: UndoStack, op: int, a: int, b: int, layer: str) -> None:
    ids = list(graph.nodes)
    pick = lambda i: ids[i % len(ids)] if ids else None  # noqa: E731
    try:
        if op == 0 or not ids:
            stack.push(AddNode(layer, position=(a, b)))
        elif op == 1:
            stack.push(RemoveNodes([str(pick(a))]))
        elif op == 2:
            stack.push(Connect(str(pick(a)), str(pick(b)), b % 3))
        elif op == 3 and graph.edges:
            stack.push(Disconnect([graph.edges[a % len(graph.edges)]]))
        elif op == 4:
            stack.push(SetParams(str(pick(a)), {"units": b, "rate": 0.5}))
        elif op == 5:
            stack.push(MoveNodes({str(pick(a)): (graph.nodes[str(pick(a))].position, (a, b))}))
        elif op == 6:
            stack.undo()
        else:
            stack.redo()
    except (GraphError, UnknownLayerError):
        pass  # a refused edit is fine: it must simply leave the graph as it was


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 7),
            st.integers(0, 50),
            st.integers(0, 50),
            st.sampled_from(LAYER_TYPES),
        ),
        max_size=40,
    )
)
def test_random_edits_keep_the_graph_consistent(edits: list[tuple[int, int, int, str]]) -> None:
    graph = LayerGraph()
    stack = UndoStack(graph)
    for op, a, b, layer in edits:
        before = graph.to_dict()
        try:
            _edit(graph, stack, op, a, b, layer)
        except Exception:  # anything else is a bug, but the graph must still be intact
            assert graph.to_dict() == before
            raise
        # invariants: edges join existing nodes, ports are unique, it stays acyclic, and it
        # survives a save/load round trip
        assert all(e.src in graph.nodes and e.dst in graph.nodes for e in graph.edges)
        ports = [(e.dst, e.dst_port) for e in graph.edges]
        assert len(ports) == len(set(ports))
        graph.topological_order()
        assert LayerGraph.from_dict(json.loads(json.dumps(graph.to_dict()))).to_dict() == (
            graph.to_dict()
        )
    while stack.can_undo:
        stack.undo()
    assert graph.to_dict() == LayerGraph().to_dict()


def _mutate(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    if isinstance(doc, dict) and doc:
        key = sorted(doc)[path[0] % len(doc)]
        doc[key] = _mutate(doc[key], path[1:], value)
    elif isinstance(doc, list) and doc:
        doc[path[0] % len(doc)] = _mutate(doc[path[0] % len(doc)], path[1:], value)
    return doc


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=5), JSON_VALUES)
def test_malformed_project_documents_load_or_fail_clearly(path: list[int], value: Any) -> None:
    doc = _mutate(digits_cnn().to_dict(), path, value)
    try:
        project = project_from_dict(doc, "fuzzed.json")
    except ProjectError as exc:
        assert str(exc).startswith("fuzzed.json")
    else:
        project.graph.topological_order()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_never_load_and_never_crash(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "p.dcproj.json"
    path.write_bytes(data)
    try:
        load_project(path)
    except ProjectError as exc:
        assert str(path) in str(exc)


SAVER = """
import sys, time
from backend.templates.examples import digits_cnn
from backend.document.project import save_project
project = digits_cnn()
for i in range(2000):  # a big description makes each save take a while
    project.description = str(i) * 200_000
    save_project(project, sys.argv[1])
"""


def test_kill_during_save_never_leaves_a_truncated_project(tmp_path: Path) -> None:
    target = tmp_path / "p.dcproj.json"
    save_project(digits_cnn(), target)
    repo = Path(__file__).resolve().parents[2]
    for delay in (0.3, 0.6, 0.9, 1.2):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], cwd=repo)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        project = load_project(target)  # whole: the old or a new version, never a torn one
        assert len(project.graph.nodes) == 7
    leftovers = [p for p in tmp_path.iterdir() if p.name != target.name]
    assert all(p.name.endswith(".tmp") for p in leftovers)  # killed mid-write: temp only
    for stale in leftovers:  # age them past the cut-off: the next save clears them
        os.utime(stale, (time.time() - 3600, time.time() - 3600))
    save_project(digits_cnn(), target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
