"""How the Data panel draws a `DataPreview`: a table, an image grid with labels, lines for
series and sequences, a scatter plot for 2-D points, and the class balance (or, for
regression, the spread of the target)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.data.preview import DataPreview

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6")
GRID_COLUMNS = 8  # 16 samples in two rows: the panel is wide and short
MAX_LINES = 8
MAX_TICKS = 20


def colour(index: int) -> str:
    return PALETTE[int(index) % len(PALETTE)]


class DataPreviewView(QWidget):
    """One page per preview kind, and the balance chart beside it."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind = ""
        self.table = QTableWidget()
        self.table.setObjectName("data_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("data_plot")
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.grid = pg.GraphicsLayoutWidget()
        self.grid.setObjectName("data_images")
        self.grid.setBackground("w")
        self.pages = QStackedWidget()
        for page in (self.table, self.plot, self.grid):
            self.pages.addWidget(page)
        self.balance = pg.PlotWidget()
        self.balance.setObjectName("data_balance")
        self.balance.setBackground("w")
        self.balance_label = QLabel()
        self.balance_label.setObjectName("data_balance_label")
        self.balance_label.setWordWrap(True)
        self.image_items: list[tuple[pg.ImageItem, str]] = []
        self.bars: pg.BarGraphItem | None = None
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.balance_label)
        column.addWidget(self.balance, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.pages)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def clear(self) -> None:
        self.kind = ""
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.plot.clear()
        self.grid.clear()
        self.image_items = []
        self.balance.clear()
        self.bars = None
        self.balance_label.setText("")

    def show_preview(self, preview: DataPreview) -> None:
        self.clear()
        self.kind = preview.kind
        if preview.kind == "images":
            self._images(preview)
        elif preview.kind in ("scatter", "series", "sequences"):
            self._lines_or_points(preview)
        else:
            self._table(preview)
        self._balance(preview)

    # ----------------------------------------------------------------- pages
    def _table(self, preview: DataPreview) -> None:
        self.pages.setCurrentWidget(self.table)
        self.table.setColumnCount(len(preview.columns))
        self.table.setHorizontalHeaderLabels(preview.columns)
        self.table.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))

    def _images(self, preview: DataPreview) -> None:
        self.pages.setCurrentWidget(self.grid)
        x = np.asarray(preview.x if preview.x is not None else [])
        y = np.asarray(preview.y if preview.y is not None else [])
        for i, image in enumerate(x[: GRID_COLUMNS * 2]):
            label = _class_label(preview, y[i]) if i < len(y) else ""
            view = self.grid.addViewBox(row=2 * (i // GRID_COLUMNS), col=i % GRID_COLUMNS)
            view.setAspectLocked(True)
            view.invertY(True)
            pixels = image[..., 0] if image.shape[-1] == 1 else image[..., :3]
            item = pg.ImageItem(pixels, axisOrder="row-major", levels=_levels(x))
            view.addItem(item)
            self.grid.addLabel(label, row=2 * (i // GRID_COLUMNS) + 1, col=i % GRID_COLUMNS)
            self.image_items.append((item, label))

    def _lines_or_points(self, preview: DataPreview) -> None:
        self.pages.setCurrentWidget(self.plot)
        x = np.asarray(preview.x if preview.x is not None else np.zeros((0, 2)))
        y = np.asarray(preview.y if preview.y is not None else np.zeros(0))
        self.plot.addLegend(offset=(-10, 10))
        if preview.kind == "scatter":
            groups = np.unique(y) if preview.class_names else [None]
            for group in groups:
                mask = y == group if group is not None else np.ones(len(x), dtype=bool)
                name = _class_label(preview, group) if group is not None else "samples"
                self.plot.plot(
                    x[mask, 0],
                    x[mask, 1],
                    pen=None,
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=colour(0 if group is None else group),
                    symbolPen=None,
                    name=name,
                )
            return
        steps = np.arange(x.shape[1]) if x.ndim == 3 else np.arange(0)
        for i in range(min(MAX_LINES, len(x))):
            tint = colour(int(y[i]) if preview.class_names else i)
            name = _class_label(preview, y[i]) if preview.class_names else None
            self.plot.plot(steps, x[i, :, 0], pen=pg.mkPen(tint, width=1.5), name=name)
            if preview.kind == "series" and y.ndim == 2:  # the value to forecast, one step on
                point = ([len(steps)], [float(y[i, 0])])
                self.plot.plot(*point, pen=None, symbol="o", symbolBrush=tint, symbolSize=7)
        self.plot.setLabel("bottom", "timestep")

    def _balance(self, preview: DataPreview) -> None:
        if preview.class_names and preview.class_counts:
            counts = np.asarray(preview.class_counts, dtype=float)
            brushes = [colour(i) for i in range(len(counts))]
            self.bars = pg.BarGraphItem(
                x=np.arange(len(counts)), height=counts, width=0.8, brushes=brushes
            )
            self.balance.addItem(self.bars)
            if len(counts) <= MAX_TICKS:
                ticks = [(i, name) for i, name in enumerate(preview.class_names)]
                self.balance.getAxis("bottom").setTicks([ticks])
            total = int(counts.sum())
            share = ", ".join(
                f"{name} {count / total:.0%}"
                for name, count in zip(preview.class_names, counts, strict=True)
            )
            self.balance_label.setText(f"Class balance ({preview.balance_of}): {share}")
        elif preview.y is not None and len(preview.y):
            values = np.asarray(preview.y, dtype=float).reshape(len(preview.y), -1)[:, 0]
            height, edges = np.histogram(values, bins=30)
            self.balance.plot(edges, height, stepMode="center", fillLevel=0, brush="#4C78A8")
            self.balance_label.setText(f"Target values ({preview.balance_of})")


def _class_label(preview: DataPreview, value: Any) -> str:
    index = int(value)
    return preview.class_names[index] if 0 <= index < len(preview.class_names) else str(index)


def _levels(x: np.ndarray) -> tuple[float, float]:
    if x.size == 0:
        return (0.0, 1.0)
    high = float(np.max(x))
    return (0.0, 1.0) if high <= 1.0 else (0.0, 255.0)
