"""The training settings form: every `TrainingConfig` field with an editor, and the
learning-rate schedule's preview curve. Edits go to the project (`Project.set_training`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QWidget,
)

from backend.document.project import Project
from backend.document.training_config import DEVICES, LOSSES, OPTIMIZERS, SCHEDULES, TrainingConfig
from backend.training.optimizers import schedule_curve

# Per schedule: (parameter key, label, default, minimum, maximum, decimals)
SCHEDULE_PARAMS: dict[str, list[tuple[str, str, float, float, float, int]]] = {
    "constant": [],
    "step": [
        ("every_epochs", "every (epochs)", 10, 1, 10000, 0),
        ("factor", "multiply by", 0.5, 0.01, 1, 3),
    ],
    "exponential": [("decay_rate", "decay per epoch", 0.9, 0.01, 1, 3)],
    "cosine": [("alpha", "final fraction", 0.0, 0, 1, 3)],
    "reduce_on_plateau": [
        ("factor", "multiply by", 0.5, 0.01, 1, 3),
        ("patience", "patience (epochs)", 3, 1, 1000, 0),
    ],
}


def _double(lo: float, hi: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


class TrainingSettings(QTabWidget):
    """Two tabs (Basics, Advanced) of editors bound to `project.training`."""

    changed = Signal()

    def __init__(self, project: Project, parent: Any = None) -> None:
        super().__init__(parent)
        self.project = project
        self.setObjectName("training_settings")
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.learning_rate = _double(1e-6, 10.0, 6, 1e-4)
        self.momentum = _double(0.0, 0.999, 3, 0.05)
        self.nesterov = QCheckBox("Nesterov")
        self.weight_decay = _double(0.0, 1.0, 5, 1e-4)
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        self.schedule_boxes = [_double(0, 10000, 3, 0.1), _double(0, 10000, 3, 0.1)]
        self.loss = QComboBox()
        self.loss.addItems(list(LOSSES))
        self.from_logits = QCheckBox("outputs are logits (from_logits)")
        self.metrics = QLineEdit()
        self.metrics.setPlaceholderText("accuracy, auc…")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1 << 16)
        self.class_weight = QComboBox()
        self.class_weight.addItems(["none", "balanced"])
        self.early_stopping = QCheckBox("early stopping")
        self.patience = QSpinBox()
        self.patience.setRange(1, 1000)
        self.checkpoint = QCheckBox("keep the best epoch's weights")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.device = QComboBox()
        for value in DEVICES:
            self.device.addItem(value, value)
        self.mixed_precision = QCheckBox("mixed precision (float16)")
        self.jit_compile = QCheckBox("XLA (jit_compile)")
        self.histograms = QCheckBox("weight and gradient histograms")
        self.tensorboard = QLineEdit()
        self.tensorboard.setPlaceholderText("(no TensorBoard log)")
        self.preview = pg.PlotWidget()
        self.preview.setObjectName("lr_preview")
        self.preview.setFixedHeight(90)
        self.preview.setBackground("w")
        self.preview.setLabel("bottom", "epoch")
        self.preview.setLogMode(y=True)
        self.preview_curve = self.preview.plot(pen=pg.mkPen("#2ca02c", width=2))

        basics = QWidget()
        form = QFormLayout(basics)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Schedule", self.schedule)
        self.schedule_rows = []
        for box in self.schedule_boxes:
            form.addRow("", box)
            self.schedule_rows.append(form.labelForField(box))
        form.addRow(self.preview)
        form.addRow("Loss", self.loss)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        advanced = QWidget()
        more = QFormLayout(advanced)
        more.addRow("Momentum", self.momentum)
        more.addRow("", self.nesterov)
        more.addRow("Weight decay", self.weight_decay)
        more.addRow("", self.from_logits)
        more.addRow("Metrics", self.metrics)
        more.addRow("Class weights", self.class_weight)
        more.addRow(self.early_stopping, self.patience)
        more.addRow("", self.checkpoint)
        more.addRow("Seed", self.seed)
        more.addRow("Device", self.device)
        more.addRow("", self.mixed_precision)
        more.addRow("", self.jit_compile)
        more.addRow("", self.histograms)
        more.addRow("TensorBoard", self.tensorboard)
        self.addTab(basics, "Basics")
        self.addTab(advanced, "Advanced")
        for name, widget in vars(self).items():
            if isinstance(widget, (QComboBox, QSpinBox, QDoubleSpinBox, QCheckBox, QLineEdit)):
                widget.setObjectName(f"train_{name}")
        self.load()
        for combo in (self.optimizer, self.schedule, self.loss, self.class_weight, self.device):
            combo.currentIndexChanged.connect(self.store)
        for spin in (
            self.learning_rate,
            self.momentum,
            self.weight_decay,
            self.epochs,
            self.batch_size,
            self.patience,
            self.seed,
            *self.schedule_boxes,
        ):
            spin.valueChanged.connect(self.store)
        for box in (
            self.nesterov,
            self.from_logits,
            self.early_stopping,
            self.checkpoint,
            self.mixed_precision,
            self.jit_compile,
            self.histograms,
        ):
            box.toggled.connect(self.store)
        for line in (self.metrics, self.tensorboard):
            line.editingFinished.connect(self.store)

    def editors(self) -> list[QWidget]:
        return [
            w
            for w in vars(self).values()
            if isinstance(w, (QComboBox, QSpinBox, QDoubleSpinBox, QCheckBox, QLineEdit))
        ]

    def load(self) -> None:
        """Show the project's settings (after opening a project)."""
        t = self.project.training
        editors = self.editors()
        for w in editors:
            w.blockSignals(True)
        self.optimizer.setCurrentText(t.optimizer)
        self.learning_rate.setValue(t.learning_rate)
        self.momentum.setValue(t.momentum)
        self.nesterov.setChecked(t.nesterov)
        self.weight_decay.setValue(t.weight_decay)
        self.schedule.setCurrentText(t.schedule)
        self.loss.setCurrentText(t.loss)
        self.from_logits.setChecked(t.from_logits)
        self.metrics.setText(", ".join(t.metrics))
        self.epochs.setValue(t.epochs)
        self.batch_size.setValue(t.batch_size)
        self.class_weight.setCurrentText(t.class_weight or "none")
        self.early_stopping.setChecked(t.early_stopping)
        self.patience.setValue(t.patience)
        self.checkpoint.setChecked(t.checkpoint)
        self.seed.setValue(t.seed)
        index = self.device.findData(t.device)
        if index < 0:  # a device this machine does not have (the file came from another)
            self.device.addItem(f"{t.device} (not on this machine)", t.device)
            index = self.device.count() - 1
        self.device.setCurrentIndex(index)
        self.mixed_precision.setChecked(t.mixed_precision)
        self.jit_compile.setChecked(t.jit_compile)
        self.histograms.setChecked(t.histograms)
        self.tensorboard.setText(t.tensorboard_dir or "")
        self._show_schedule_params(t)
        for w in editors:
            w.blockSignals(False)
        self._preview()

    def _show_schedule_params(self, t: TrainingConfig) -> None:
        specs = SCHEDULE_PARAMS[t.schedule]
        for i, (box, label) in enumerate(zip(self.schedule_boxes, self.schedule_rows, strict=True)):
            visible = i < len(specs)
            box.setVisible(visible)
            if label is not None:
                label.setVisible(visible)
            if visible:
                key, text, default, lo, hi, decimals = specs[i]
                box.blockSignals(True)
                box.setRange(lo, hi)
                box.setDecimals(decimals)
                box.setValue(float(t.schedule_params.get(key, default)))
                box.blockSignals(False)
                if label is not None:
                    label.setText(text)

    def store(self) -> None:
        old = self.project.training
        schedule = self.schedule.currentText()
        specs = SCHEDULE_PARAMS[schedule]
        params = {}
        if schedule == old.schedule:
            for (key, *_rest), box in zip(specs, self.schedule_boxes, strict=False):
                params[key] = int(box.value()) if _rest[-1] == 0 else float(box.value())
        metrics = [m.strip() for m in self.metrics.text().split(",") if m.strip()]
        config = replace(
            old,
            optimizer=self.optimizer.currentText(),
            learning_rate=float(self.learning_rate.value()),
            momentum=float(self.momentum.value()),
            nesterov=self.nesterov.isChecked(),
            weight_decay=float(self.weight_decay.value()),
            schedule=schedule,
            schedule_params=params,
            loss=self.loss.currentText(),
            from_logits=self.from_logits.isChecked(),
            metrics=metrics,
            epochs=int(self.epochs.value()),
            batch_size=int(self.batch_size.value()),
            class_weight=None if self.class_weight.currentText() == "none" else "balanced",
            early_stopping=self.early_stopping.isChecked(),
            patience=int(self.patience.value()),
            checkpoint=self.checkpoint.isChecked(),
            seed=int(self.seed.value()),
            device=str(self.device.currentData()),
            mixed_precision=self.mixed_precision.isChecked(),
            jit_compile=self.jit_compile.isChecked(),
            histograms=self.histograms.isChecked(),
            tensorboard_dir=self.tensorboard.text().strip() or None,
        )
        if config != old:
            self.project.set_training(config)
            self.changed.emit()
        if schedule != old.schedule:
            self._show_schedule_params(config)
        self._preview()

    def set_devices(self, devices: list[dict[str, str]]) -> None:
        """The devices TensorFlow sees, as `backend.training.devices.list_devices` gives them."""
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItem("auto (TensorFlow chooses)", "auto")
        gpus = [d for d in devices if d["type"] == "GPU"]
        self.device.addItem("CPU", "cpu")
        for i, gpu in enumerate(gpus):
            self.device.addItem(f"GPU {i}: {gpu['name']}", f"gpu:{i}")
        if len(gpus) > 1:
            self.device.addItem(f"all {len(gpus)} GPUs (mirrored)", "mirrored")
        self.device.blockSignals(False)
        self.load()

    def set_enabled(self, enabled: bool) -> None:
        for widget in self.editors():
            widget.setEnabled(enabled)

    def _preview(self) -> None:
        curve = schedule_curve(self.project.training)
        self.preview_curve.setData(list(range(1, len(curve) + 1)), curve)
