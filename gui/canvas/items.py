"""Canvas items: a node per layer, its ports, and an edge per connection.

Items only draw what the model holds; every change goes through `backend.document.graph.LayerGraph`
and comes back to them as an event (see `gui.canvas.scene.GraphScene`).

A node has one output port per tensor its layer returns (as shape inference finds them: an
LSTM with `return_state` shows `output`, `h`, `c`), labelled inside the node's right edge when
there are several; an edge starts at the port its `src_port` names.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from backend.analysis.summary import format_count
from backend.document.graph import Edge, Node
from backend.document.layer_table import layer_info
from backend.editing.geometry import (
    HEADER_HEIGHT,
    OUTPUT_LABEL_HEIGHT,
    TOP_TO_BOTTOM,
    Direction,
    Point,
    node_size,
    port_offset,
)
from backend.keras_bridge.operations import input_count, operation_summary, operation_title
from backend.keras_bridge.shapes import NodeShape, format_shape
from gui.runtime import theme

PORT_RADIUS = 6.0
READABLE_ZOOM = 0.6
"""The least zoom at which every layer's name still reads (about 9 px on screen): opening or
fitting a graph never goes below it."""
DETAIL_LOD = 0.59
"""Level of detail, by zoom. From here up a node shows everything: type, name, key
parameters, output shape; edges show their shapes and ports are drawn. Just under
READABLE_ZOOM, so that a graph opens with its shapes readable (its text grows in the scene
as the zoom goes down, to stay TEXT_PIXELS high on screen)."""
NAME_LOD = 0.12
"""Between this zoom and DETAIL_LOD a node drops its parameters first and keeps its type and
name, the name drawn at a size the eye can still read; below it, a coloured box."""
NAME_PIXELS = 9.0
"""The least height on screen of a node's name when zoomed out."""
TEXT_PIXELS = NAME_PIXELS
"""The least height on screen of any text a node or an edge draws in full detail."""
BODY_PIXELS = 12
"""Text sizes in the scene at zoom 1 and above: a node's lines, its header, edge labels."""
HEADER_PIXELS = 13
LABEL_PIXELS = 11
OUTPUT_LABEL_WIDTH = 84.0
ERROR_LINES = ("⚠ error (hover for details)", "⚠ error (hover to read)", "⚠ error")
"""A node's error line, the longest that fits (zoomed out its text is larger)."""
"""Room for the names of a node's outputs (`backward_h`) inside its right edge."""


def readable_font(pixels: int, lod: float, bold: bool = False) -> QFont:
    """A font `pixels` high in the scene, larger when zoomed out so that it stays at least
    TEXT_PIXELS high on screen (down to DETAIL_LOD, where everything still fits a node)."""
    least = TEXT_PIXELS / max(lod, DETAIL_LOD)
    return QFont(_font(max(pixels, math.ceil(least - 0.01)), bold))  # 0.6 * 15 px: 9, not 16


@functools.cache
def _font(pixels: int, bold: bool) -> QFont:
    """Fonts made once per size (painting a large graph asks for them per node)."""
    font = QFont()
    font.setBold(bold)
    font.setPixelSize(pixels)
    return font


def key_params_text(node: Node) -> str:
    """`128 relu` for a Dense, `16 (3, 3) relu` for a Conv2D, `axis=1` for an operation..."""
    info = layer_info(node.layer_type)
    if info.is_operation:
        return operation_summary(node.params)
    parts = []
    for key in info.key_params:
        value = node.params.get(key)
        if value is None or value is False:
            continue
        if value is True:
            parts.append(key)
        elif isinstance(value, (list, tuple)):
            parts.append(format_shape(value) if key == "shape" else "x".join(map(str, value)))
        elif isinstance(value, float):
            parts.append(f"{value:g}")
        else:
            parts.append(str(value))
    return " ".join(parts)


