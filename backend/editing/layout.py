"""Automatic layout: a layered (Sugiyama) drawing, top to bottom or left to right.

As Graphviz `dot` and dagre (Netron) draw networks:

1. **Layers by longest path**: every layer sits one layer below its deepest input; a source
   (a model input) sits just above the first layer that reads it.
2. **Long edges become chains of dummy vertices**, one per layer they cross, so a skip
   connection reserves a lane of its own beside the layers it skips (`backend.editing.routing`
   draws the edge through those lanes).
3. **Crossings reduced** by barycentre sweeps down and up, keeping the best order found.
4. **Coordinates that keep chains straight**: each layer is placed at once as the closest fit
   (least squares, by pool-adjacent-violators) to where its neighbours want it, with minimum
   gaps between neighbours; a vertex of a chain or a long edge weighs more, so chains run
   straight and the rest bends around them.

Everything is data: positions are top-left corners in scene units, the same as `Node.position`;
node sizes come from `backend.editing.geometry`, so the canvas draws what the layout planned.
Left to right is the top-to-bottom layout with the axes swapped.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from backend.document.graph import LayerGraph
from backend.editing.commands import MoveNodes
from backend.editing.geometry import (
    LAYER_GAP,
    TOP_TO_BOTTOM,
    Direction,
    Point,
    Size,
    flow_direction,
    node_size,
    port_counts,
)

NODE_GAP = 44.0
"""Between neighbouring nodes of one layer."""
LANE_GAP = 18.0
"""Between a long edge's lane and its neighbours in a layer."""
SWEEPS = 8
PLACEMENT_PASSES = 6


# ----------------------------------------------------------------- the layered graph
@dataclass
class _Layered:
    """Vertices 0..real-1 are nodes, the rest dummies of long edges; `up`/`down` neighbours."""

    real: int
    rank: list[int]
    up: list[list[int]]
    down: list[list[int]]
    layers: list[list[int]]
    port: dict[tuple[int, int], float]
    """Where a link meets a port, as a fraction of a node's width from its middle (-0.5..0.5):
    at its target for (u, w) when w is a node, so edges into input 0 are ordered left."""


