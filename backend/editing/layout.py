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

Everything is data: positions are top-left corners in scene units, the same as `Node.position`.
Node geometry (sizes, where ports sit) is defined here so that the canvas draws exactly what the
layout planned. Left to right is the top-to-bottom layout with the axes swapped.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from backend.document.graph import LayerGraph
from backend.document.layer_table import layer_info
from backend.editing.commands import AddNode, Macro, MoveNodes

Direction = Literal["TB", "LR"]
TOP_TO_BOTTOM: Direction = "TB"
LEFT_TO_RIGHT: Direction = "LR"
DIRECTIONS: tuple[Direction, ...] = (TOP_TO_BOTTOM, LEFT_TO_RIGHT)

NODE_WIDTH = 190.0
NODE_HEIGHT = 78.0
HEADER_HEIGHT = 22.0
PORT_SPACING = 22.0
"""Between the ports of one side, left to right: between input ports on a node's left edge."""
TB_PORT_SPACING = 34.0
"""Top to bottom: between ports along a node's top or bottom edge."""
OUTPUT_LABEL_HEIGHT = 14.0
LAYER_GAP = 50.0
"""Between consecutive layers, in the direction of flow (room for the edges' curves)."""
NODE_GAP = 44.0
"""Between neighbouring nodes of one layer."""
LANE_GAP = 18.0
"""Between a long edge's lane and its neighbours in a layer."""
SWEEPS = 8
PLACEMENT_PASSES = 6

Point = tuple[float, float]
Size = tuple[float, float]


# ----------------------------------------------------------------- node geometry
def node_size(inputs: int, outputs: int, direction: Direction = TOP_TO_BOTTOM) -> Size:
    """Width and height of a node drawn with `inputs` input ports and `outputs` outputs."""
    if direction == TOP_TO_BOTTOM:
        ports = max(inputs, outputs, 1)
        width = max(NODE_WIDTH, TB_PORT_SPACING * (ports + 1))
        return width, NODE_HEIGHT + (OUTPUT_LABEL_HEIGHT if outputs > 1 else 0.0)
    rows = max(inputs, outputs, 1)
    return NODE_WIDTH, max(NODE_HEIGHT, HEADER_HEIGHT + PORT_SPACING * rows + 12)


def port_offset(
    index: int, count: int, is_output: bool, size: Size, direction: Direction = TOP_TO_BOTTOM
) -> Point:
    """Where port `index` of `count` sits, relative to the node's top-left corner.

    Top to bottom: inputs spread along the top edge, outputs along the bottom edge.
    Left to right: inputs down the left edge below the header, outputs down the right edge
    (one output: level with the body's middle)."""
    width, height = size
    if direction == TOP_TO_BOTTOM:
        x = width * (index + 1) / (count + 1)
        return x, height if is_output else 0.0
    body = height - HEADER_HEIGHT
    y = HEADER_HEIGHT + body * (index + 1) / (count + 1)
    if is_output and count == 1:
        y = height / 2 + HEADER_HEIGHT / 2
    return (NODE_WIDTH if is_output else 0.0), y


def port_counts(graph: LayerGraph, node_id: str) -> tuple[int, int]:
    """How many input and output ports the canvas shows for a node, as far as the graph
    tells (the canvas refines outputs from shape inference)."""
    node = graph.nodes[node_id]
    info = layer_info(node.layer_type)
    used_in = max((e.dst_port for e in graph.in_edges(node_id)), default=-1) + 1
    if info.is_variadic or info.is_operation:
        inputs = max(info.min_inputs, used_in + (0 if info.is_operation else 1), 1)
    elif info.state_inputs:
        inputs = min(info.max_inputs, max(info.min_inputs, used_in + 1))
    else:
        inputs = info.max_inputs
    outputs = max((e.src_port for e in graph.out_edges(node_id)), default=0) + 1
    return inputs, outputs


def graph_sizes(graph: LayerGraph, direction: Direction = TOP_TO_BOTTOM) -> dict[str, Size]:
    return {nid: node_size(*port_counts(graph, nid), direction) for nid in graph.nodes}


def flow_direction(
    graph: LayerGraph, current: Direction = TOP_TO_BOTTOM, ids: Iterable[str] | None = None
) -> Direction:
    """Which way a drawing flows, read from its positions: the other direction only when its
    edges clearly run that way (two thirds of their length), so ordinary edits never flip it."""
    wanted = set(graph.nodes if ids is None else ids)
    across = down = 0.0
    for e in graph.edges:
        if e.src in wanted and e.dst in wanted:
            a, b = graph.nodes[e.src].position, graph.nodes[e.dst].position
            across += abs(b[0] - a[0])
            down += abs(b[1] - a[1])
    if current == TOP_TO_BOTTOM and across > 2 * down:
        return LEFT_TO_RIGHT
    if current == LEFT_TO_RIGHT and down > 2 * across:
        return TOP_TO_BOTTOM
    return current


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


# ----------------------------------------------------------------- room while editing
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