class PortItem(QGraphicsEllipseItem):
    """An input (left) or output (right) connection point of a node."""

    def __init__(self, node_item: NodeItem, is_output: bool, index: int, label: str) -> None:
        r = PORT_RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r, node_item)
        self.node_item = node_item
        self.is_output = is_output
        self.index = index
        self.label = label
        self.setAcceptHoverEvents(True)
        self.setBrush(QBrush(QColor("#FFFFFF")))
        self.setPen(QPen(QColor("#555555"), 1.5))
        if is_output:
            which = "output" if label == "output" else f"output {index} ({label})"
            self.setToolTip(f"{which} of {node_item.node.name}")
        else:
            self.setToolTip(f"input: {label}")
        self.setZValue(2)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self) -> str:
        return self.node_item.node.id

    def set_connected(self, connected: bool) -> None:
        color = theme.category_color(layer_info(self.node_item.node.layer_type).category)
        self.setBrush(QBrush(color if connected else QColor("#FFFFFF")))

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) >= DETAIL_LOD:  # type: ignore[attr-defined]
            super().paint(painter, option, widget)

    def hoverEnterEvent(self, event: Any) -> None:
        self.setScale(1.4)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: Any) -> None:
        self.setScale(1.0)
        super().hoverLeaveEvent(event)


