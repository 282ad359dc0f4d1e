"""Training settings, Train/Stop, progress, and live loss and accuracy plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend.datasets import DATASETS
from backend.project import DatasetChoice, Project
from backend.trainer import BatchEnd, EpochEnd, TrainBegin, TrainEnd
from backend.training_config import OPTIMIZERS, TrainingConfig

REDRAW_MS = 100


class Series:
    """Points of one curve, appended cheaply and drawn at most once per redraw tick."""

    def __init__(self) -> None:
        self.x: list[float] = []
        self.y: list[float] = []

    def add(self, x: float, y: float) -> None:
        self.x.append(x)
        self.y.append(y)

    def clear(self) -> None:
        self.x.clear()
        self.y.clear()


class TrainingPanel(QWidget):
    """Edits the project's training settings and shows a run live.

    `train_requested` asks the main window to start a run (it validates the graph first).
    """

    train_requested = Signal()
    stop_requested = Signal()

    def __init__(self, project: Project, parent: Any = None) -> None:
        super().__init__(parent)
        self.project = project
        self.series = {
            key: Series()
            for key in ("loss_batch", "loss", "val_loss", "acc_batch", "accuracy", "val_accuracy")
        }
        self._dirty = False
        self._steps = 1
        self._epochs = 1
        self._build()
        self.load_from_project()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        self.dataset = QComboBox()
        for name, info in DATASETS.items():
            self.dataset.addItem(info.title, name)
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(1e-5, 10.0)
        self.learning_rate.setSingleStep(1e-4)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1 << 16)
        for widget, name in (
            (self.dataset, "dataset"),
            (self.optimizer, "optimizer"),
            (self.learning_rate, "learning_rate"),
            (self.epochs, "epochs"),
            (self.batch_size, "batch_size"),
        ):
            widget.setObjectName(f"train_{name}")
        self.train_button = QPushButton("▶ Train")
        self.train_button.setObjectName("train_button")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setObjectName("stop_button")
        self.stop_button.setEnabled(False)
        self.train_button.clicked.connect(self.train_requested.emit)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.progress = QProgressBar()
        self.progress.setObjectName("train_progress")
        self.status = QLabel("Ready.")
        self.status.setObjectName("train_status")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Data", self.dataset)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMaximumWidth(300)

        pg.setConfigOptions(antialias=True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setObjectName("train_plots")
        self.plots.setBackground("w")
        self.loss_plot = self.plots.addPlot(title="Loss")
        self.acc_plot = self.plots.addPlot(title="Accuracy")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for plot, prefix, batch_key in (
            (self.loss_plot, "loss", "loss_batch"),
            (self.acc_plot, "accuracy", "acc_batch"),
        ):
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.addLegend(offset=(-10, 10))
            self.curves[batch_key] = plot.plot(
                pen=pg.mkPen("#9ecae1", width=1), name="train (batches)"
            )
            self.curves[prefix] = plot.plot(
                pen=pg.mkPen("#1f77b4", width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush="#1f77b4",
                name="train",
            )
            self.curves[f"val_{prefix}"] = plot.plot(
                pen=pg.mkPen("#ff7f0e", width=2),
                symbol="s",
                symbolSize=5,
                symbolBrush="#ff7f0e",
                name="validation",
            )
        # PlotItem.addItem resets these: set them after the curves were added.
        for key in ("loss_batch", "acc_batch"):
            self.curves[key].setDownsampling(auto=True, method="peak")
            self.curves[key].setClipToView(True)

        layout = QHBoxLayout(self)
        layout.addWidget(left_box)
        layout.addWidget(self.plots, 1)

        for widget in (self.dataset, self.optimizer):
            widget.currentIndexChanged.connect(self._store)
        for spin in (self.learning_rate, self.epochs, self.batch_size):
            spin.valueChanged.connect(self._store)

    # ----------------------------------------------------------------- settings <-> project
    def load_from_project(self) -> None:
        t = self.project.training
        widgets = (self.dataset, self.optimizer, self.learning_rate, self.epochs, self.batch_size)
        for w in widgets:
            w.blockSignals(True)
        self.dataset.setCurrentIndex(max(0, self.dataset.findData(self.project.dataset.name)))
        self.optimizer.setCurrentText(t.optimizer)
        self.learning_rate.setValue(t.learning_rate)
        self.epochs.setValue(t.epochs)
        self.batch_size.setValue(t.batch_size)
        for w in widgets:
            w.blockSignals(False)

    def _store(self) -> None:
        t = self.project.training
        config = TrainingConfig(
            **{
                **t.to_dict(),
                "optimizer": self.optimizer.currentText(),
                "learning_rate": float(self.learning_rate.value()),
                "epochs": int(self.epochs.value()),
                "batch_size": int(self.batch_size.value()),
            }
        )
        if config != t:
            self.project.set_training(config)
        name = self.dataset.currentData()
        if name != self.project.dataset.name:
            self.project.set_dataset(DatasetChoice(name=name))

    # ----------------------------------------------------------------- run display
    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.dataset, self.optimizer, self.learning_rate, self.epochs, self.batch_size):
            w.setEnabled(not running)

    def reset_plots(self) -> None:
        for series in self.series.values():
            series.clear()
        self.progress.setValue(0)
        self._dirty = True
        self._redraw()

    def on_event(self, event: Any) -> None:
        if isinstance(event, TrainBegin):
            self._epochs = max(1, event.epochs)
            self._steps = max(1, event.steps_per_epoch)
            self.progress.setRange(0, self._epochs * self._steps)
            self.status.setText("Training…")
        elif isinstance(event, BatchEnd):
            x = event.epoch + (event.step + 1) / self._steps
            if "loss" in event.logs:
                self.series["loss_batch"].add(x, event.logs["loss"])
            if "accuracy" in event.logs:
                self.series["acc_batch"].add(x, event.logs["accuracy"])
            self.progress.setValue(event.epoch * self._steps + event.step + 1)
            self._dirty = True
        elif isinstance(event, EpochEnd):
            x = event.epoch + 1.0
            for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
                if key in event.logs:
                    self.series[key].add(x, event.logs[key])
            self.progress.setValue((event.epoch + 1) * self._steps)
            parts = [f"{k} {v:.4f}" for k, v in event.logs.items() if k != "learning_rate"]
            self.status.setText(f"Epoch {event.epoch + 1}/{self._epochs}: " + ", ".join(parts))
            self._dirty = True
        elif isinstance(event, TrainEnd):
            self._dirty = True
            self._redraw()

    def point_count(self) -> int:
        return sum(len(s.x) for s in self.series.values())

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for key, series in self.series.items():
            self.curves[key].setData(np.asarray(series.x), np.asarray(series.y))
