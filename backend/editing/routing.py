"""Edge routes around nodes, so that every connection stays visible.

A skip connection drawn straight from its source to its target runs behind the very layers it
skips, and a residual block reads as a chain. Here every edge is routed through the free gaps
of the rows it crosses, as Graphviz and dagre draw them:

- the drawing's boxes are grouped into *rows* (boxes whose extents along the flow overlap);
- an edge from an output port down to an input port passes each row strictly between them
  through a gap free of boxes, chosen near its way and its target, and shifted aside when an
  earlier edge already runs through that gap (so parallel skips do not overlap);
- between rows it moves across with a smooth S-curve, inside a row it runs straight.

The route is data, a list of points [p, a1, b1, a2, b2, ..., q]: the pieces p->a1, b1->a2, ...,
bk->q are transitions (drawn as curves leaving and entering along the flow), a_i->b_i are
straight runs through row i. An edge with no row in its way is [p, q]. Left to right is the
same with the axes swapped. Positions and ports come from `backend.editing.layout`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backend.document.graph import Edge, LayerGraph
from backend.editing.geometry import (
    TOP_TO_BOTTOM,
    Direction,
    Point,
    Size,
    port_counts,
    port_offset,
)

Box = tuple[float, float, float, float]
"""x, y, width, height."""
CLEARANCE = 14.0
"""Least distance between a routed edge and a box it passes."""
LANE_SPACING = 10.0
"""Between two edges that pass the same gap."""


@dataclass
class _Row:
    top: float
    bottom: float
    spans: list[tuple[float, float]]  # merged, sorted occupied intervals across the flow
    used: dict[int, list[float]] = field(default_factory=dict)  # gap index -> lanes taken

    def gaps(self) -> list[tuple[float, float]]:
        edges = [float("-inf")] + [v for span in self.spans for v in span] + [float("inf")]
        return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def _rows(boxes: Iterable[Box]) -> list[_Row]:
    """Boxes grouped into rows: maximal runs whose vertical extents overlap."""
    rows: list[_Row] = []
    spans: list[tuple[float, float]] = []
    top = bottom = 0.0
    for x, y, w, h in sorted(boxes, key=lambda b: b[1]):
        if spans and y >= bottom:
            rows.append(_Row(top, bottom, _merge(spans)))
            spans = []
        if not spans:
            top, bottom = y, y + h
        bottom = max(bottom, y + h)
        spans.append((x, x + w))
    if spans:
        rows.append(_Row(top, bottom, _merge(spans)))
    return rows


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 2 * CLEARANCE:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _pass(row: _Row, prev: float, aim: float) -> float:
    """Where an edge coming from `prev` and heading for `aim` crosses the row."""
    best, best_cost, best_gap = prev, float("inf"), -1
    for i, (a, b) in enumerate(row.gaps()):
        lo, hi = a + CLEARANCE, b - CLEARANCE
        if lo > hi:
            continue
        x = min(max(prev, lo), hi)
        for taken in sorted(row.used.get(i, []), key=lambda t: abs(t - x)):
            if abs(taken - x) < LANE_SPACING:  # another edge runs here: move aside
                x = x + LANE_SPACING if x + LANE_SPACING <= hi else x - LANE_SPACING
        x = min(max(x, lo), hi)
        cost = abs(x - prev) + 0.5 * abs(x - aim)
        if cost < best_cost:
            best, best_cost, best_gap = x, cost, i
    row.used.setdefault(best_gap, []).append(best)
    return best


def _route(p: Point, q: Point, rows: list[_Row], tops: list[float]) -> list[Point]:
    points = [p]
    if q[1] > p[1]:
        x = p[0]
        first, last = bisect.bisect_left(tops, p[1]), bisect.bisect_right(tops, q[1])
        between = [r for r in rows[first:last] if r.bottom <= q[1]]
        span = q[1] - p[1]
        for row in between:
            mid = (row.top + row.bottom) / 2
            aim = p[0] + (q[0] - p[0]) * (mid - p[1]) / span
            x = _pass(row, x, aim)
            points += [(x, row.top), (x, row.bottom)]
    points.append(q)
    return points


def port_points(
    graph: LayerGraph,
    boxes: dict[str, Box],
    direction: Direction = TOP_TO_BOTTOM,
) -> Callable[[Edge], tuple[Point, Point]]:
    """Where each edge leaves and enters, from the node geometry of `backend.editing.layout`."""
    counts = {nid: port_counts(graph, nid) for nid in boxes}

    def ends(edge: Edge) -> tuple[Point, Point]:
        def at(nid: str, index: int, is_output: bool) -> Point:
            x, y, w, h = boxes[nid]
            inputs, outputs = counts[nid]
            count = outputs if is_output else inputs
            size: Size = (w, h)
            dx, dy = port_offset(index, max(count, index + 1), is_output, size, direction)
            return x + dx, y + dy

        return at(edge.src, edge.src_port, True), at(edge.dst, edge.dst_port, False)

    return ends


def route_edges(
    edges: Iterable[Edge],
    boxes: dict[str, Box],
    ends: Callable[[Edge], tuple[Point, Point]],
    direction: Direction = TOP_TO_BOTTOM,
) -> dict[Edge, list[Point]]:
    """A route for every edge whose two ends have boxes, avoiding every box.

    `ends(edge)` gives the edge's output and input port points. Short edges are routed first,
    so they keep the gaps nearest the nodes and long skips run outside them."""
    flip = direction != TOP_TO_BOTTOM

    def t(p: Point) -> Point:
        return (p[1], p[0]) if flip else p

    shown = [(e, *ends(e)) for e in edges if e.src in boxes and e.dst in boxes]
    shown = [(e, t(p), t(q)) for e, p, q in shown]
    shown.sort(key=lambda item: item[2][1] - item[1][1])
    boxes_t = [(y, x, h, w) if flip else (x, y, w, h) for x, y, w, h in boxes.values()]
    rows = _rows(boxes_t)
    tops = [r.top for r in rows]
    return {e: [t(point) for point in _route(p, q, rows, tops)] for e, p, q in shown}


def crosses_a_box(route: list[Point], boxes: Iterable[Box]) -> bool:
    """Whether a straight run of a top-to-bottom route (a_i -> b_i) passes through a box."""
    runs = [(route[i], route[i + 1]) for i in range(1, len(route) - 1, 2)]
    for (x, y0), (_x, y1) in runs:
        for bx, by, bw, bh in boxes:
            if bx < x < bx + bw and by < max(y0, y1) and min(y0, y1) < by + bh:
                return True
    return False
