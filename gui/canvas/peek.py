"""A block node opened for reading: its layers drawn in place, inside a frame, read-only.

A block node (a group made with Ctrl+G, an imported nested model, a pretrained backbone) holds
its layers in `params['graph']`. Double-clicking it opens this view: the subgraph laid out where
the block stands, its edges routed, the rest of the drawing moved along to make room. It is a
way of reading, like a fold: the model keeps its block (its freezing, its weights, how it
compiles and exports); double-click the frame to close it. Ctrl+Shift+G is the edit that
replaces the block by its layers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from backend.document.graph import LayerGraph
from backend.editing.geometry import TOP_TO_BOTTOM, Direction, graph_sizes
from backend.editing.layout import layered_layout
from backend.editing.routing import port_points, route_edges
from gui.canvas.items import NAME_PIXELS, EdgeItem, NodeItem
from gui.runtime import theme

PADDING = 24.0
TITLE = 30.0
FRAME_COLOR = QColor("#17BECF")


class PeekItem(QGraphicsItem):
    """The frame around a block's layers, with read-only items for them as its children."""

    def __init__(
        self,
        block_id: str,
        name: str,
        inner: LayerGraph,
        direction: Direction,
        on_close: Callable[[str], None],
    ) -> None:
        super().__init__()
        self.block_id = block_id
        self.name = name
        self.direction = direction
        self.on_close = on_close
        self.setZValue(0.5)
        self.setToolTip(
            f"<b>{name}</b>: the block's {len(inner.nodes)} layers, for reading (the model keeps "
            "its block).<br>Double-click the frame to close; Ctrl+Shift+G ungroups it."
        )
        positions = layered_layout(inner, direction=direction, origin=(PADDING, TITLE))
        sizes = graph_sizes(inner, direction)
        self.nodes: dict[str, NodeItem] = {}
        for nid, node in inner.nodes.items():
            item = NodeItem(node)
            used = max((e.dst_port for e in inner.in_edges(nid)), default=-1) + 1
            outputs = max((e.src_port for e in inner.out_edges(nid)), default=0) + 1
            if outputs > 1:
                item.set_output_labels([f"output {i}" for i in range(outputs)])
            item.rebuild_ports(used)
            item.set_direction(direction)
            item.setFlags(QGraphicsItem.GraphicsItemFlag(0))
            item.setParentItem(self)
            item.setPos(QPointF(*positions[nid]))
            self.nodes[nid] = item
        boxes = {n: (*positions[n], *sizes[n]) for n in inner.nodes}
        right = max((b[0] + b[2] for b in boxes.values()), default=PADDING)
        bottom = max((b[1] + b[3] for b in boxes.values()), default=TITLE)
        self.size = (right + PADDING, bottom + PADDING)
        routes = route_edges(inner.edges, boxes, port_points(inner, boxes, direction), direction)
        for edge, route in routes.items():
            line = EdgeItem(edge, self.nodes[edge.src], self.nodes[edge.dst])
            line.setFlags(QGraphicsItem.GraphicsItemFlag(0))
            line.setParentItem(self)
            line.set_route(route)

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, self.size[0] + 4, self.size[1] + 4)

    def in_point(self) -> QPointF:
        w, h = self.size
        return self.pos() + (
            QPointF(w / 2, 0) if self.direction == TOP_TO_BOTTOM else QPointF(0, h / 2)
        )

    def out_point(self) -> QPointF:
        w, h = self.size
        return self.pos() + (
            QPointF(w / 2, h) if self.direction == TOP_TO_BOTTOM else QPointF(w, h / 2)
        )

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = self.size
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QPainterPath()
        frame.addRoundedRect(QRectF(0, 0, w, h), 12, 12)
        fill = QColor(FRAME_COLOR)
        fill.setAlpha(22)
        painter.fillPath(frame, fill)
        painter.setPen(QPen(FRAME_COLOR, 2, Qt.PenStyle.DashLine))
        painter.drawPath(frame)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(13, min(int(TITLE * 0.8), int(NAME_PIXELS / max(lod, 0.05)))))
        painter.setFont(font)
        painter.setPen(theme.text_color())
        title = QFontMetrics(font).elidedText(
            f"▾ {self.name} (read-only)", Qt.TextElideMode.ElideMiddle, int(w - 24)
        )
        painter.drawText(QRectF(12, 0, w - 24, TITLE), Qt.AlignmentFlag.AlignVCenter, title)

    def mouseDoubleClickEvent(self, event: Any) -> None:
        self.on_close(self.block_id)
        event.accept()
