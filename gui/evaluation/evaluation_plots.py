"""The evaluation's plots: confusion-matrix heatmap (clickable cells), ROC, regression errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QWidget

from backend.evaluation.evaluate import HeadReport, RocCurve

MAX_CELL_LABELS = 30  # classes beyond this get colour only: the counts would not be readable
CELL_TEXT_PIXELS = (8, 14)
"""A count's height on screen: sized to its cell, hidden when the cell is smaller than the least."""
CELL_COLORS = pg.ColorMap([0.0, 1.0], [QColor("#F7FBFF"), QColor("#08306B")])
SELECTED_PEN = QPen(QColor("#E6550D"), 0)


def plot_widget(title: str = "", x_label: str = "", y_label: str = "") -> pg.PlotWidget:
    """A white plot with labelled axes, like the training panel's."""
    plot = pg.PlotWidget()
    plot.setBackground("w")
    item = plot.getPlotItem()
    if title:
        item.setTitle(title, color="#333333")
    for side, label in (("bottom", x_label), ("left", y_label)):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen("#555555"))
        axis.setTextPen(pg.mkPen("#333333"))
        if label:
            item.setLabel(side, label, color="#333333")
    item.showGrid(x=True, y=True, alpha=0.15)
    return plot


class ConfusionMatrixView(pg.PlotWidget):
    """Rows are the true classes, columns the predicted ones; clicking a cell emits it.

    The colour is the row's share (the recall of the true class goes down the diagonal); the
    text is the count.
    """

    cell_clicked = Signal(int, int)  # true class, predicted class

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusion_matrix")
        self.setBackground("w")
        self.confusion = np.zeros((0, 0), dtype="int64")
        item = self.getPlotItem()
        item.setLabel("bottom", "Predicted", color="#333333")
        item.setLabel("left", "True", color="#333333")
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        for side in ("bottom", "left"):
            item.getAxis(side).setStyle(tickLength=0)  # no marks over the outer cells' counts
        item.invertY(True)  # cells fill the plot (square ones left a dock's matrix 120 px wide)
        item.getViewBox().sigResized.connect(self._fit_labels)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(CELL_COLORS)
        item.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        self.selection = QGraphicsRectItem()
        self.selection.setPen(SELECTED_PEN)
        self.selection.setVisible(False)
        item.addItem(self.selection)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)

    def show_matrix(self, confusion: np.ndarray, class_names: Sequence[str]) -> None:
        item = self.getPlotItem()
        for label in self.labels:
            item.removeItem(label)
        self.labels = []
        self.confusion = np.asarray(confusion)
        k = len(self.confusion)
        self.selection.setVisible(False)
        if k == 0:
            self.image.clear()
            return
        rows = self.confusion.sum(axis=1, keepdims=True)
        share = np.divide(self.confusion, np.maximum(rows, 1), dtype="float64")
        self.image.setImage(share, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, k, k))
        if k <= MAX_CELL_LABELS:
            self._label_cells(share)
        ticks = [(i + 0.5, str(name)) for i, name in enumerate(class_names)]
        for side in ("bottom", "left"):
            item.getAxis(side).setTicks([ticks])
        item.setRange(xRange=(0, k), yRange=(0, k), padding=0)
        self._fit_labels()

    def _label_cells(self, share: np.ndarray) -> None:
        item = self.getPlotItem()
        for (row, col), count in np.ndenumerate(self.confusion):
            color = "#FFFFFF" if share[row, col] > 0.55 else "#1F1F1F"
            label = pg.TextItem(str(int(count)), color=color, anchor=(0.5, 0.5))
            label.textItem.document().setDocumentMargin(0)
            label.setPos(col + 0.5, row + 0.5)
            item.addItem(label)
            self.labels.append(label)

    def cell_size(self) -> tuple[float, float]:
        """A cell's width and height on screen, in pixels."""
        view_box = self.getPlotItem().getViewBox()
        corner = view_box.mapViewToScene(QPointF(0, 0))
        step = view_box.mapViewToScene(QPointF(1, 1)) - corner
        return abs(step.x()), abs(step.y())

    def _fit_labels(self, *_args: Any) -> None:
        """Counts as large as their cells allow (the widest count fits its cell's width)."""
        if not self.labels:
            return
        width, height = self.cell_size()
        font = QFont()
        font.setPixelSize(CELL_TEXT_PIXELS[1])
        metrics = QFontMetricsF(font)
        widest = max(
            metrics.horizontalAdvance(label.textItem.toPlainText()) for label in self.labels
        )
        scale = min((height - 2) / metrics.height(), (width - 4) / max(widest, 1.0), 1.0)
        pixels = int(CELL_TEXT_PIXELS[1] * scale)
        font.setPixelSize(max(pixels, 1))
        for label in self.labels:
            label.setFont(font)
            label.setVisible(pixels >= CELL_TEXT_PIXELS[0])

    def cell_center(self, true: int, predicted: int) -> QPointF:
        """Where a cell's centre is in scene coordinates (for a test's mouse click)."""
        view_box = self.getPlotItem().getViewBox()
        return view_box.mapViewToScene(QPointF(predicted + 0.5, true + 0.5))

    def select_cell(self, true: int, predicted: int) -> None:
        self.selection.setRect(QRectF(predicted, true, 1, 1))
        self.selection.setVisible(True)

    def clear_selection(self) -> None:
        self.selection.setVisible(False)

    def _on_scene_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self.confusion):
            return
        view_box = self.getPlotItem().getViewBox()
        point = view_box.mapSceneToView(event.scenePos())
        col, row = int(np.floor(point.x())), int(np.floor(point.y()))
        k = len(self.confusion)
        if 0 <= row < k and 0 <= col < k:
            self.select_cell(row, col)
            self.cell_clicked.emit(row, col)


