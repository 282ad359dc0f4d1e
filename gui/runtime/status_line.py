"""A status bar whose messages stay readable: the permanent labels on its right (the weights,
the device) give up their width to a message while it shows, each eliding its text with "…"
(the whole text stays in its tooltip), and the bar's tooltip holds the message whole."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

QWIDGETSIZE_MAX = (1 << 24) - 1
MESSAGE_MARGIN = 48
"""Pixels left free beside a message: the status bar's padding, spacing and size grip."""


class ElidedLabel(QLabel):
    """A one-line label that can shrink to a few characters, ending its text with "…"; its
    tooltip is its whole text unless set after it."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Wei…")), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        if text == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter), text)


class MessageFirst(QObject):
    """Makes `labels` on `bar` narrow enough, while a message shows, for the message to fit."""

    def __init__(self, bar: QStatusBar, labels: list[QLabel], others: list[QWidget]) -> None:
        super().__init__(bar)
        self.bar = bar
        self.labels = labels
        self.others = others
        """Permanent widgets that keep their width (a busy indicator): their room is given
        back or taken again when they show or hide."""
        bar.messageChanged.connect(self.make_room)
        for widget in [*others, *labels]:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Room is shared again when a widget shows or hides, and when a label's text changes
        (its tooltip with it): a width set for 'Weights: untrained' cut the run's name that
        replaced it although the message beside it was short."""
        kinds = (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.ToolTipChange)
        if event.type() in kinds and shiboken6.isValid(self.bar):  # (gone while a window
            # still shown at exit is torn down: raising here crashed Shiboken's cleanup)
            self.make_room(self.bar.currentMessage())
        return False

    def make_room(self, message: str) -> None:
        self.bar.setToolTip(message)
        if not message:
            for label in self.labels:
                label.setMaximumWidth(QWIDGETSIZE_MAX)
            return
        used = self.bar.fontMetrics().horizontalAdvance(message) + MESSAGE_MARGIN
        used += sum(widget.width() for widget in self.others if widget.isVisible())
        room = max(0, self.bar.width() - used)
        narrow_first = sorted(self.labels, key=lambda label: label.sizeHint().width())
        for left, label in enumerate(narrow_first):
            share = min(label.sizeHint().width(), room // (len(narrow_first) - left))
            label.setMaximumWidth(max(share, label.minimumSizeHint().width()))
            room -= share
