"""A single neuron drawn over its decision boundary, as on a blackboard: the line
w·x + b = 0, the 0.5 contour of its output, the weight vector (perpendicular to the line,
pointing to where the output grows), the bias as the line's distance from the origin, and
the signed weights in the title. Redrawn at each epoch end: the line turns and shifts as the
neuron learns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from backend.evaluation.insight import DecisionGrid
from backend.evaluation.neuron import NeuronReadout

POSITIVE = "#1f5fb4"
NEGATIVE = "#c0392b"
INK = "#222222"


class NeuronOverlay:
    """The items drawn over a DecisionBoundaryView's plot when the model is one neuron."""

    def __init__(self, plot: Any, image: Any) -> None:
        self.plot = plot
        self.line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(INK, width=2, style=Qt.PenStyle.DashLine), movable=False
        )
        self.line_label = pg.InfLineLabel(
            self.line,
            "w·x + b = 0",
            position=0.85,
            color=INK,
            anchors=[(0.5, 1), (0.5, 1)],
        )
        self.contour = pg.IsocurveItem(level=0.5, pen=pg.mkPen("w", width=6), axisOrder="row-major")
        self.contour.setParentItem(image)  # in the image's pixels, so it sits on the grid
        self.contour.setPos(0.5, 0.5)  # grid values sit at pixel centres
        self.weight = pg.PlotCurveItem(pen=pg.mkPen(INK, width=2))
        self.tip = pg.ArrowItem(headLen=14, tipAngle=30, brush=INK, pen=None)
        self.bias = pg.PlotCurveItem(pen=pg.mkPen(INK, width=1, style=Qt.PenStyle.DotLine))
        self.origin = pg.ScatterPlotItem([0.0], [0.0], symbol="+", size=12, pen=pg.mkPen(INK))
        self.labels = [pg.TextItem(color=INK, anchor=anchor) for anchor in ((0, 0), (0, 1))]
        self.items = [self.line, self.weight, self.tip, self.bias, self.origin, *self.labels]
        for item in self.items:
            plot.addItem(item, ignoreBounds=True)
        self.readout: NeuronReadout | None = None
        self.hide()

    def show(self, grid: DecisionGrid) -> None:
        neuron = grid.neuron
        if neuron is None:
            self.hide()
            return
        self.readout = neuron
        for item in [*self.items, self.contour]:
            item.setVisible(True)
        half = " (sigmoid 0.5: white)" if neuron.activation == "sigmoid" else ""
        self.line_label.setFormat(f"w·x + b = 0{half}")
        self.line.setPos(pg.Point(*neuron.foot))
        self.line.setAngle(neuron.angle)
        probability = np.asarray(grid.values[..., -1], dtype="float64")
        self.contour.setData(probability)  # rows are y, columns x: as the image
        self._vectors(neuron, grid)
        self.plot.setTitle(title_html(neuron), color=INK)

    def _vectors(self, neuron: NeuronReadout, grid: DecisionGrid) -> None:
        """w as an arrow standing on the line (beside the bias' dotted path to the origin)."""
        x0, x1, y0, y1 = grid.bounds
        length = 0.2 * min(x1 - x0, y1 - y0)
        fx, fy = neuron.foot
        ux, uy = (0.0, 0.0) if neuron.norm == 0 else np.divide(neuron.weights, neuron.norm)
        along = np.array([-uy, ux])  # the line's direction: step along it towards the middle
        middle = np.array([(x0 + x1) / 2 - fx, (y0 + y1) / 2 - fy])
        side = 1.0 if float(along @ middle) >= 0 else -1.0
        base = np.array([fx, fy]) + side * 1.5 * length * along
        tip = base + length * np.array([ux, uy])
        self.weight.setData([base[0], tip[0]], [base[1], tip[1]])
        self.tip.setPos(*tip)
        self.tip.setStyle(angle=180 - math.degrees(math.atan2(uy, ux)))
        self.bias.setData([0.0, fx], [0.0, fy])
        w1, w2 = neuron.weights
        self.labels[0].setText(f"w = ({w1:+.2f}, {w2:+.2f})")
        self.labels[0].setPos(*tip)
        self.labels[1].setText(f"b = {neuron.bias:+.2f}: the line is -b/|w| = {neuron.offset:+.2f}")
        self.labels[1].setPos(fx / 2, fy / 2)

    def hide(self) -> None:
        self.readout = None
        for item in [*self.items, self.contour]:
            item.setVisible(False)


def title_html(neuron: NeuronReadout) -> str:
    """The neuron's formula with each signed number coloured: blue positive, red negative
    (short: the title sets the plot's narrowest width)."""
    (w1, w2), (n1, n2) = neuron.weights, neuron.feature_names
    return f"z = {_coloured(w1)}·{n1} {_coloured(w2)}·{n2} {_coloured(neuron.bias)}"


def _coloured(value: float) -> str:
    color = NEGATIVE if value < 0 else POSITIVE
    return f"<span style='color:{color}'><b>{value:+.2f}</b></span>"
