"""The predictions browser: one row per test sample, sortable, filterable, images as images.

`PredictionsModel` shows a subset of the evaluation's `Predictions` (all, one confusion-matrix
cell, the most confidently wrong) in a chosen order; sorting a column reorders that subset.
Thumbnails are made on demand and cached, so a large test split costs nothing up front.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend.evaluation.evaluate import CLASSIFICATION, HeadReport, Predictions

THUMBNAIL = 40
WRONG = QColor("#FBE3E4")
ModelIndex = QModelIndex | QPersistentModelIndex


def is_image(inputs: np.ndarray) -> bool:
    """(n, h, w) or (n, h, w, 1|3) samples of at least 4x4 pixels are shown as pictures."""
    shape = inputs.shape[1:]
    if len(shape) == 3 and shape[-1] not in (1, 3):
        return False
    return len(shape) in (2, 3) and min(shape[:2]) >= 4


def to_qimage(sample: np.ndarray) -> QImage:
    """A greyscale or RGB picture of one sample, scaled to its own range."""
    pixels = np.asarray(sample, dtype="float32")
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    low, high = float(np.nanmin(pixels)), float(np.nanmax(pixels))
    scaled = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    data = np.ascontiguousarray((scaled * 255).astype("uint8"))
    h, w = data.shape[:2]
    if data.ndim == 2:
        return QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PredictionsModel(QAbstractTableModel):
    HEADERS = ("Sample", "Prediction", "True", "Confidence")
    REGRESSION_HEADERS = ("Sample", "Prediction", "True", "Abs. error")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.predictions: Predictions | None = None
        self.class_names: list[str] = []
        self.inputs: np.ndarray | None = None
        self.rows = np.zeros(0, dtype="int64")  # sample indices, in display order
        self._thumbnails: dict[int, QPixmap] = {}

    def set_head(self, head: HeadReport | None, inputs: np.ndarray | None) -> None:
        self.beginResetModel()
        self.predictions = head.predictions if head is not None else None
        result = head.classification if head is not None else None
        self.class_names = result.class_names if result is not None else []
        self.inputs = inputs if inputs is not None and is_image(inputs) else None
        self.rows = np.arange(len(self.predictions) if self.predictions else 0)
        self._thumbnails = {}
        self.endResetModel()

    def set_rows(self, indices: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = np.asarray(indices, dtype="int64")
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        classifying = self.predictions is None or self.predictions.task == CLASSIFICATION
        return (self.HEADERS if classifying else self.REGRESSION_HEADERS)[section]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.predictions is None:
            return None
        sample = int(self.rows[index.row()])
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(sample, column)
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and self.inputs is not None:
            return self._thumbnail(sample)
        if role == Qt.ItemDataRole.BackgroundRole and self.predictions.wrong[sample]:
            return QBrush(WRONG)
        if role == Qt.ItemDataRole.UserRole:
            return sample
        return None

    def _text(self, sample: int, column: int) -> str:
        p = self.predictions
        assert p is not None
        if column == 0:
            return str(sample)
        if p.task == CLASSIFICATION:
            if column == 3:
                assert p.confidence is not None
                return f"{p.confidence[sample]:.3f}"
            return self._class_name(int((p.predicted if column == 1 else p.true)[sample]))
        if column == 3:
            assert p.abs_error is not None
            return f"{p.abs_error[sample]:.4g}"
        values = (p.predicted if column == 1 else p.true)[sample]
        return ", ".join(f"{v:.4g}" for v in np.atleast_1d(values))

    def _class_name(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)

    def _thumbnail(self, sample: int) -> QPixmap:
        pixmap = self._thumbnails.get(sample)
        if pixmap is None:
            assert self.inputs is not None
            image = to_qimage(self.inputs[sample])
            pixmap = QPixmap.fromImage(
                image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio)
            )
            self._thumbnails[sample] = pixmap
        return pixmap

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the shown samples by a column (the subset shown stays the same)."""
        p = self.predictions
        if p is None or not len(self.rows) or not 0 <= column < len(self.HEADERS):
            return
        keys: dict[int, np.ndarray] = {0: self.rows}
        keys[1] = _scalar(p.predicted)[self.rows]
        keys[2] = _scalar(p.true)[self.rows]
        score = p.confidence if p.confidence is not None else p.abs_error
        assert score is not None
        keys[3] = score[self.rows]
        order_idx = np.argsort(keys[column], kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            order_idx = order_idx[::-1]
        self.layoutAboutToBeChanged.emit()
        self.rows = self.rows[order_idx]
        self.layoutChanged.emit()


def _scalar(values: np.ndarray) -> np.ndarray:
    """One sort key per sample: the value itself, or the first output of several."""
    return values if values.ndim == 1 else values.reshape(len(values), -1)[:, 0]


class PredictionsBrowser(QWidget):
    """The table with its filters: all samples, the most confidently wrong, a matrix cell."""

    sample_chosen = Signal(int)  # a test sample index
    filter_cleared = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictions_browser")
        self.head: HeadReport | None = None
        self.model = PredictionsModel(self)
        self.table = QTableView()
        self.table.setObjectName("predictions_table")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.caption = QLabel("No evaluation yet.")
        self.caption.setObjectName("predictions_caption")
        self.caption.setWordWrap(True)
        self.worst_button = QPushButton("Most confidently wrong")
        self.worst_button.setObjectName("most_wrong_button")
        self.worst_button.clicked.connect(self.show_most_wrong)
        self.all_button = QPushButton("Show all")
        self.all_button.setObjectName("show_all_button")
        self.all_button.clicked.connect(self.show_all)
        buttons = QHBoxLayout()
        buttons.addWidget(self.worst_button)
        buttons.addWidget(self.all_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.worst_button.setEnabled(on)
        self.all_button.setEnabled(on)

    def set_head(self, head: HeadReport | None, inputs: np.ndarray | None) -> None:
        self.head = head
        self.model.set_head(head, inputs)
        if self.model.inputs is not None:
            self.table.verticalHeader().setDefaultSectionSize(THUMBNAIL + 4)
            self.table.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self._enable(head is not None)
        self.worst_button.setText(
            "Largest errors"
            if head is not None and head.task != CLASSIFICATION
            else "Most confidently wrong"
        )
        self.show_all()

    def shown_samples(self) -> list[int]:
        """The sample indices in the table, in display order."""
        return [int(i) for i in self.model.rows]

    def show_all(self) -> None:
        if self.head is None:
            self.model.set_rows(np.zeros(0, dtype="int64"))
            self.caption.setText("No evaluation yet.")
            return
        self._show(self.head.predictions.by_confidence(), "All test samples, surest first")
        self.filter_cleared.emit()

    def show_most_wrong(self) -> None:
        if self.head is None:
            return
        p = self.head.predictions
        what = "most confidently wrong first" if p.task == CLASSIFICATION else "largest error first"
        self._show(p.most_confidently_wrong(), f"Wrong predictions, {what}")

    def show_cell(self, true: int, predicted: int) -> None:
        """Exactly the samples of class `true` predicted as `predicted`."""
        if self.head is None:
            return
        names = self.model.class_names
        indices = self.head.predictions.in_cell(true, predicted)
        self._show(indices, f"True {names[true]}, predicted {names[predicted]}")

    def _show(self, indices: np.ndarray, what: str) -> None:
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.model.set_rows(indices)
        self.caption.setText(f"{what}: {len(indices)} sample(s)")

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.sample_chosen.emit(int(self.model.rows[current.row()]))

    def choose_row(self, row: int) -> None:
        self.table.selectRow(row)