class RocView(pg.PlotWidget):
    """The ROC curve of a binary task with the chance diagonal and the AUC in the title."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("roc_view")
        self.setBackground("w")
        item = self.getPlotItem()
        item.setLabel("bottom", "False positive rate", color="#333333")
        item.setLabel("left", "True positive rate", color="#333333")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.plot([0, 1], [0, 1], pen=pg.mkPen("#AAAAAA", style=Qt.PenStyle.DashLine))
        self.curve = item.plot([], [], pen=pg.mkPen("#1F77B4", width=2))
        item.setRange(xRange=(0, 1), yRange=(0, 1))

    def show_curve(self, roc: RocCurve | None) -> None:
        item = self.getPlotItem()
        if roc is None:
            self.curve.setData([], [])
            item.setTitle("ROC needs a binary task with both classes in the test split")
            return
        self.curve.setData(roc.fpr, roc.tpr)
        item.setTitle(f"ROC, AUC = {roc.auc:.3f}", color="#333333")


class RegressionView(QWidget):
    """Predicted against true (with the identity line) and residuals against predicted."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("regression_view")
        self.scatter_plot = plot_widget("Predicted vs true", "True", "Predicted")
        self.residual_plot = plot_widget("Residuals", "Predicted", "True - predicted")
        brush = pg.mkBrush(31, 119, 180, 150)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, brush=brush)
        self.identity = pg.PlotCurveItem(pen=pg.mkPen("#AAAAAA", style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.identity)
        self.scatter_plot.addItem(self.scatter)
        self.residuals = pg.ScatterPlotItem(size=5, pen=None, brush=brush)
        self.residual_plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#AAAAAA")))
        self.residual_plot.addItem(self.residuals)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scatter_plot)
        layout.addWidget(self.residual_plot)

    def show_head(self, head: HeadReport) -> None:
        result = head.regression
        assert result is not None, "a regression head"
        true = head.predictions.true.ravel()
        predicted = head.predictions.predicted.ravel()
        self.scatter.setData(true, predicted)
        low = float(min(true.min(initial=0.0), predicted.min(initial=0.0)))
        high = float(max(true.max(initial=1.0), predicted.max(initial=1.0)))
        self.identity.setData([low, high], [low, high])
        self.residuals.setData(predicted, result.residuals.ravel())
        self.scatter_plot.getPlotItem().setTitle(
            f"Predicted vs true: R² {result.r2:.3f}", color="#333333"
        )
        self.residual_plot.getPlotItem().setTitle(
            f"Residuals: MAE {result.mae:.4g}, RMSE {result.rmse:.4g}", color="#333333"
        )
