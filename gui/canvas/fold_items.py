"""A collapsed fold on the canvas: one box for a block of layers, expanded in place by a
double-click (see `backend.editing.folding`: folding is a way of reading, never an edit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from backend.editing.folding import Fold
from backend.editing.geometry import TOP_TO_BOTTOM, Direction
from gui.canvas.items import NAME_PIXELS
from gui.runtime import theme

FOLD_COLOR = QColor("#5B6B7F")


class FoldItem(QGraphicsItem):
    """A box standing for the layers of a collapsed fold: its name, how many layers it holds,
    and the hint to double-click it open."""

    def __init__(
        self,
        fold: Fold,
        size: tuple[float, float],
        on_open: Callable[[str], None],
        direction: Direction = TOP_TO_BOTTOM,
    ) -> None:
        super().__init__()
        self.fold = fold
        self.direction = direction
        self.size = size
        self.on_open = on_open
        self.setZValue(1)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip(
            f"<b>{fold.label}</b>: {len(fold.members)} layers, collapsed for reading "
            "(the model is unchanged).<br>Double-click to expand it in place."
        )

    def boundingRect(self) -> QRectF:
        return QRectF(-4, -4, self.size[0] + 14, self.size[1] + 14)

    def in_point(self) -> QPointF:
        """Where edges into the fold's layers arrive: its top (or left) edge's middle."""
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
        stack = QPainterPath()  # a second card behind: several layers in one
        stack.addRoundedRect(QRectF(6, 6, w, h), 9, 9)
        painter.fillPath(stack, FOLD_COLOR.lighter(150))
        body = QPainterPath()
        body.addRoundedRect(QRectF(0, 0, w, h), 9, 9)
        painter.fillPath(body, theme.node_body())
        selected = self.isSelected()
        painter.setPen(
            QPen(theme.SELECTED_COLOR if selected else FOLD_COLOR, 2.5 if selected else 2)
        )
        painter.drawPath(body)
        name = QFont()
        name.setBold(True)
        name.setPixelSize(max(13, min(int(h * 0.45), int(NAME_PIXELS / max(lod, 0.05)))))
        painter.setFont(name)
        painter.setPen(theme.text_color())
        label = QFontMetrics(name).elidedText(
            self.fold.label, Qt.TextElideMode.ElideMiddle, int(w - 16)
        )
        painter.drawText(QRectF(8, 2, w - 16, h * 0.62), Qt.AlignmentFlag.AlignCenter, label)
        small = QFont()
        small.setPixelSize(max(11, min(int(h * 0.3), int(NAME_PIXELS / max(lod, 0.05)))))
        painter.setFont(small)
        painter.setPen(theme.muted_text())
        text = f"▸ {len(self.fold.members)} layers"
        painter.drawText(QRectF(8, h * 0.58, w - 16, h * 0.4), Qt.AlignmentFlag.AlignCenter, text)

    def mouseDoubleClickEvent(self, event: Any) -> None:
        self.on_open(self.fold.key)
        event.accept()
