"""Where each edge's shape label goes once the edges are routed.

A label sits on the middle of its edge unless a layer would cover it there (a skip connection's
middle can run beside the layer it joins); then a little before or after. Edges that fan out
from one output carry the same tensor: where their labels would pile up (a MultiHeadAttention
fed query, key and value from one layer), the shortest edge's label stands for them all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

from PySide6.QtCore import QRectF

from gui.canvas.items import EdgeItem

SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)
"""Where along its edge a label may sit, as a share of the edge's length, in order of choice."""
GAP = 4.0
"""Room kept between two labels (scene units)."""
CELL = 120.0
"""Side of the squares the scene is bucketed into for the overlap tests."""
CROWDED = 24
"""A square holding more rectangles than this has no room for a label (a graph not laid out
yet stacks its layers: the test stays short however many there are)."""

Box = tuple[float, float, float, float]


class _Boxes:
    """Rectangles bucketed by the squares they touch: an overlap test looks at its own
    squares only (a 1,000-layer graph has thousands of labels to place)."""

    def __init__(self, rects: Iterable[QRectF] = ()) -> None:
        self.cells: dict[tuple[int, int], list[Box]] = defaultdict(list)
        for rect in rects:
            self.add(rect)

    def add(self, rect: QRectF) -> None:
        box = _box(rect)
        for key in _cells(box):
            self.cells[key].append(box)

    def hit(self, rect: QRectF) -> bool:
        x1, y1, x2, y2 = box = _box(rect)
        for key in _cells(box):
            cell = self.cells.get(key, ())
            if len(cell) > CROWDED:
                return True
            for a1, b1, a2, b2 in cell:
                if a1 < x2 and x1 < a2 and b1 < y2 and y1 < b2:
                    return True
        return False


def _box(rect: QRectF) -> Box:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def _cells(box: Box) -> Iterator[tuple[int, int]]:
    for x in range(math.floor(box[0] / CELL), math.floor(box[2] / CELL) + 1):
        for y in range(math.floor(box[1] / CELL), math.floor(box[3] / CELL) + 1):
            yield x, y


def place_labels(edges: Iterable[EdgeItem], layers: Iterable[QRectF]) -> None:
    """Place the labels of `edges` clear of the `layers` (the shown nodes and folds, in scene
    coordinates) and of each other; short edges choose first (they have the least room)."""
    labelled = sorted(
        ((item.path().length(), i, item) for i, item in enumerate(edges) if item.label_text),
        key=lambda entry: entry[:2],
    )
    blocked, taken = _Boxes(layers), _Boxes()
    outputs: set[tuple[str, int]] = set()  # outputs whose shape is already shown
    moves: list[tuple[EdgeItem, float, bool]] = []
    for _length, _i, item in labelled:
        if not item.isVisible():
            continue
        output = (item.edge.src, item.edge.src_port)
        spot = _free_spot(item, blocked, taken)
        if spot is None:  # no room: a sibling says it, or it goes where no layer covers it
            spot = _free_spot(item, blocked, _Boxes()) or (SPOTS[0], item.label_rect(at=SPOTS[0]))
            if output in outputs:
                moves.append((item, SPOTS[0], False))
                continue
        moves.append((item, spot[0], True))
        taken.add(spot[1].adjusted(-GAP, -GAP, GAP, GAP))
        outputs.add(output)
    for item, fraction, shown in moves:  # moved last: moving a label re-indexes the scene
        item.place_label(fraction)
        item.show_label(shown)


def _free_spot(item: EdgeItem, blocked: _Boxes, taken: _Boxes) -> tuple[float, QRectF] | None:
    """The first spot along the edge where no layer and no placed label covers its label."""
    for fraction in SPOTS:
        rect = item.label_rect(at=fraction)
        if not taken.hit(rect) and not blocked.hit(rect):
            return fraction, rect
    return None
