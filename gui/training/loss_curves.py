"""How the training plots stay honest: each batch's own loss drawn faintly under a lightly
smoothed line (as TensorBoard does), and value axes that always include zero (and one, for
rates such as accuracy), so a loss crawling from 0.655 to 0.625 looks as flat as it is instead
of filling the plot like a steep fall. Zooming with the mouse still works; the "A" button
returns to this range."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

SMOOTHING = 0.6
"""Weight of the past in the moving average of batch losses: light, a few batches' worth."""
RAW = "loss per batch"
SMOOTHED = "loss per batch (smoothed)"
RATE_WORDS = ("accuracy", "auc", "precision", "recall")


class Smoother:
    """An exponential moving average, debiased so its first values are not pulled to zero."""

    def __init__(self, weight: float = SMOOTHING) -> None:
        self.weight = weight
        self._value = 0.0
        self._count = 0

    def add(self, value: float) -> float:
        self._count += 1
        self._value = self.weight * self._value + (1 - self.weight) * value
        return self._value / (1 - self.weight**self._count)


def is_rate(key: str) -> bool:
    """A metric that lives between 0 and 1 (accuracy, AUC, precision, recall)."""
    return any(word in key for word in RATE_WORDS)


def anchor(plot: Any, *values: float) -> list[Any]:
    """Invisible points at (x=0, each value) that the plot's auto range always includes."""
    items = []
    for value in values:
        item = pg.ScatterPlotItem([0.0], [value], size=0, pen=None, brush=None)
        plot.addItem(item)
        items.append(item)
    return items


def batch_pens(color: str) -> tuple[Any, Any]:
    """The pens of the raw batch losses (thin, faint) and of their smoothed line."""
    raw = pg.mkColor(color)
    raw.setAlpha(70)
    return pg.mkPen(raw, width=1), pg.mkPen(pg.mkColor(color).lighter(130), width=2)
