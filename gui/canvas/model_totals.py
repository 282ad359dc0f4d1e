"""The model's parameters and training memory in the canvas corner, as the analysis counts them.

One line over the top-left corner of the view (the minimap has the bottom-right one): how many
parameters train and how many do not (frozen layers, a pretrained backbone, BatchNormalization's
statistics), and about how much memory training takes at the batch size. Freezing or
fine-tuning changes it at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsView, QLabel

from backend.analysis.summary import format_bytes

MARGIN = 8


class ModelTotals(QLabel):
    """Mirrors the analysis: `show_totals(totals, memory)` after each of its refreshes."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)  # not the viewport: scrolling the view moves its children
        self.view = view
        self.setObjectName("model_totals")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet(
            "QLabel { background: rgba(128, 128, 128, 40); border-radius: 4px; padding: 2px 6px; }"
        )
        self.hide()

    def show_totals(self, totals: Any, memory: Any = None) -> None:
        """`totals`: `backend.analysis.summary.Totals`; `memory`: `TrainingMemory` or None."""
        if not totals.params:
            self.hide()
            return
        text = f"{totals.params:,} params, all trainable"
        if totals.non_trainable:
            text = (
                f"{totals.params:,} params: {totals.trainable:,} trainable, "
                f"{totals.non_trainable:,} non-trainable"
            )
        if memory is not None:
            text += f" · training ≈ {format_bytes(memory.total)} at batch {memory.batch_size}"
        self.setText(text)
        self.setToolTip(
            "Non-trainable: frozen layers (a pretrained backbone) and statistics such as "
            "BatchNormalization's moving averages; training keeps gradients and optimizer "
            "state only for the trainable ones."
            + (f"\nTraining memory: {memory.describe()}" if memory is not None else "")
        )
        self.adjustSize()
        self.place()
        self.show()

    def place(self) -> None:
        corner = self.view.viewport().geometry().topLeft()
        self.move(corner.x() + MARGIN, corner.y() + MARGIN)
