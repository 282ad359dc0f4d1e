"""Where each edge's shape label goes once the edges are routed.

A label sits on the middle of its edge unless a layer would cover it there (a skip connection's
middle can run beside the layer it joins); then a little before or after. Edges that fan out
from one output carry the same tensor: where their labels would pile up (a MultiHeadAttention
fed query, key and value from one layer), the shortest edge's label stands for them all.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from gui.canvas.items import EdgeItem

SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)
"""Where along its edge a label may sit, as a share of the edge's length, in order of choice."""
GAP = 4.0
"""Room kept between two labels (scene units)."""


def place_labels(
    scene: QGraphicsScene, edges: Iterable[EdgeItem], covers: tuple[type, ...]
) -> None:
    """Place the labels of `edges` in `scene`, clear of visible items of the `covers` types and
    of each other; short edges choose first (they have the least room)."""
    labelled = sorted(
        (item for item in edges if item.isVisible() and item.label_text),
        key=lambda item: item.path().length(),
    )
    taken: list[QRectF] = []
    outputs: set[tuple[str, int]] = set()  # outputs whose shape is already shown
    for item in labelled:
        output = (item.edge.src, item.edge.src_port)
        rect = _free_spot(scene, item, covers, taken)
        if rect is None:  # no room: a sibling says it, or it goes where no layer covers it
            rect = _free_spot(scene, item, covers, [])
            if output in outputs or rect is None:
                item.place_label(SPOTS[0])
                item.show_label(output not in outputs)
                continue
        item.show_label(True)
        taken.append(rect.adjusted(-GAP, -GAP, GAP, GAP))
        outputs.add(output)


def _free_spot(
    scene: QGraphicsScene, item: EdgeItem, covers: tuple[type, ...], taken: list[QRectF]
) -> QRectF | None:
    """Put the label at the first spot where no layer and no placed label covers it."""
    for fraction in SPOTS:
        item.place_label(fraction)
        rect = item.label_rect()
        if any(rect.intersects(other) for other in taken):
            continue
        if not any(_covers(other, covers) for other in scene.items(rect)):
            return rect
    return None


def _covers(item: QGraphicsItem, covers: tuple[type, ...]) -> bool:
    return isinstance(item, covers) and item.isVisible()
