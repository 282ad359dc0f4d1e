"""An overview of the whole graph in the canvas corner; click or drag in it to move the view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGraphicsView

SIZE = (200, 120)


class Minimap(QGraphicsView):
    """A second, non-interactive view of the canvas scene showing the main view's rectangle."""

    def __init__(self, main_view: QGraphicsView) -> None:
        super().__init__(main_view.scene(), main_view)
        self.main_view = main_view
        self.setObjectName("minimap")
        self.setFixedSize(*SIZE)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setInteractive(False)
        self.setFrameShape(QFrame.Shape.Box)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(150)
        self._refit.timeout.connect(self.fit)
        scene = main_view.scene()
        scene.changed.connect(lambda _rects: self._refit.start())
        for bar in (main_view.horizontalScrollBar(), main_view.verticalScrollBar()):
            bar.valueChanged.connect(self.viewport().update)
            bar.valueChanged.connect(lambda _v: self._refit.start())
        self.place()

    def place(self) -> None:
        parent = self.main_view.viewport()
        self.move(parent.width() - SIZE[0] - 8, parent.height() - SIZE[1] - 8)

    enabled = True

    def fit(self) -> None:
        """Show the whole graph; the overview only appears when the graph does not fit."""
        scene = self.scene()
        if scene is None:  # the window is closing
            return
        rect = scene.visible_rect() if hasattr(scene, "visible_rect") else scene.itemsBoundingRect()
        if rect.isEmpty():
            self.setVisible(False)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        self.setVisible(self.enabled and not self.visible_area().contains(rect))

    def visible_area(self) -> QRectF:
        return self.main_view.mapToScene(self.main_view.viewport().rect()).boundingRect()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.setPen(QPen(QColor("#2F80ED"), 0))
        painter.setBrush(QColor(47, 128, 237, 40))
        painter.drawRect(self.visible_area())

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.main_view.backgroundBrush())

    # a layer dragged from the palette over the overview lands on the canvas under it
    def dragEnterEvent(self, event: Any) -> None:
        self.main_view.dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        self.main_view.dragMoveEvent(event)

    def dropEvent(self, event: Any) -> None:
        at = self.viewport().mapToGlobal(event.position().toPoint())
        at = self.main_view.viewport().mapFromGlobal(at)
        if self.main_view.drop_layer(event.mimeData(), at):
            event.acceptProposedAction()

    def mousePressEvent(self, event: Any) -> None:
        self.main_view.centerOn(self.mapToScene(event.position().toPoint()))
        self.viewport().update()

    def mouseMoveEvent(self, event: Any) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.mousePressEvent(event)
