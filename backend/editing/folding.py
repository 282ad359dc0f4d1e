"""Folds: the blocks a large network is read in, found from its names and its structure.

Folding is a way of *reading* a graph, not an edit of it: a collapsed fold hides its layers
behind one box on the canvas, while the model that is trained, saved and exported stays exactly
as it was (a block node, `backend.editing.blocks`, is the user's own grouping and does change
the model: its layers compile as `block.layer`). Nothing here changes the graph.

Folds come from, in order of trust:
1. **Keras name prefixes**: `conv2_block1_1_conv` belongs to `conv2_block1` inside `conv2`;
   `block2a_expand_conv` to `block2a` inside `block2` (a group of 3 or more layers).
2. **Name suffixes** shared by a cell's layers (`normal_left1_5`, `normal_add_1_5`: cell 5).
3. **Structure**: the layers between two consecutive *cut* layers (layers every path passes
   through, such as Inception's `mixed*` concatenations) form a block named by its last layer.

A group becomes a fold only if it is convex (no path leaves it and comes back: it can be drawn
as one box) and folds nest (laminar); two levels are kept. `compact` gives the display offsets
that close the space collapsed folds leave, so the overview of a 300-layer network fits a screen.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from backend.document.graph import LayerGraph, snake_case
from backend.document.layer_table import layer_info
from backend.editing.geometry import TOP_TO_BOTTOM, Direction

MIN_FOLD = 3
AUTO_FOLD_NODES = 80
"""Graphs with at least this many layers open with their folds collapsed."""
MAX_DEPTH = 2
CHAIN_FOLD = 8
"""A run of at least this many single layers between blocks becomes a fold of its own."""
FOLD_WIDTH = 230.0
FOLD_HEIGHT = 64.0
FOLD_GAP = 50.0
"""The gap left between rows once the space of collapsed folds is closed."""

Box = tuple[float, float, float, float]
_STAGE = re.compile(r"^(.*\d)[a-z]$")


@dataclass(frozen=True)
class Fold:
    key: str
    label: str
    members: frozenset[str]
    exit: str
    """The member the rest of the graph reads (or the last one): the box is drawn above it."""
    parent: str | None = None


def find_folds(graph: LayerGraph, min_size: int = MIN_FOLD) -> list[Fold]:
    """The graph's folds, outer ones first (each with its `parent` fold, if any)."""
    order = graph.topological_order()
    index = {nid: i for i, nid in enumerate(order)}
    candidates: list[tuple[str, frozenset[str]]] = []
    for prefix, ids in _name_groups(graph).items():
        candidates.append((prefix, frozenset(ids)))
    candidates += _segments(graph, order, index)
    accepted: list[tuple[str, frozenset[str]]] = []
    seen: set[frozenset[str]] = set()
    for label, members in sorted(candidates, key=lambda c: -len(c[1])):
        if len(members) < min_size or members in seen or len(members) == len(order):
            continue
        hull = _hull(graph, members, index)
        if hull is None or _is_short_chain(graph, hull):
            continue
        members = hull
        if all(members <= m or members >= m or not members & m for _l, m in accepted):
            accepted.append((label, members))
            seen.add(members)
    folds: list[Fold] = []
    for label, members in accepted:  # largest first: parents come before their children
        parents = [f for f in folds if members < f.members]
        parent = min(parents, key=lambda f: len(f.members)) if parents else None
        depth = 1 + (_depth(parent, folds) if parent else 0)
        if depth > MAX_DEPTH:
            continue
        exit_id = max(members, key=index.__getitem__)
        key = f"{label}#{len(folds)}"
        folds.append(Fold(key, label, members, exit_id, parent.key if parent else None))
    return folds


def _depth(fold: Fold, folds: list[Fold]) -> int:
    by_key = {f.key: f for f in folds}
    depth, current = 1, fold
    while current.parent is not None:
        depth += 1
        current = by_key[current.parent]
    return depth


def _name_groups(graph: LayerGraph) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for nid, node in graph.nodes.items():
        tokens = node.name.split("_")
        keys: set[str] = set()
        for k in range(1, len(tokens)):
            keys.add("_".join(tokens[:k]))
            stage = _STAGE.match(tokens[k - 1])
            if stage:
                keys.add("_".join([*tokens[: k - 1], stage.group(1)]))
        if len(tokens) > 2 and tokens[-1].isdigit():  # a cell's number (NASNet: _5, _stem_1)
            keys.add("…_" + tokens[-1])
            if tokens[-2].isalpha():
                keys.add("…_" + "_".join(tokens[-2:]))
        for key in keys:
            groups[key].append(nid)
    return groups


