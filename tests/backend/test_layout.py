"""Auto-layout: layered left to right, no overlaps, few crossings, undoable."""

from __future__ import annotations

import random

from backend.document.graph import LayerGraph
from backend.editing.commands import UndoStack
from backend.editing.layout import count_crossings, layered_layout, layout_command


def residual_graph() -> LayerGraph:
    g = LayerGraph()
    inp = g.add_node("Input", {"shape": [8]}, position=(500, 500))
    a = g.add_node("Dense", {"units": 8}, position=(-300, 40))
    b = g.add_node("Dense", {"units": 8}, position=(10, 900))
    add = g.add_node("Add", position=(77, 77))
    out = g.add_node("Dense", {"units": 1}, position=(0, 0))
    g.connect(inp.id, a.id)
    g.connect(a.id, b.id)
    g.connect(a.id, add.id)
    g.connect(b.id, add.id)
    g.connect(add.id, out.id)
    return g


def test_edges_go_left_to_right_without_overlap() -> None:
    g = residual_graph()
    pos = layered_layout(g)
    assert set(pos) == set(g.nodes)
    for e in g.edges:
        assert pos[e.src][0] < pos[e.dst][0]
    assert len(set(pos.values())) == len(pos)


def test_barycentre_ordering_removes_crossings() -> None:
    """Two parallel chains whose nodes were added interleaved in a crossing order."""
    g = LayerGraph()
    a0 = g.add_node("Input", {"shape": [4]})
    b0 = g.add_node("Input", {"shape": [4]})
    b1 = g.add_node("Dense", {"units": 2})
    a1 = g.add_node("Dense", {"units": 2})
    b2 = g.add_node("Dense", {"units": 2})
    a2 = g.add_node("Dense", {"units": 2})
    for s, d in ((a0, a1), (a1, a2), (b0, b1), (b1, b2)):
        g.connect(s.id, d.id)
    assert count_crossings(g, layered_layout(g)) == 0


def test_large_random_dag_layout_is_readable() -> None:
    rng = random.Random(0)
    g = LayerGraph()
    ids = [g.add_node("Input", {"shape": [4]}).id]
    for _ in range(299):
        node = g.add_node("Add")
        for src in rng.sample(ids[-20:], k=min(2, len(ids[-20:]))):
            g.connect(src, node.id)
        ids.append(node.id)
    pos = layered_layout(g)
    assert len(set(pos.values())) == len(pos)
    assert all(pos[e.src][0] < pos[e.dst][0] for e in g.edges)


def test_layout_is_one_undo_step_and_selection_only() -> None:
    g = residual_graph()
    stack = UndoStack(g)
    before = {n: node.position for n, node in g.nodes.items()}
    cmd = layout_command(g)
    assert cmd is not None
    stack.push(cmd)
    assert stack.labels() == ["Auto-layout"]
    stack.undo()
    assert {n: node.position for n, node in g.nodes.items()} == before
    some = list(g.nodes)[:2]
    moved = layered_layout(g, some)
    assert set(moved) == set(some)