class NodeItem(QGraphicsItem):
    """One layer on the canvas: type, name, key parameters, output shape, error mark."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.info = layer_info(node.layer_type)
        self.shape_result: NodeShape | None = None
        self.param_count: int | None = None
        self.trainable_count: int | None = None
        self.warnings: list[str] = []
        self.severe = False
        """Parameters of the node's layer, from the analysis panel (None: not known yet)."""
        self.is_output = False
        self.input_ports: list[PortItem] = []
        self.output_ports: list[PortItem] = []
        self.output_labels: list[str] = ["output"]
        self.inferred_outputs = 1
        """How many outputs inference last found for the layer (kept while it has no shape)."""
        self._connected_inputs = 0
        self.direction: Direction = TOP_TO_BOTTOM
        self.size = node_size(1, 1, self.direction)
        self.on_moved: Callable[[str], None] | None = None
        """Called with the node's id whenever the item moves (the scene redraws its edges)."""
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setPos(QPointF(*node.position))
        self.rebuild_ports(0)
        self.refresh()

    @property
    def output_port(self) -> PortItem | None:
        """Output 0, the only one of most layers."""
        return self.output_ports[0] if self.output_ports else None

    # ----------------------------------------------------------------- geometry
    def rebuild_ports(self, connected_inputs: int) -> None:
        """Lay out ports; a merge layer always shows one free input beyond those connected,
        a recurrent layer one free starting-state input once its sequence is connected."""
        self._connected_inputs = connected_inputs
        if self.info.is_operation:  # as many as the call takes tensors
            count = max(1, connected_inputs, input_count(self.node.params))
            labels = [f"input {i}" for i in range(count)]
        elif self.info.is_variadic:
            count = max(self.info.min_inputs, connected_inputs + 1)
            labels = [f"input {i}" for i in range(count)]
        elif self.info.state_inputs:
            count = min(self.info.max_inputs, max(self.info.min_inputs, connected_inputs + 1))
            labels = list(self.info.input_names[:count])
        else:
            count = self.info.max_inputs
            labels = list(self.info.input_names[:count])
        if len(self.input_ports) != count:
            _drop(self.input_ports)
            self.prepareGeometryChange()
            self.input_ports = [PortItem(self, False, i, labels[i]) for i in range(count)]
        if [p.label for p in self.output_ports] != self.output_labels:
            _drop(self.output_ports)
            self.prepareGeometryChange()
            self.output_ports = [
                PortItem(self, True, i, label) for i, label in enumerate(self.output_labels)
            ]
        self.place_ports()

    def set_direction(self, direction: Direction) -> None:
        """Ports on the top and bottom edges (top to bottom) or the left and right edges."""
        if direction != self.direction:
            self.direction = direction
            self.place_ports()

    def place_ports(self) -> None:
        size = node_size(len(self.input_ports), len(self.output_ports), self.direction)
        if size != self.size:
            self.prepareGeometryChange()
            self.size = size
        for ports, is_output in ((self.input_ports, False), (self.output_ports, True)):
            for i, port in enumerate(ports):
                port.setPos(QPointF(*port_offset(i, len(ports), is_output, size, self.direction)))
        self.update()

    def set_output_labels(self, labels: list[str]) -> bool:
        """One output port per label (at least one); True when the ports changed."""
        labels = labels or ["output"]
        if labels == self.output_labels:
            return False
        self.output_labels = list(labels)
        self.rebuild_ports(self._connected_inputs)
        self.update()
        return True

    def boundingRect(self) -> QRectF:
        m = 4.0
        return QRectF(-m, -m, self.size[0] + 2 * m, self.size[1] + 2 * m)

    # ----------------------------------------------------------------- content
    def refresh(self) -> None:
        """Re-read the node and its inference result; repaint and update the tooltip."""
        tip = [f"<b>{self.info.type_name}</b> '{self.node.name}'", self.info.description]
        if self.shape_result is not None and self.shape_result.error:
            tip.append(f"<span style='color:#D62728'>{self.shape_result.error}</span>")
        elif self.shape_result is not None and self.shape_result.ok:
            tip.append(f"output {format_shape(self.shape_result.shape)}")
        for warning in getattr(self, "warnings", []):
            tip.append(f"<span style='color:#B07800'>⚠ {warning}</span>")
        self.setToolTip("<br>".join(tip))
        self.update()

    def set_shape(self, result: NodeShape | None) -> None:
        self.shape_result = result
        self.refresh()

    def set_warnings(self, warnings: list[str], severe: bool = False) -> None:
        """Findings of the analysis on this node: a badge (red when one is an error that
        blocks a good training, yellow for advice) and lines in the tooltip."""
        if warnings != self.warnings or severe != self.severe:
            self.warnings, self.severe = list(warnings), severe
            self.refresh()

    def set_param_count(self, count: int | None, trainable: int | None = None) -> None:
        """The layer's parameters; `trainable` of them, shown when the user froze some (a
        pretrained backbone, a layer with `trainable: false`)."""
        if (count, trainable) != (self.param_count, self.trainable_count):
            self.param_count, self.trainable_count = count, trainable
            self.update()

    def params_text(self) -> str:
        """`939.1 K params`; `939.1 K params, frozen` or `346.9 K of 939.1 K train` for a
        frozen or partly frozen block or layer (fine-tuning changes it)."""
        text = f"{format_count(self.param_count)} params"
        trainable = self.trainable_count
        if trainable is None or not self.param_count or trainable >= self.param_count:
            return text
        if not (self.info.is_block or self.node.params.get("trainable") is False):
            return text  # a BatchNormalization's moving statistics are not the user's freezing
        if trainable == 0:
            return f"{text}, frozen"
        return f"{format_count(trainable)} of {format_count(self.param_count)} train"

    def title(self) -> str:
        """The header: the layer type; for a keras.ops call its operation, `Mean (op)`."""
        if self.info.is_operation:
            return f"{operation_title(self.node.params)} (op)"
        return self.info.type_name

    @property
    def has_error(self) -> bool:
        return bool(self.shape_result is not None and self.shape_result.error)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = self.size
        color = theme.category_color(self.info.category)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        if lod < NAME_LOD:  # zoomed far out: a box in the category colour
            painter.fillRect(QRectF(0, 0, w, h), color)
            if self.has_error or self.isSelected():
                painter.setPen(
                    QPen(theme.ERROR_COLOR if self.has_error else theme.SELECTED_COLOR, 6)
                )
                painter.drawRect(QRectF(0, 0, w, h))
            return
        self._paint_body(painter, color, w, h)
        title = self.title() + ("  ⇥ output" if self.is_output else "")
        if lod < DETAIL_LOD:  # parameters go first, the name last
            self._paint_name_only(painter, title, lod, w, h)
            return
        self._paint_header(painter, title, w, lod)
        self._paint_lines(painter, w, h, lod)

    def _paint_lines(self, painter: QPainter, w: float, h: float, lod: float) -> None:
        """Name; key parameters and the parameter count; output shape (or the error). Zoomed
        out, the text grows to stay readable and the count gives way to the parameters."""
        normal = readable_font(BODY_PIXELS, lod)
        metrics = QFontMetricsF(normal)
        line = max(16.0, metrics.ascent() + metrics.descent() * 0.5)  # clear of the port
        bottom_labels = self.direction == TOP_TO_BOTTOM and len(self.output_ports) > 1
        body = h - HEADER_HEIGHT - (OUTPUT_LABEL_HEIGHT if bottom_labels else 0.0)
        top = HEADER_HEIGHT + max(0.0, min(4.0, (body - 3 * line) / 2))
        labels_w = 0.0 if bottom_labels else self._paint_output_labels(painter, lod)
        text_w = w - 24 - labels_w
        painter.setFont(normal)
        painter.setPen(theme.text_color())
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        left |= int(Qt.TextFlag.TextDontClip)  # lines are set tight: an underscore hangs below
        name = _elided(normal, self.node.name, text_w)
        painter.drawText(QRectF(12, top, text_w, line), left, name)
        painter.setPen(theme.muted_text())
        params = key_params_text(self.node)
        params_w = text_w
        if self.param_count:  # on the parameters' line, so a long name keeps its room
            count = self.params_text()
            room = text_w - metrics.horizontalAdvance(count) - 8
            if metrics.horizontalAdvance(params) <= room or lod >= 0.75:
                right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                painter.drawText(QRectF(12, top + line, text_w, line), right, count)
                params_w = room
        painter.drawText(
            QRectF(12, top + line, params_w, line), left, _elided(normal, params, params_w)
        )
        if self.has_error:
            painter.setPen(theme.ERROR_COLOR)
            fits = [t for t in ERROR_LINES if metrics.horizontalAdvance(t) <= w - 24]
            shown = fits[0] if fits else ERROR_LINES[-1]
        elif self.shape_result is not None and self.shape_result.ok:
            painter.setPen(theme.text_color())
            shown = _shape_line(normal, self.shape_result.shape, w - 24)
        else:
            shown = ""
        painter.drawText(QRectF(12, top + 2 * line, w - 24, line), left, shown)
        if bottom_labels:
            self._paint_output_labels(painter, lod)

    def _paint_body(self, painter: QPainter, color: QColor, w: float, h: float) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QPainterPath()
        body.addRoundedRect(QRectF(0, 0, w, h), 8, 8)
        painter.fillPath(body, theme.node_body())
        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)
        header.addRoundedRect(QRectF(0, 0, w, HEADER_HEIGHT), 8, 8)
        header.addRect(QRectF(0, HEADER_HEIGHT / 2, w, HEADER_HEIGHT / 2))
        painter.fillPath(header.simplified(), color)
        if self.has_error:
            pen = QPen(theme.ERROR_COLOR, 3)
        elif self.isSelected():
            pen = QPen(theme.SELECTED_COLOR, 2.5)
        else:
            pen = QPen(color.darker(130), 1.2)
        painter.setPen(pen)
        painter.drawPath(body)

    def _paint_header(self, painter: QPainter, title: str, w: float, lod: float) -> None:
        bold = readable_font(HEADER_PIXELS, lod, bold=True)
        painter.setFont(bold)
        painter.setPen(QColor("#FFFFFF"))
        badge_w = 24.0 if self.has_error or self.warnings else 0.0
        title = _elided(bold, title, w - 20 - badge_w)
        painter.drawText(QRectF(10, 0, w - 20, HEADER_HEIGHT), Qt.AlignmentFlag.AlignVCenter, title)
        badge = "✖" if self.has_error else ("⚠" if self.warnings else "")
        if badge:  # error or warning badge in the header's corner
            red = self.has_error or self.severe
            painter.setBrush(theme.ERROR_COLOR if red else theme.WARNING_COLOR)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QRectF(w - 22, 3, 16, 16))
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(QRectF(w - 22, 3, 16, 16), Qt.AlignmentFlag.AlignCenter, badge)

    def _paint_name_only(
        self, painter: QPainter, title: str, lod: float, w: float, h: float
    ) -> None:
        """Zoomed out: the type small in the header, the name as large as the eye needs."""
        small = QFont()
        small.setBold(True)
        small.setPixelSize(max(8, min(int(HEADER_HEIGHT * 0.7), int(NAME_PIXELS / lod))))
        painter.setFont(small)
        painter.setPen(QColor("#FFFFFF"))
        header = QRectF(8, 0, w - 16, HEADER_HEIGHT)
        painter.drawText(header, Qt.AlignmentFlag.AlignVCenter, _elided(small, title, w - 16))
        name_font = QFont()
        name_font.setPixelSize(max(12, min(int(h - HEADER_HEIGHT - 6), int(NAME_PIXELS / lod))))
        painter.setFont(name_font)
        painter.setPen(theme.ERROR_COLOR if self.has_error else theme.text_color())
        body = QRectF(6, HEADER_HEIGHT, w - 12, h - HEADER_HEIGHT)
        text = _elided(name_font, self.node.name, w - 12)
        painter.drawText(body, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_output_labels(self, painter: QPainter, lod: float) -> float:
        """Each output's name beside its port, when there are several; the width they take."""
        if len(self.output_ports) < 2:
            return 0.0
        font = readable_font(LABEL_PIXELS, lod)
        painter.setPen(theme.muted_text())
        if self.direction == TOP_TO_BOTTOM:  # above each port on the bottom edge
            font.setPixelSize(min(font.pixelSize(), int(OUTPUT_LABEL_HEIGHT)))  # their strip
            painter.setFont(font)
            h = self.size[1]
            for port in self.output_ports:
                x = port.pos().x()
                rect = QRectF(x - 40, h - OUTPUT_LABEL_HEIGHT - 2, 80, OUTPUT_LABEL_HEIGHT)
                painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), port.label)
            return 0.0
        painter.setFont(font)
        line = QFontMetricsF(font).height()
        width = 0.0
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for port in self.output_ports:
            y = port.pos().y() - line / 2
            rect = QRectF(self.size[0] - 10 - OUTPUT_LABEL_WIDTH, y, OUTPUT_LABEL_WIDTH, line)
            painter.drawText(rect, right, port.label)
            width = max(width, painter.fontMetrics().horizontalAdvance(port.label) + 6.0)
        return min(width, OUTPUT_LABEL_WIDTH)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        moved = change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
        if moved and self.on_moved is not None:
            self.on_moved(self.node.id)
        return super().itemChange(change, value)