def _segments(
    graph: LayerGraph, order: list[str], index: dict[str, int]
) -> list[tuple[str, frozenset[str]]]:
    """The runs of layers between consecutive cut layers, each named by its last layer."""
    cover = [0] * (len(order) + 1)
    for e in graph.edges:
        a, b = index[e.src], index[e.dst]
        if b - a >= 2:
            cover[a + 1] += 1
            cover[b] -= 1
    cuts, running = [], 0
    for i in range(len(order)):
        running += cover[i]
        if running == 0:
            cuts.append(i)
    segments = []
    for a, b in itertools.pairwise(cuts):
        if b - a > 1:
            members = frozenset(order[a + 1 : b + 1])
            segments.append((graph.nodes[order[b]].name, members))
    run: list[str] = []  # a long run of single layers (a stem) reads as one block too
    for a, b in zip(cuts, [*cuts[1:], len(order)], strict=True):
        nid = order[a]
        if b - a == 1 and not layer_info(graph.nodes[nid].layer_type).is_input:
            run.append(nid)
            continue
        if len(run) >= CHAIN_FOLD:
            label = f"{graph.nodes[run[0]].name} … {graph.nodes[run[-1]].name}"
            segments.append((label, frozenset(run)))
        run = []
    return segments


def _is_short_chain(graph: LayerGraph, members: frozenset[str]) -> bool:
    """Three layers in a row (conv, norm, activation) are read at a glance: no fold."""
    if len(members) > 3:
        return False
    inner = [e for e in graph.edges if e.src in members and e.dst in members]
    return len(inner) == len(members) - 1


def _hull(
    graph: LayerGraph, members: frozenset[str], index: dict[str, int]
) -> frozenset[str] | None:
    """The group with every layer on a path between two of its layers, or None when such a
    layer has a name of its own (the group is not one piece: `mixed3` between two branches
    of `conv2d_*`). Layers Keras named by their type (`activation_103`, `add`) join the
    group they sit inside."""
    first = min(index[m] for m in members)
    last = max(index[m] for m in members)
    ahead = _reach(members, lambda n: graph.successors(n), lambda n: index[n] <= last)
    behind = _reach(
        members, lambda n: [e.src for e in graph.in_edges(n)], lambda n: index[n] >= first
    )
    inside = (ahead & behind) - members
    if any(not _anonymous(graph, nid) for nid in inside):
        return None
    return members | inside


def _reach(
    start: frozenset[str], step: Callable[[str], list[str]], keep: Callable[[str], bool]
) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen and keep(nxt):
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _anonymous(graph: LayerGraph, node_id: str) -> bool:
    node = graph.nodes[node_id]
    return re.fullmatch(re.escape(snake_case(node.layer_type)) + r"(_\d+)?", node.name) is not None


def visible_fold(folds: list[Fold], collapsed: set[str]) -> dict[str, str]:
    """For every hidden layer, the key of the collapsed fold that shows it (the outermost)."""
    shown: dict[str, str] = {}
    for fold in folds:  # outer folds come first
        if fold.key in collapsed:
            for nid in fold.members:
                shown.setdefault(nid, fold.key)
    return shown


def fold_box(fold: Fold, boxes: dict[str, Box], direction: Direction = TOP_TO_BOTTOM) -> Box:
    """Where a collapsed fold is drawn: at the top (or left) of its layers, above its exit."""
    xs = [boxes[m] for m in fold.members if m in boxes]
    top = min(b[1] for b in xs) if direction == TOP_TO_BOTTOM else min(b[0] for b in xs)
    ex, ey, ew, eh = boxes[fold.exit]
    if direction == TOP_TO_BOTTOM:
        return (ex + ew / 2 - FOLD_WIDTH / 2, top, FOLD_WIDTH, FOLD_HEIGHT)
    return (top, ey + eh / 2 - FOLD_HEIGHT / 2, FOLD_WIDTH, FOLD_HEIGHT)


def compact(
    shown: dict[str, Box],
    hidden: list[Box] | None = None,
    direction: Direction = TOP_TO_BOTTOM,
) -> dict[str, float]:
    """Offsets along the flow (negative: up, or left) that close the space the `hidden` boxes
    (the layers of collapsed folds) leave between the boxes `shown`, down to FOLD_GAP. Empty
    space the user left stays; boxes keep their order."""
    axis = 1 if direction == TOP_TO_BOTTOM else 0
    holes = _union(sorted((b[axis], b[axis] + b[axis + 2]) for b in hidden or []))
    spans = sorted((b[axis], b[axis] + b[axis + 2]) for b in shown.values())
    closed: list[tuple[float, float]] = []  # (where a closed band ends, total closed so far)
    total, reach = 0.0, float("-inf")
    for start, end in spans:
        if reach != float("-inf") and start - reach > FOLD_GAP:
            covered = sum(max(0.0, min(b, start) - max(a, reach)) for a, b in holes)
            total += max(0.0, min(start - reach - FOLD_GAP, covered))
            closed.append((start, total))
        reach = max(reach, end)
    starts = [c[0] for c in closed]
    offsets = {}
    for key, box in shown.items():
        i = bisect.bisect_right(starts, box[axis])
        offsets[key] = -closed[i - 1][1] if i else 0.0
    return offsets


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The stretches hidden layers take, rows and the gaps between them together."""
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 2 * FOLD_GAP:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
