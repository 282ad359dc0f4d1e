"""Where attention looks, as a heatmap: one row per query position (what is looking), one
column per key position (what it looks at), each row summing to one. A combo picks the
attention layer and the head, or their mean; the axes name the tokens."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from backend.evaluation.attention import AttentionMap

SCORES = pg.colormap.get("viridis")
MEAN = "mean of the heads"


class AttentionView(QWidget):
    """The attention scores of one sample, as a query x key heatmap."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("attention_view")
        self.maps: list[AttentionMap] = []
        self.choice = QComboBox()
        self.choice.setObjectName("attention_choice")
        self.choice.currentIndexChanged.connect(self._draw)
        self.note = QLabel("No MultiHeadAttention layer in this model.")
        self.note.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        item = self.plot.getPlotItem()
        item.setAspectLocked(True)
        item.invertY(True)
        item.setLabel("left", "query (looking)")
        item.setLabel("bottom", "key (looked at)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(SCORES)
        item.addItem(self.image)
        self.scale = pg.ColorBarItem(values=(0, 1), colorMap=SCORES, interactive=False, width=12)
        self.scale.setImageItem(self.image, insert_in=item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)

    def show_maps(self, maps: list[AttentionMap]) -> None:
        previous = self.choice.currentText()
        self.maps = maps
        self.choice.blockSignals(True)
        self.choice.clear()
        for layer in maps:
            self.choice.addItem(f"{layer.layer_name}: {MEAN}")
            for head in range(layer.heads):
                self.choice.addItem(f"{layer.layer_name}: head {head + 1}")
        index = self.choice.findText(previous)
        self.choice.setCurrentIndex(max(index, 0))
        self.choice.blockSignals(False)
        self.note.setVisible(not maps)
        self.plot.setVisible(bool(maps))  # no empty heatmap with axes that mean nothing
        self.choice.setVisible(bool(maps))
        self._draw()

    def current(self) -> tuple[AttentionMap, np.ndarray, str] | None:
        """The chosen layer, its (queries, keys) scores and what they are."""
        text = self.choice.currentText()
        for layer in self.maps:
            prefix = f"{layer.layer_name}: "
            if not text.startswith(prefix):
                continue
            which = text.removeprefix(prefix)
            if which == MEAN:
                return layer, layer.mean(), which
            return layer, np.asarray(layer.scores[int(which.split()[-1]) - 1]), which
        return None

    def _draw(self, *_args: Any) -> None:
        chosen = self.current()
        if chosen is None:
            self.image.clear()
            return
        layer, scores, which = chosen
        top = float(scores.max()) or 1.0
        self.image.setImage(scores, levels=(0.0, top))
        self.scale.setLevels((0.0, top))
        queries, keys = scores.shape
        self.image.setRect(QRectF(0, 0, keys, queries))
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([_ticks(layer.key_labels)])
        item.getAxis("left").setTicks([_ticks(layer.query_labels)])
        item.setTitle(which, color="#333333")  # short: the combo names the layer
        item.autoRange()


def _ticks(labels: list[str]) -> list[tuple[float, str]]:
    """One tick in the middle of each cell, named by its token."""
    return [(i + 0.5, label) for i, label in enumerate(labels)]
