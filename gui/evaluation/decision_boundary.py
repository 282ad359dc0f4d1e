"""The decision boundary of a model on 2-D data, as TensorFlow Playground draws it.

`show_grid` takes a `backend.evaluation.insight.DecisionGrid` (computed where the model lives: the
training thread at each epoch end, or the evaluation worker) and the data points to draw on
top. It only recolours one image and, when given, one scatter: cheap enough for every epoch.
For side-by-side networks (several outputs) it draws the chosen head's boundary
(`choose_head`; `heads_found` lists them for a chooser), the same one at every epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal

from backend.evaluation.insight import DecisionGrid
from gui.evaluation.neuron_overlay import NeuronOverlay

CLASS_COLORS = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ],
    dtype="float32",
)
SHADE = 0.55  # how far the background is blended towards white, so the points stand out
TITLE = "Decision boundary (2-D data)"
VALUE_COLORS = pg.colormap.get("viridis")


def class_colors(k: int) -> np.ndarray:
    """(k, 3) RGB colours, cycling through ten distinct ones."""
    return CLASS_COLORS[np.arange(k) % len(CLASS_COLORS)]


def grid_image(grid: DecisionGrid) -> np.ndarray:
    """(rows, cols, 3) uint8 RGB: class colours mixed by probability, or a value colormap."""
    values = np.asarray(grid.values, dtype="float32")
    if grid.task == "classification":
        rgb = values @ class_colors(values.shape[-1])
    else:
        v = values[..., 0]
        low, high = float(v.min()), float(v.max())
        scaled = (v - low) / (high - low) if high > low else np.zeros_like(v)
        rgb = VALUE_COLORS.map(scaled.ravel(), mode="float")[:, :3].reshape(*v.shape, 3) * 255
    rgb = rgb * (1 - SHADE) + 255 * SHADE
    return np.clip(rgb, 0, 255).astype("uint8")


class DecisionBoundaryView(pg.PlotWidget):
    """The model's output over the plane, shaded by class, with the data points on top."""

    heads_found = Signal(list)  # the output heads of a model with several ([] for one)
    drawn = Signal(bool)  # a grid is drawn (True), or none is (False)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("decision_boundary")
        self.setBackground("w")
        item = self.getPlotItem()
        item.setAspectLocked(False)
        item.setMenuEnabled(False)
        item.setTitle(TITLE, color="#333333")
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.5))
        item.addItem(self.points)
        self.neuron = NeuronOverlay(item, self.image)  # drawn when the model is one neuron
        self.grid: DecisionGrid | None = None
        self.head = ""
        """The output head shown for a model with several ("": the first)."""
        self._heads: list[str] = []
        self.updates = 0

    def show_grid(self, grid: DecisionGrid, x: Any = None, y: Any = None) -> None:
        """Draw a grid; with `x` (n, 2) and `y` (labels or values; a list of them, one per
        head, for several outputs) also (re)draw the points."""
        first = self.grid is None
        self.grid = grid
        if first:
            self.drawn.emit(True)
        heads = list(grid.by_head)
        if heads != self._heads:
            self._heads = heads
            self.heads_found.emit(heads)
        shown = grid.for_head(self.head)
        self.image.setImage(grid_image(shown), levels=(0, 255))
        x0, x1, y0, y1 = grid.bounds
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if x is not None and y is not None:
            if isinstance(y, list | tuple):  # the labels of each head: the shown one's
                y = y[heads.index(shown.head)] if shown.head in heads else y[0]
            self._draw_points(shown, np.asarray(x), np.asarray(y))
        self.getPlotItem().setTitle(
            f"Decision boundary of output '{shown.head}'" if shown.head else TITLE,
            color="#333333",
        )
        self.neuron.show(shown)  # a single neuron writes its weights in the title
        if first:
            self.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.updates += 1

    def choose_head(self, name: str) -> None:
        """Show output `name`'s boundary, now and at the next epochs."""
        self.head = name
        if self.grid is not None:
            self.show_grid(self.grid)

    def follow_training(self, dataset: Any) -> None:
        """A run starts on `dataset`: its training points are drawn with its first grid."""
        self._pending_points = (dataset.x_train, dataset.y_train)

    def on_training_event(self, event: Any) -> None:
        """Draw the grid a run computed at an epoch's end (`EpochEnd.extra`), if it did."""
        grid = getattr(event, "extra", None)
        if not isinstance(grid, DecisionGrid):
            return
        points = getattr(self, "_pending_points", None)
        self._pending_points = None  # drawn once; later grids only recolour
        self.show_grid(grid, *(points or (None, None)))

    def _draw_points(self, grid: DecisionGrid, x: np.ndarray, y: np.ndarray) -> None:
        labels = y.reshape(len(y), -1)[:, 0]
        if grid.task == "classification":
            colors = class_colors(max(grid.values.shape[-1], int(labels.max(initial=0)) + 1))
            rgb = colors[labels.astype("int64")]
        else:
            low, high = float(labels.min()), float(labels.max())
            scaled = (labels - low) / (high - low) if high > low else np.zeros_like(labels)
            rgb = VALUE_COLORS.map(scaled, mode="float")[:, :3] * 255
        brushes = [pg.mkBrush(int(r), int(g), int(b)) for r, g, b in rgb]
        self.points.setData(x[:, 0], x[:, 1], brush=brushes)

    def clear_grid(self) -> None:
        """Another project: no grid, and the first head again."""
        if self.grid is not None:
            self.drawn.emit(False)
        self.grid = None
        self.head = ""
        if self._heads:
            self._heads = []
            self.heads_found.emit([])
        self.image.clear()
        self.points.clear()
        self.neuron.hide()
        self.getPlotItem().setTitle(TITLE, color="#333333")
