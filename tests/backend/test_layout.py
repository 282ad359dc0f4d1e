"""Auto-layout: layered top to bottom (or left to right), straight chains, no overlaps, few
crossings, skip connections routed around the layers they skip, undoable."""

from __future__ import annotations

import random

import pytest

from backend.document.graph import LayerGraph
from backend.editing.commands import UndoStack
from backend.editing.geometry import flow_direction, graph_sizes
from backend.editing.layout import count_crossings, layered_layout, layout_command
from backend.editing.routing import crosses_a_box, port_points, route_edges


def residual_graph() -> LayerGraph:
    g = LayerGraph()
    inp = g.add_node("Input", {"shape": [8]}, position=(500, 500))
    a = g.add_node("Dense", {"units": 8}, position=(-300, 40), name="a")
    b = g.add_node("Dense", {"units": 8}, position=(10, 900), name="b")
    c = g.add_node("Dense", {"units": 8}, position=(10, 900), name="c")
    add = g.add_node("Add", position=(77, 77), name="add")
    out = g.add_node("Dense", {"units": 1}, position=(0, 0), name="out")
    g.connect(inp.id, a.id)
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    g.connect(a.id, add.id)
    g.connect(c.id, add.id)
    g.connect(add.id, out.id)
    return g


def boxes_of(g: LayerGraph, pos: dict, direction: str = "TB") -> dict:
    sizes = graph_sizes(g, direction)  # type: ignore[arg-type]
    return {n: (*pos[n], *sizes[n]) for n in pos}


def overlapping(boxes: dict) -> list[tuple[str, str]]:
    items = list(boxes.items())
    return [
        (n1, n2)
        for i, (n1, (x1, y1, w1, h1)) in enumerate(items)
        for n2, (x2, y2, w2, h2) in items[i + 1 :]
        if x1 < x2 + w2 and x2 < x1 + w1 and y1 < y2 + h2 and y2 < y1 + h1
    ]


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_edges_follow_the_direction_without_overlap(direction: str) -> None:
    g = residual_graph()
    pos = layered_layout(g, direction=direction)  # type: ignore[arg-type]
    assert set(pos) == set(g.nodes)
    axis = 1 if direction == "TB" else 0
    for e in g.edges:
        assert pos[e.src][axis] < pos[e.dst][axis]
    assert not overlapping(boxes_of(g, pos, direction))
    g.load_dict({**g.to_dict()})
    for nid, p in pos.items():
        g.nodes[nid].position = p
    assert flow_direction(g, "TB" if direction == "LR" else "LR") == direction


def test_a_residual_block_reads_as_one_and_its_skip_goes_around() -> None:
    """The chain a -> b -> c -> add -> out is one straight line; the skip a -> add is routed
    beside b and c, not behind them."""
    g = residual_graph()
    pos = layered_layout(g)
    by_name = {n.name: n.id for n in g.nodes.values()}
    centres = {name: pos[nid][0] + graph_sizes(g)[nid][0] / 2 for name, nid in by_name.items()}
    assert centres["b"] == centres["c"] == centres["a"]
    boxes = boxes_of(g, pos)
    routes = route_edges(g.edges, boxes, port_points(g, boxes))
    skip = next(e for e in g.edges if (e.src, e.dst) == (by_name["a"], by_name["add"]))
    assert len(routes[skip]) > 2, "the skip passes the rows of b and c"
    assert not crosses_a_box(routes[skip], boxes.values())
    straight = [routes[skip][0], routes[skip][0], routes[skip][-1], routes[skip][-1]]
    assert crosses_a_box(straight, [boxes[by_name["b"]]]), "the check itself can fail"


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
    boxes = boxes_of(g, pos)
    assert not overlapping(boxes)
    assert all(pos[e.src][1] < pos[e.dst][1] for e in g.edges)
    routes = route_edges(g.edges, boxes, port_points(g, boxes))
    assert not [e for e, r in routes.items() if crosses_a_box(r, boxes.values())]


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
    some = list(g.nodes)[1:3]
    corner = (min(before[n][0] for n in some), min(before[n][1] for n in some))
    moved = layered_layout(g, some)
    assert set(moved) == set(some)
    assert (min(p[0] for p in moved.values()), min(p[1] for p in moved.values())) == corner


def test_a_spliced_layer_gets_room_and_one_undo_puts_everything_back() -> None:
    from backend.analysis.fixes import insert_on_edge

    g = residual_graph()
    for nid, p in layered_layout(g).items():
        g.nodes[nid].position = p
    stack = UndoStack(g)
    before = {n: node.position for n, node in g.nodes.items()}
    by_name = {n.name: n.id for n in g.nodes.values()}
    edge = next(e for e in g.edges if (e.src, e.dst) == (by_name["a"], by_name["b"]))
    stack.push(insert_on_edge(g, edge, "Dropout", {"rate": 0.5}))
    pos = {n: node.position for n, node in g.nodes.items()}
    assert not overlapping(boxes_of(g, pos))
    new = next(n for n in g.nodes if n not in before)
    assert pos[by_name["a"]][1] < pos[new][1] < pos[by_name["b"]][1] < pos[by_name["c"]][1]
    assert pos[by_name["b"]] != before[by_name["b"]], "the rows after the splice made room"
    assert stack.labels() == ["Insert Dropout before 'b'"]
    stack.undo()
    assert {n: node.position for n, node in g.nodes.items()} == before


def test_a_new_layer_lands_beside_not_on_top() -> None:
    from backend.editing.room import free_spot

    taken = [(0.0, 0.0, 190.0, 78.0), (0.0, 130.0, 190.0, 78.0)]
    x, y = free_spot(taken, (10.0, 10.0), (190.0, 78.0))
    assert not overlapping({"a": taken[0], "b": taken[1], "new": (x, y, 190.0, 78.0)})
    assert abs(x - 10) + abs(y - 10) < 400, "near where it was dropped"
    assert free_spot(taken, (600.0, 0.0), (190.0, 78.0)) == (600.0, 0.0)


def test_a_nested_model_block_expands_in_place_with_room_in_one_undo_step() -> None:
    """A backbone brought in as one block node opens into its layers where it stood; the
    head after it moves down; one undo puts the block back."""
    from backend.document.layer_table import BLOCK_TYPE
    from backend.editing.room import expand_block
    from tests.named_graphs import resnet_like

    inner = resnet_like(stages=1, blocks=2)
    g = LayerGraph()
    image = g.add_node("Input", {"shape": [8, 8, 3]}, position=(0.0, 0.0), name="image")
    block = g.add_node(BLOCK_TYPE, {"graph": inner.to_dict()}, (0.0, 130.0), "backbone")
    head = g.add_node("GlobalAveragePooling2D", position=(0.0, 260.0), name="head")
    g.connect(image.id, block.id)
    g.connect(block.id, head.id)
    stack = UndoStack(g)
    before = g.to_dict()
    stack.push(expand_block(g, block.id))
    assert block.id not in g.nodes and len(g.nodes) == 2 + len(inner.nodes) - 1
    pos = {n: node.position for n, node in g.nodes.items()}
    assert not overlapping(boxes_of(g, pos))
    inside = [n for n in g.nodes if n not in (image.id, head.id)]
    assert min(pos[n][1] for n in inside) >= 130.0, "where the block stood"
    assert pos[head.id][1] > max(pos[n][1] for n in inside), "the head made room"
    assert stack.labels() == ["Expand 'backbone' in place"]
    stack.undo()
    assert g.to_dict() == before
