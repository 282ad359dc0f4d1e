"""Room while editing: where a spliced or dropped layer goes, and what moves aside for it, so
an edit never lands a layer on top of another. Each returns data or a command (not yet done).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.document.graph import LayerGraph
from backend.editing.commands import AddNode, Macro, MoveNodes
from backend.editing.geometry import (
    LAYER_GAP,
    NODE_HEIGHT,
    NODE_WIDTH,
    TOP_TO_BOTTOM,
    Point,
    Size,
    flow_direction,
    graph_sizes,
    node_size,
    port_counts,
)
from backend.editing.layout import layered_layout


def splice_room(
    graph: LayerGraph, edge_src: str, edge_dst: str, size: Size | None = None
) -> tuple[Point, dict[str, tuple[Point, Point]]]:
    """Where a layer spliced onto the edge src -> dst goes (one layer after src, in line with
    it), and the moves that make room for it: when dst's row is too close, that row and every
    row after it move along the flow, so nothing lands on top of anything."""
    direction = flow_direction(graph)
    size = size or node_size(1, 1, direction)
    sizes = graph_sizes(graph, direction)
    a = 1 if direction == TOP_TO_BOTTOM else 0  # the flow's axis
    src, dst = graph.nodes[edge_src], graph.nodes[edge_dst]
    start = src.position[a] + sizes[edge_src][a] + LAYER_GAP
    across = src.position[1 - a] + (sizes[edge_src][1 - a] - size[1 - a]) / 2
    position = (across, start) if a else (start, across)
    needed = start + size[a] + LAYER_GAP - dst.position[a]
    moves: dict[str, tuple[Point, Point]] = {}
    if needed > 0:
        line = dst.position[a] - 1.0
        for nid, node in graph.nodes.items():
            if node.position[a] >= line and nid != edge_src:
                old = node.position
                moves[nid] = (old, (old[0], old[1] + needed) if a else (old[0] + needed, old[1]))
    return position, moves


def free_spot(
    boxes: Iterable[tuple[float, float, float, float]], want: Point, size: Size, step: float = 40.0
) -> Point:
    """The free place nearest `want` (a top-left corner) for a box of `size`, searched in
    growing rings, so a new layer never lands on another one."""
    taken = list(boxes)
    margin = 16.0

    def free(x: float, y: float) -> bool:
        return all(
            x + size[0] + margin <= bx or bx + bw + margin <= x
            or y + size[1] + margin <= by or by + bh + margin <= y
            for bx, by, bw, bh in taken
        )  # fmt: skip

    for ring in range(60):
        spots = [
            (want[0] + dx * step, want[1] + dy * step)
            for dx in range(-ring, ring + 1)
            for dy in range(-ring, ring + 1)
            if max(abs(dx), abs(dy)) == ring
        ]
        spots.sort(key=lambda p: (p[0] - want[0]) ** 2 + (p[1] - want[1]) ** 2)
        for x, y in spots:
            if free(x, y):
                return (x, y)
    return want


def expand_block(graph: LayerGraph, block_id: str) -> Macro:
    """A block node (a group, or an imported nested model such as a keras.applications
    backbone) replaced in place by its layers, laid out where it stood, with the layers after
    it moved along the flow to make room: one undoable command (not yet done)."""
    from backend.editing.blocks import ungroup  # blocks imports the shape inference
    from backend.keras_bridge.shapes import block_graph

    block = graph.node(block_id)
    command = ungroup(graph, block_id)
    direction = flow_direction(graph)
    a = 1 if direction == TOP_TO_BOTTOM else 0
    added = [c for c in command.commands if isinstance(c, AddNode)]
    if not added:
        return command
    inner = block_graph(block.params, block.name)  # laid out afresh, whatever it held
    laid = layered_layout(inner, direction=direction, origin=(0.0, 0.0))
    by_name = {inner.nodes[nid].name: p for nid, p in laid.items()}
    placed = [by_name[str(c.name)] for c in added if c.name in by_name]
    if len(placed) == len(added):
        x0, y0 = min(p[0] for p in placed), min(p[1] for p in placed)
        for c in added:
            p = by_name[str(c.name)]
            c.position = (block.position[0] + p[0] - x0, block.position[1] + p[1] - y0)
    spread = max(c.position[a] for c in added) - min(c.position[a] for c in added)
    size = node_size(*port_counts(graph, block_id), direction)
    extra = spread + NODE_HEIGHT - size[a] if a else spread + NODE_WIDTH - size[a]
    moves: dict[str, tuple[Point, Point]] = {}
    if extra > 0:
        for nid, node in graph.nodes.items():
            if nid != block_id and node.position[a] > block.position[a] + 1.0:
                old = node.position
                moves[nid] = (old, (old[0], old[1] + extra) if a else (old[0] + extra, old[1]))
    steps: list[Any] = (
        [MoveNodes(moves, "Make room"), *command.commands] if moves else [*command.commands]
    )
    return Macro(f"Expand '{block.name}' in place", steps)