def _ranks(n: int, preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    """Longest path from the sources; then each source just above its first reader."""
    indegree = [len(p) for p in preds]
    ready = deque(i for i in range(n) if indegree[i] == 0)
    order: list[int] = []
    while ready:
        v = ready.popleft()
        order.append(v)
        for w in succs[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    order += [v for v in range(n) if indegree[v] > 0]  # a cycle: never in a LayerGraph
    rank = [0] * n
    for v in order:
        rank[v] = max((rank[p] + 1 for p in preds[v]), default=0)
    for v in order:
        if not preds[v] and succs[v]:
            rank[v] = max(0, min(rank[w] for w in succs[v]) - 1)
    return rank


def _layered(n: int, pairs: list[tuple[int, int]], ports: dict[tuple[int, int], float]) -> _Layered:
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    port: dict[tuple[int, int], float] = {}
    for a, b in pairs:
        succs[a].append(b)
        preds[b].append(a)
    rank = _ranks(n, preds, succs)
    up: list[list[int]] = [[] for _ in range(n)]
    down: list[list[int]] = [[] for _ in range(n)]
    for a, b in pairs:
        prev = a
        for r in range(rank[a] + 1, rank[b]):  # one dummy per layer the edge crosses
            rank.append(r)
            up.append([prev])
            down.append([])
            down[prev].append(len(rank) - 1)
            prev = len(rank) - 1
        down[prev].append(b)
        up[b].append(prev)
        port[(prev, b)] = ports.get((a, b), 0.0)
    return _Layered(n, rank, up, down, _initial_order(n, rank, down, preds), port)


def _initial_order(
    n: int, rank: list[int], down: list[list[int]], preds: list[list[int]]
) -> list[list[int]]:
    """Depth-first from the sources: branches that belong together start side by side."""
    layers: list[list[int]] = [[] for _ in range(max(rank) + 1)]
    seen = [False] * len(rank)
    for root in [v for v in range(n) if not preds[v]] + list(range(n)):
        stack = [root]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            layers[rank[v]].append(v)
            stack.extend(reversed(down[v]))
    return layers


# ----------------------------------------------------------------- crossing reduction
def _crossings(
    upper: list[int], lower: list[int], down: list[list[int]], port: dict[tuple[int, int], float]
) -> int:
    """Crossings between two adjacent layers: inversions of the edges' lower ends (the port
    each edge enters, left to right)."""
    pos = {v: i for i, v in enumerate(lower)}
    at = [
        pos[w] + port.get((v, w), 0.0)
        for v in upper
        for w in sorted(down[v], key=lambda w: pos[w] + port.get((v, w), 0.0))
        if w in pos
    ]
    rank = {value: i for i, value in enumerate(sorted(set(at)))}
    ends = [rank[value] for value in at]
    tree = [0] * (len(rank) + 1)
    count = 0
    for seen, p in enumerate(ends):
        i, smaller_or_equal = p + 1, 0
        while i > 0:
            smaller_or_equal += tree[i]
            i -= i & -i
        count += seen - smaller_or_equal
        i = p + 1
        while i <= len(rank):
            tree[i] += 1
            i += i & -i
    return count


def _total_crossings(g: _Layered) -> int:
    return sum(
        _crossings(g.layers[i], g.layers[i + 1], g.down, g.port) for i in range(len(g.layers) - 1)
    )


def _reduce_crossings(g: _Layered) -> None:
    best = [list(layer) for layer in g.layers]
    best_count = _total_crossings(g)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        forward = sweep % 2 == 0
        levels = range(1, len(g.layers)) if forward else range(len(g.layers) - 2, -1, -1)
        for level in levels:
            ref = g.layers[level - 1 if forward else level + 1]
            pos = {v: i for i, v in enumerate(ref)}
            row = g.layers[level]
            key: dict[int, float] = {}
            for i, v in enumerate(row):
                if forward:
                    linked: list[float] = [pos[u] for u in g.up[v] if u in pos]
                else:
                    linked = [pos[w] + g.port.get((v, w), 0.0) for w in g.down[v] if w in pos]
                key[v] = sum(linked) / len(linked) if linked else i * len(ref) / max(len(row), 1)
            row.sort(key=key.__getitem__)
        count = _total_crossings(g)
        if count < best_count:
            best, best_count = [list(layer) for layer in g.layers], count
    g.layers = best


# ----------------------------------------------------------------- coordinates
def _fit_layer(desired: list[float], weights: list[float], offsets: list[float]) -> list[float]:
    """Least-squares positions for one layer's vertices, in order, each at least its offset
    gap right of the previous one: weighted isotonic regression (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for d, w, off in zip(desired, weights, offsets, strict=True):
        blocks.append([(d - off) * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, wt, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += wt
            blocks[-1][2] += c
    values: list[float] = []
    for s, wt, c in blocks:
        values += [s / wt] * int(c)
    return [v + off for v, off in zip(values, offsets, strict=True)]


def _coordinates(g: _Layered, widths: list[float]) -> list[float]:
    x = [0.0] * len(g.rank)
    offsets_of: list[list[float]] = []
    for row in g.layers:
        offsets, total = [], 0.0
        for i, v in enumerate(row):
            if i:
                prev = row[i - 1]
                gap = LANE_GAP if prev >= g.real or v >= g.real else NODE_GAP
                total += (widths[prev] + widths[v]) / 2 + gap
            offsets.append(total)
        offsets_of.append(offsets)
        for v, off in zip(row, offsets, strict=True):
            x[v] = off - total / 2

    def weight(v: int, linked: list[int]) -> float:
        if v >= g.real:  # a long edge's lane: straight between its own bends, yielding
            return 8.0 if all(w >= g.real for w in linked) else 0.5  # to the nodes it leaves
        if len(linked) == 1 and len(g.up[v]) <= 1 and len(g.down[v]) <= 1:
            return 4.0  # a link of a chain
        return 1.0

    def place(level: int, sides: tuple[str, ...]) -> None:
        row = g.layers[level]
        desired, weights = [], []
        for v in row:
            linked = [w for side in sides for w in (g.up[v] if side == "up" else g.down[v])]
            if v < g.real and any(w < g.real for w in linked):  # lanes do not pull nodes
                linked = [w for w in linked if w < g.real]
            if linked:
                xs = sorted(x[w] for w in linked)
                mid = len(xs) // 2
                want = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
                if v >= g.real and all(w < g.real for w in linked):  # a lane leaving a node
                    beside = max(widths[w] for w in linked) / 2 + LANE_GAP  # runs beside it
                    want += beside if x[v] >= want else -beside
                desired.append(want)
                weights.append(weight(v, linked))
            else:
                desired.append(x[v])
                weights.append(0.05)
        for v, value in zip(row, _fit_layer(desired, weights, offsets_of[level]), strict=True):
            x[v] = value

    last = len(g.layers) - 1
    for _ in range(PLACEMENT_PASSES):
        for level in range(1, last + 1):
            place(level, ("up",))
        for level in range(last - 1, -1, -1):
            place(level, ("down",))
    for level in range(last + 1):
        place(level, ("up", "down"))
    _straighten(g, x, widths)
    return x


def _chains(g: _Layered) -> list[list[int]]:
    """Maximal runs of one-to-one links (a vertex with one reader, read from it alone), from
    the top down, those of layers before those of long edges' lanes alone."""

    def linked(a: int, b: int) -> bool:
        return len(g.down[a]) == 1 and len(g.up[b]) == 1

    chains = []
    for v in range(len(g.rank)):
        if len(g.up[v]) == 1 and linked(g.up[v][0], v):
            continue  # not the head of its chain
        chain = [v]
        while len(g.down[chain[-1]]) == 1 and linked(chain[-1], g.down[chain[-1]][0]):
            chain.append(g.down[chain[-1]][0])
        if len(chain) > 1:
            chains.append(chain)
    return sorted(
        chains,
        key=lambda c: (
            c[0] >= g.real and c[-1] >= g.real,
            g.rank[c[0]],
            -sum(v < g.real for v in c),
        ),
    )


def _straighten(g: _Layered, x: list[float], widths: list[float]) -> None:
    """Put every chain on one line: under the node it leaves or above the one it joins when
    its layers leave room, else where most of it is. A chain of layers may push the lanes of
    long edges aside (they are straightened after, as chains of their own)."""
    slot = {v: (level, i) for level, row in enumerate(g.layers) for i, v in enumerate(row)}

    def sep(a: int, b: int) -> float:
        gap = LANE_GAP if a >= g.real or b >= g.real else NODE_GAP
        return (widths[a] + widths[b]) / 2 + gap

    fixed: set[int] = set()

    def fits(v: int, at: float) -> bool:
        """Room at `at` beside the vertices already put on their lines (others move aside)."""
        level, i = slot[v]
        row = g.layers[level]
        left = next((w for w in reversed(row[:i]) if w in fixed), None)
        right = next((w for w in row[i + 1 :] if w in fixed), None)
        if left is not None and at - x[left] < sep(left, v) - 1e-6:
            return False
        return right is None or x[right] - at >= sep(v, right) - 1e-6

    def settle(v: int) -> None:
        """Push the vertices beside v aside until every gap of its layer is wide enough."""
        level, i = slot[v]
        row = g.layers[level]
        for j in range(i + 1, len(row)):
            x[row[j]] = max(x[row[j]], x[row[j - 1]] + sep(row[j - 1], row[j]))
        for j in range(i - 1, -1, -1):
            x[row[j]] = min(x[row[j]], x[row[j + 1]] - sep(row[j], row[j + 1]))

    for chain in _chains(g):
        head, tail = chain[0], chain[-1]
        ends = [w for w in g.up[head] if w < g.real] + [w for w in g.down[tail] if w < g.real]
        xs = sorted(x[v] for v in chain)
        middle = xs[len(xs) // 2]
        for at in [x[w] for w in ends] + sorted(xs, key=lambda value: abs(value - middle)):
            if all(fits(v, at) for v in chain):
                for v in chain:
                    x[v] = at
                    settle(v)
                fixed.update(chain)
                break


# ----------------------------------------------------------------- the layout
def layered_layout(
    graph: LayerGraph,
    node_ids: Iterable[str] | None = None,
    direction: Direction | None = None,
    sizes: dict[str, Size] | None = None,
    origin: Point | None = None,
) -> dict[str, Point]:
    """Top-left positions for `node_ids` (default: all), laid out among themselves, flowing
    `direction`: by default top to bottom for the whole graph, and for a selection the way the
    rest of the drawing flows.

    The drawing's top-left corner lands at `origin`, by default where the laid-out nodes'
    corner was (so laying out a selection keeps it where it was, and the rest in place)."""
    direction = direction or (TOP_TO_BOTTOM if node_ids is None else flow_direction(graph))
    wanted = set(graph.nodes if node_ids is None else node_ids)
    ids = [nid for nid in graph.nodes if nid in wanted]
    if not ids:
        return {}
    index = {nid: i for i, nid in enumerate(ids)}
    inner = [e for e in graph.edges if e.src in index and e.dst in index]
    pairs = list(dict.fromkeys((index[e.src], index[e.dst]) for e in inner))
    ports: dict[tuple[int, int], float] = {}
    for e in inner:
        inputs = port_counts(graph, e.dst)[0]
        ports.setdefault((index[e.src], index[e.dst]), (e.dst_port + 1) / (inputs + 1) - 0.5)
    sizes = sizes or {}
    size = [sizes.get(nid) or node_size(*port_counts(graph, nid), direction) for nid in ids]
    # Lay out top to bottom; left to right is the same with the axes swapped.
    across = [s[0] if direction == TOP_TO_BOTTOM else s[1] for s in size]
    along = [s[1] if direction == TOP_TO_BOTTOM else s[0] for s in size]
    g = _layered(len(ids), pairs, ports)
    _reduce_crossings(g)
    widths = across + [0.0] * (len(g.rank) - len(ids))
    x = _coordinates(g, widths)
    depth = [0.0] * len(g.layers)
    for v in range(len(ids)):
        depth[g.rank[v]] = max(depth[g.rank[v]], along[v])
    top, layer_top = 0.0, []
    for d in depth:
        layer_top.append(top)
        top += d + LAYER_GAP
    flow = [layer_top[g.rank[v]] + (depth[g.rank[v]] - along[v]) / 2 for v in range(len(ids))]
    cross = [x[v] - across[v] / 2 for v in range(len(ids))]
    if origin is None:
        origin = (
            min(graph.nodes[n].position[0] for n in ids),
            min(graph.nodes[n].position[1] for n in ids),
        )
    low = min(cross)
    if direction == TOP_TO_BOTTOM:
        points = [(c - low + origin[0], f + origin[1]) for c, f in zip(cross, flow, strict=True)]
    else:
        points = [(f + origin[0], c - low + origin[1]) for c, f in zip(cross, flow, strict=True)]
    return dict(zip(ids, points, strict=True))


def layout_command(
    graph: LayerGraph,
    node_ids: list[str] | None = None,
    direction: Direction | None = None,
    sizes: dict[str, Size] | None = None,
) -> MoveNodes | None:
    """The undoable move that lays out the graph (or a selection); None if nothing moves."""
    positions = layered_layout(graph, node_ids, direction, sizes)
    moves = {
        nid: (graph.nodes[nid].position, pos)
        for nid, pos in positions.items()
        if graph.nodes[nid].position != pos
    }
    if not moves:
        return None
    label = "Auto-layout" if node_ids is None else f"Auto-layout {len(moves)} layers"
    return MoveNodes(moves, label)


def count_crossings(graph: LayerGraph, positions: dict[str, Point]) -> int:
    """Edges between the same two layers (equal x, or equal y when the drawing flows left to
    right... either way: the ends' layer coordinate) that cross, with straight lines."""
    segments = [
        (positions[e.src], positions[e.dst])
        for e in graph.edges
        if e.src in positions and e.dst in positions
    ]
    crossings = 0
    for axis in (0, 1):
        other = 1 - axis
        by_layers: dict[tuple[float, float], list[tuple[float, float]]] = defaultdict(list)
        for a, b in segments:
            by_layers[(a[axis], b[axis])].append((a[other], b[other]))
        for group in by_layers.values():
            for i, (a1, b1) in enumerate(group):
                for a2, b2 in group[i + 1 :]:
                    if (a1 - a2) * (b1 - b2) < 0:
                        crossings += 1
    return crossings
