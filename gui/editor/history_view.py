"""The undo history: one line per gesture; clicking a line undoes or redoes up to it."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from backend.editing.commands import UndoStack


class HistoryView(QListWidget):
    def __init__(self, undo: UndoStack, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("history")
        self.stack = undo
        undo.changed.connect(self.refresh)
        self.itemClicked.connect(self._go_to)
        self.refresh()

    def refresh(self) -> None:
        self.blockSignals(True)
        self.clear()
        QListWidgetItem("(opened)", self)
        done = len(self.stack.done)
        for i, label in enumerate(self.stack.labels()):
            item = QListWidgetItem(label, self)
            if i >= done:
                item.setForeground(QBrush(QColor("#999999")))
        self.setCurrentRow(done)
        self.blockSignals(False)

    def _go_to(self, item: QListWidgetItem) -> None:
        """Undo or redo until the clicked step is the last one done."""
        target = self.row(item)
        while len(self.stack.done) > target and self.stack.can_undo:
            self.stack.undo()
        while len(self.stack.done) < target and self.stack.can_redo:
            self.stack.redo()
