"""The canvas view: zoom, pan, grid, and drops from the palette."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView, QMenu

from backend.editing.geometry import Direction
from gui.canvas.items import READABLE_ZOOM, NodeItem
from gui.canvas.scene import GraphScene
from gui.runtime import theme

LAYER_MIME = "application/x-deepcanvas-layer"


class CanvasView(QGraphicsView):
    layer_dropped = Signal(str, QPointF)
    resized = Signal()

    def __init__(self, scene: GraphScene, parent: Any = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self._pan_from: QPointF | None = None
        self._grow = QTimer(self)
        self._grow.setSingleShot(True)
        self._grow.setInterval(200)
        self._grow.timeout.connect(self.update_scene_rect)
        scene.changed.connect(lambda _rects: self._grow.start())
        self.update_scene_rect()

    def update_scene_rect(self) -> None:
        """Room to pan around the graph, however far it spreads."""
        scene = self.scene()
        if scene is None:  # the window is closing
            return
        items = scene.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000)
        self.setSceneRect(items.united(QRectF(-3000, -3000, 6000, 6000)))

    @property
    def graph_scene(self) -> GraphScene:
        scene = self.scene()
        assert isinstance(scene, GraphScene)
        return scene

    # ----------------------------------------------------------------- look
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.canvas_background())
        if self.transform().m11() < 0.4:
            return
        painter.setPen(QPen(theme.grid_color(), 1))
        g = theme.GRID
        left = math.floor(rect.left() / g) * g
        top = math.floor(rect.top() / g) * g
        x = left
        while x < rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += g
        y = top
        while y < rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += g

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    # ----------------------------------------------------------------- zoom and pan
    def zoom_by(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(0.1 / current, min(4.0 / current, factor))
        self.scale(factor, factor)

    def fit_all(self) -> None:
        """Show the whole graph, but never smaller than names can be read: a graph too large
        for that opens at its inputs at a readable zoom (the minimap shows the rest)."""
        if not self.graph_scene.node_items:
            return
        self.update_scene_rect()
        rect = self.graph_scene.visible_rect()
        self.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
        zoom = self.transform().m11()
        if READABLE_ZOOM <= zoom <= 1.0:
            return
        self.resetTransform()
        if zoom > 1.0:  # a small graph: natural size, centred
            self.centerOn(rect.center())
            return
        self.scale(READABLE_ZOOM, READABLE_ZOOM)
        self.show_inputs(rect)

    def show_inputs(self, whole: QRectF) -> None:
        """Scroll to where the graph starts: its inputs at the top (or left) of the view."""
        scene = self.graph_scene
        inputs = [
            scene.node_items[n.id].sceneBoundingRect()
            for n in scene.graph.input_nodes()
            if scene.node_items[n.id].isVisible()
        ] or [whole]
        start = QRectF()
        for r in inputs:
            start = start.united(r)
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        if scene.direction == "TB":
            x = start.center().x() if start.width() < visible.width() else whole.left()
            self.centerOn(QPointF(x, whole.top() - 40 + visible.height() / 2))
        else:
            y = start.center().y() if start.height() < visible.height() else whole.top()
            self.centerOn(QPointF(whole.left() - 40 + visible.width() / 2, y))

    def wheelEvent(self, event: Any) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015**delta)
        event.accept()

    def mousePressEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: Any) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: Any) -> None:
        if self._pan_from is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: Any) -> None:
        """Right-click: reading a large graph (blocks) and laying it out."""
        scene = self.graph_scene
        at = self.mapToScene(event.pos())
        node = next((i for i in scene.items(at) if isinstance(i, NodeItem)), None)
        menu = QMenu(self)
        if node is not None and any(node.node.id in f.members for f in scene.folds):
            menu.addAction("Collapse this block", lambda: scene.collapse_around(node.node.id))
        menu.addAction("Collapse into blocks (by layer names)", self._collapse_blocks)
        expand = menu.addAction("Expand all blocks", scene.expand_all)
        expand.setEnabled(bool(scene.collapsed))
        menu.addSeparator()
        menu.addAction("Lay out top to bottom", lambda: self.arrange("TB"))
        menu.addAction("Lay out left to right", lambda: self.arrange("LR"))
        menu.exec(event.globalPos())

    def _collapse_blocks(self) -> None:
        if not self.graph_scene.collapse_blocks():
            self.graph_scene.status_message.emit("No blocks found in the layers' names")
        self.fit_all()

    def arrange(self, direction: Direction) -> None:
        """Lay the whole graph out in a direction (one undo step) and show it."""
        self.graph_scene.arrange(None, direction)
        self.fit_all()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.graph_scene.delete_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    # ----------------------------------------------------------------- drops from the palette
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if self.drop_layer(event.mimeData(), event.position().toPoint()):
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    def drop_layer(self, data: QMimeData, at: QPoint) -> bool:
        """A palette layer dropped at `at` (viewport pixels): add it there and show it whole,
        even when dropped by the view's edge. False when `data` holds no layer."""
        if not data.hasFormat(LAYER_MIME):
            return False
        layer_type = bytes(data.data(LAYER_MIME).data()).decode("utf-8")
        self.layer_dropped.emit(layer_type, self.mapToScene(at))
        added = [i for i in self.graph_scene.selectedItems() if isinstance(i, NodeItem)]
        if len(added) == 1:  # the controller selects the layer it added
            self.show_whole(added[0])
        return True

    def show_whole(self, item: NodeItem) -> None:
        """Scroll the least that shows `item` whole, and not under the minimap."""
        self.ensureVisible(item, 20, 20)
        minimap = self.findChild(QGraphicsView, "minimap")
        if minimap is None or not minimap.isVisible():
            return
        geometry = minimap.geometry()
        cover = QRect(self.viewport().mapFrom(self, geometry.topLeft()), geometry.size())
        if self.mapFromScene(item.sceneBoundingRect()).boundingRect().intersects(cover):
            self.ensureVisible(item, 20, cover.height() + 28)  # clear of its corner