class EdgeItem(QGraphicsPathItem):
    """A connection, drawn as a curve from an output port to an input port, with its shape.

    The shape label is painted by the edge itself, and only when zoomed in enough to read it.
    """

    def __init__(self, edge: Edge, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.edge = edge
        self.src = src
        self.dst = dst
        self.label_text = ""
        self.label_shown = True
        """False where a sibling edge from the same output shows the same shape nearby."""
        self._label_at = 0.5
        self._label_pos = QPointF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.update_path()

    def port_points(self) -> tuple[QPointF, QPointF] | None:
        """Where the edge leaves its source and enters its target (None while a port is
        missing, between two rebuilds of a node's ports)."""
        ports = self.dst.input_ports
        outs = self.src.output_ports
        if self.edge.dst_port >= len(ports) or self.edge.src_port >= len(outs):
            return None
        return outs[self.edge.src_port].scenePos(), ports[self.edge.dst_port].scenePos()

    def update_path(self) -> None:
        """A direct curve between the ports (while a node is dragged; the scene then routes)."""
        ends = self.port_points()
        if ends is not None:
            self._set_path(flow_curve(*ends, self.src.direction))

    def set_route(self, points: list[Point]) -> None:
        """Draw the route `backend.editing.routing` planned: curves between the rows it
        passes, straight runs through their gaps."""
        if len(points) < 2:
            return
        direction = self.src.direction
        path = QPainterPath(QPointF(*points[0]))
        for i in range(len(points) - 1):
            a, b = QPointF(*points[i]), QPointF(*points[i + 1])
            if i % 2:
                path.lineTo(b)
            else:
                path.connectPath(flow_curve(a, b, direction))
        self._set_path(path)

    def _set_path(self, path: QPainterPath) -> None:
        self.prepareGeometryChange()
        self.setPath(path)
        self._label_pos = path.pointAtPercent(self._label_at)
        self._restyle()

    def place_label(self, fraction: float) -> None:
        """Put the shape label `fraction` of the way along the edge (0.5: its middle)."""
        if fraction != self._label_at:
            self.prepareGeometryChange()
            self._label_at = fraction
            self._label_pos = self.path().pointAtPercent(fraction)
            self.update()

    def show_label(self, shown: bool) -> None:
        if shown != self.label_shown:
            self.prepareGeometryChange()
            self.label_shown = shown
            self.update()

    def set_shape_text(self, text: str) -> None:
        if text != self.label_text:
            self.prepareGeometryChange()
            self.label_text = text
            self.update()

    def label_rect(self, lod: float = DETAIL_LOD, at: float | None = None) -> QRectF:
        """Where the shape label sits at a zoom (or would, `at` that share of the edge's
        length): on the edge, which passes behind it (top to bottom), or just above it (left
        to right, where edges between neighbours are short); the largest, at DETAIL_LOD,
        bounds the item."""
        width, height = _label_size(self.label_text, readable_font(LABEL_PIXELS, lod).pixelSize())
        p = self._label_pos if at is None else self.path().pointAtPercent(at)
        top = p.y() - height / 2 if self.src.direction == TOP_TO_BOTTOM else p.y() - height - 1
        return QRectF(p.x() - width / 2, top, width, height)

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        if not (self.label_text and self.label_shown):
            return rect
        return rect.united(self.label_rect())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        if lod < DETAIL_LOD:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.pen())
        painter.drawPath(self.path())
        if self.label_text and self.label_shown and lod >= DETAIL_LOD:
            self._paint_label(painter, lod)

    def _paint_label(self, painter: QPainter, lod: float) -> None:
        """The tensor's shape on a patch of the canvas's colour, so the line does not cross
        its digits; at least TEXT_PIXELS high on screen."""
        rect = self.label_rect(lod)
        background = theme.canvas_background()
        background.setAlpha(235)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.setFont(readable_font(LABEL_PIXELS, lod))
        painter.setPen(theme.text_color() if self.isSelected() else theme.muted_text())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self.label_text)

    def _restyle(self) -> None:
        color = theme.SELECTED_COLOR if self.isSelected() else QColor("#8A8F98")
        self.setPen(QPen(color, 2.6 if self.isSelected() else 1.8))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._restyle()
        return super().itemChange(change, value)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())


