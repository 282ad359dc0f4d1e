"""Automatic layout: layered, left to right, with few edge crossings.

A compact Sugiyama-style layout: layers by longest path from the sources, order within a layer
by repeated barycentre sweeps (which removes most crossings), then coordinates on a grid with
each layer centred. Linear in the number of edges per sweep, so 1,000-node graphs lay out
at once.
"""

from __future__ import annotations

from collections import defaultdict

from backend.document.graph import CycleError, LayerGraph
from backend.editing.commands import MoveNodes

LAYER_GAP = 260.0
ROW_GAP = 130.0
SWEEPS = 6


def _layers(graph: LayerGraph, ids: list[str]) -> dict[str, int]:
    wanted = set(ids)
    try:
        order = graph.topological_order(ids)
    except CycleError:
        order = [n for n in graph.nodes if n in wanted]
    layer: dict[str, int] = {}
    preds: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        if e.src in wanted and e.dst in wanted:
            preds[e.dst].append(e.src)
    for nid in order:
        layer[nid] = max((layer[p] + 1 for p in preds[nid] if p in layer), default=0)
    return layer


def _barycentre(nid: str, linked: list[str], rank: dict[str, int]) -> float:
    """Mean rank of the linked nodes; a node without links keeps its place."""
    if not linked:
        return float(rank[nid])
    return sum(rank[n] for n in linked) / len(linked)


def layered_layout(
    graph: LayerGraph, node_ids: list[str] | None = None
) -> dict[str, tuple[float, float]]:
    """Positions for `node_ids` (default: all), left to right, anchored at their old top-left."""
    ids = list(graph.nodes) if node_ids is None else [n for n in graph.nodes if n in set(node_ids)]
    if not ids:
        return {}
    layer = _layers(graph, ids)
    rows: dict[int, list[str]] = defaultdict(list)
    for nid in ids:
        rows[layer[nid]].append(nid)
    wanted = set(ids)
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        if e.src in wanted and e.dst in wanted:
            down[e.src].append(e.dst)
            up[e.dst].append(e.src)
    rank = {nid: i for row in rows.values() for i, nid in enumerate(row)}
    depth = max(rows) + 1
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        neighbours = up if forward else down
        for level in range(depth) if forward else reversed(range(depth)):
            row = rows[level]
            keys = {nid: _barycentre(nid, neighbours[nid], rank) for nid in row}
            row.sort(key=keys.__getitem__)
            for i, nid in enumerate(row):
                rank[nid] = i
    x0 = min(graph.nodes[n].position[0] for n in ids)
    y0 = min(graph.nodes[n].position[1] for n in ids)
    widest = max(len(r) for r in rows.values())
    positions: dict[str, tuple[float, float]] = {}
    for level, row in rows.items():
        offset = (widest - len(row)) / 2
        for i, nid in enumerate(row):
            positions[nid] = (x0 + level * LAYER_GAP, y0 + (i + offset) * ROW_GAP)
    return positions


def layout_command(graph: LayerGraph, node_ids: list[str] | None = None) -> MoveNodes | None:
    """The undoable move that lays out the graph (or a selection); None if nothing moves."""
    positions = layered_layout(graph, node_ids)
    moves = {
        nid: (graph.nodes[nid].position, pos)
        for nid, pos in positions.items()
        if graph.nodes[nid].position != pos
    }
    if not moves:
        return None
    label = "Auto-layout" if node_ids is None else f"Auto-layout {len(moves)} layers"
    return MoveNodes(moves, label)


def count_crossings(graph: LayerGraph, positions: dict[str, tuple[float, float]]) -> int:
    """Edges that cross between two adjacent columns (straight-line approximation)."""
    segments = [
        (positions[e.src], positions[e.dst])
        for e in graph.edges
        if e.src in positions and e.dst in positions
    ]
    crossings = 0
    for i, (a1, b1) in enumerate(segments):
        for a2, b2 in segments[i + 1 :]:
            if a1[0] == a2[0] and b1[0] == b2[0] and (a1[1] - a2[1]) * (b1[1] - b2[1]) < 0:
                crossings += 1
    return crossings