@functools.cache
def _label_size(text: str, pixels: int) -> tuple[float, float]:
    """An edge label's patch: its text and a little room around it."""
    metrics = QFontMetricsF(_font(pixels, False))
    return metrics.horizontalAdvance(text) + metrics.height() * 0.6, metrics.height() + 2


def _shape_line(font: QFont, shape: tuple[int | None, ...] | None, width: float) -> str:
    """`→ (None, 114, 114, 64)`; where that does not fit, without the batch axis
    (`→ 114×114×64`, as the edges write it), elided only if even that is too long."""
    if shape is None:
        return ""
    full = "→ " + format_shape(shape)
    if QFontMetricsF(font).horizontalAdvance(full) <= width:
        return full
    return _elided(font, "→ " + short_shape(shape), width)


def _elided(font: QFont, text: str, width: float) -> str:
    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideMiddle, int(width))


def _drop(ports: list[PortItem]) -> None:
    for port in ports:
        port.setParentItem(None)
        if port.scene() is not None:
            port.scene().removeItem(port)


def bezier(a: QPointF, b: QPointF) -> QPainterPath:
    """A curve from an output port `a` to an input port `b` of a left-to-right drawing;
    wraps around when b is behind a."""
    path = QPainterPath(a)
    if b.x() >= a.x() + 30 or abs(b.y() - a.y()) < 60:
        dx = max(40.0, abs(b.x() - a.x()) * 0.5)
        path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
        return path
    mid_y = (a.y() + b.y()) / 2
    path.cubicTo(QPointF(a.x() + 70, a.y()), QPointF(a.x() + 70, mid_y), QPointF(a.x(), mid_y))
    path.lineTo(QPointF(b.x(), mid_y))
    path.cubicTo(QPointF(b.x() - 70, mid_y), QPointF(b.x() - 70, b.y()), b)
    return path


def flow_curve(a: QPointF, b: QPointF, direction: Direction = TOP_TO_BOTTOM) -> QPainterPath:
    """A curve leaving `a` and entering `b` along the drawing's flow (down, or right)."""
    if direction != TOP_TO_BOTTOM:
        return bezier(a, b)
    flipped = bezier(QPointF(a.y(), a.x()), QPointF(b.y(), b.x()))
    path = QPainterPath()
    for i in range(flipped.elementCount()):  # the same curve with the axes swapped
        e = flipped.elementAt(i)
        point = QPointF(e.y, e.x)
        if e.isMoveTo():
            path.moveTo(point)
        elif e.isLineTo():
            path.lineTo(point)
        elif e.isCurveTo():
            c1 = point
            e2, e3 = flipped.elementAt(i + 1), flipped.elementAt(i + 2)
            path.cubicTo(c1, QPointF(e2.y, e2.x), QPointF(e3.y, e3.x))
    return path


def short_shape(shape: tuple[int | None, ...] | None) -> str:
    """An edge label: the sample shape without the batch axis, as `8×8×16`."""
    if shape is None:
        return ""
    dims = ["?" if d is None else str(d) for d in shape[1:]]
    return "×".join(dims) if dims else "scalar"
