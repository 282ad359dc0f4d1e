"""The training settings form, generated from `TrainingConfig`'s field metadata.

Each field's `Setting` (backend/document/training_config.py) gives its label, help, group
(basic, advanced, or no editor), section, editor and range; `visible_when` hides a field while
it does not matter (momentum for Adam). Basic sections show first; "Advanced" opens the rest.
The learning-rate schedule's preview curve sits under the schedule. An edit becomes the
changed fields handed to `apply` (the window makes them one undoable command); the form mirrors
the project again whenever its settings change (undo, another project).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backend.document.project import Project
from backend.document.training_config import (
    ADVANCED,
    BASIC,
    TrainingConfig,
    is_visible,
    setting_fields,
)
from backend.training.optimizers import schedule_curve
from gui.training.rate_axis import show_rates
from gui.training.settings_form import FieldEditor, ParamsEditor

PREVIEW_HEIGHT = 110


class TrainingSettings(QScrollArea):
    """Editors of every shown `TrainingConfig` field, by group and section."""

    changed = Signal()

    def __init__(
        self,
        project: Project,
        apply: Callable[[dict[str, Any]], None] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.apply = apply or (lambda c: project.set_training(replace(project.training, **c)))
        """Applies {field: value} changes (the window: one undoable workflow command)."""
        self.setObjectName("training_settings")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.editors: dict[str, FieldEditor] = {}
        self.params: dict[str, ParamsEditor] = {}
        self.forms: dict[str, QFormLayout] = {}  # field name -> the form it sits in
        self.sections: dict[tuple[str, str], QGroupBox] = {}
        body = QWidget()
        self.column = QVBoxLayout(body)
        self.data_label = QLabel()
        self.data_label.setObjectName("train_data")
        self.data_label.setWordWrap(True)
        self.column.addWidget(self.data_label)
        self._build_group(BASIC)
        self.advanced_button = QToolButton()
        self.advanced_button.setObjectName("train_advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setText("Advanced settings")
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.toggled.connect(self.show_advanced)
        self.column.addWidget(self.advanced_button)
        self.advanced = QWidget()
        self.advanced_column = QVBoxLayout(self.advanced)
        self.advanced_column.setContentsMargins(0, 0, 0, 0)
        self.column.addWidget(self.advanced)
        self._build_group(ADVANCED, self.advanced_column)
        self.advanced.setVisible(False)
        self.column.addStretch(1)  # sections keep their height; the room stays below
        self.setWidget(body)
        for name, editor in self.editors.items():
            editor.on_change(lambda *_, n=name: self.store(n))
        for name, params in self.params.items():
            params.on_change(lambda *_, n=name: self.store(n))
        self.load()
        project.changed.connect(self._on_project_changed)

    # ----------------------------------------------------------------- building
    def _build_group(self, group: str, column: QVBoxLayout | None = None) -> None:
        column = column or self.column
        for name, info, default in setting_fields():
            if info.group != group:
                continue
            key = (group, info.section)
            if key not in self.sections:
                box = QGroupBox(info.section)
                box.setObjectName(f"train_section_{group}_{info.section.lower()}")
                form = QFormLayout(box)
                form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                self.sections[key] = box
                column.addWidget(box)
            form = self.sections[key].layout()
            assert isinstance(form, QFormLayout)
            self.forms[name] = form
            if info.kind(default) == "params":
                self.params[name] = ParamsEditor(name, info, form)
                if name == "schedule_params":
                    form.addRow(self._build_preview())
                continue
            editor = FieldEditor(name, info, default)
            self.editors[name] = editor
            if editor.row_label:
                label = QLabel(editor.row_label)
                label.setToolTip(info.help)
                label.setBuddy(editor.widget)
                form.addRow(label, editor.widget)
            else:
                form.addRow(editor.widget)

    def _build_preview(self) -> pg.PlotWidget:
        self.preview = pg.PlotWidget()
        self.preview.setObjectName("lr_preview")
        self.preview.setToolTip("The learning rate of each epoch under this schedule")
        self.preview.setFixedHeight(PREVIEW_HEIGHT)
        self.preview.setBackground("w")
        self.preview.setMenuEnabled(False)
        self.preview.setMouseEnabled(x=False, y=False)
        self.preview.hideButtons()
        plot = self.preview.getPlotItem()
        plot.setLabel("bottom", "epoch")
        plot.setLogMode(y=True)
        left = plot.getAxis("left")
        left.enableAutoSIPrefix(False)  # ticks read "0.002", never a prefix over them
        left.setWidth(48)
        self.preview_curve = self.preview.plot(pen=pg.mkPen("#2ca02c", width=2))
        return self.preview

    # ----------------------------------------------------------------- access
    def editor(self, name: str) -> Any:
        """The widget editing a field (a combo, a spin box, a check box, a line edit)."""
        return self.editors[name].widget

    def schedule_box(self, key: str) -> Any:
        """The spin box of the current schedule's parameter `key`."""
        return self.params["schedule_params"].box(key)

    def widgets(self) -> list[QWidget]:
        found = [e.widget for e in self.editors.values()]
        return found + [w for p in self.params.values() for w in p.widgets()]

    def show_advanced(self, on: bool) -> None:
        self.advanced.setVisible(on)
        self.advanced_button.setChecked(on)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    # ----------------------------------------------------------------- project <-> form
    def load(self) -> None:
        """Show the project's settings."""
        config = self.project.training
        for name, editor in self.editors.items():
            editor.show(getattr(config, name))
        for name, params in self.params.items():
            params.show(getattr(config, params.info.params_of), getattr(config, name))
        self._shown = config
        self._update_visibility(config)
        self._preview(config)
        self.show_data_choice()

    def show_data_choice(self) -> None:
        from backend.data import DATASETS

        choice = self.project.dataset
        if choice is None:
            self.data_label.setText(
                "<span style='color:#C0392B'>No data chosen yet</span>: pick it in the Data tab "
                "before training."
            )
            return
        info = DATASETS.get(choice.name)
        title = info.title if info is not None else choice.name
        self.data_label.setText(f"Data: <b>{title}</b> (change it in the Data tab)")

    def changes(self, name: str) -> dict[str, Any]:
        """Field `name` as its editor shows it, if it differs from the project's (only that
        field: a value an editor cannot show exactly is never rewritten by another edit)."""
        old = self.project.training
        if name in self.params:
            value = self.params[name].value()
            return {name: value} if value != getattr(old, name) else {}
        value = self.editors[name].value()
        if value == getattr(old, name):
            return {}
        changes = {name: value}
        for params_name, params in self.params.items():
            if params.info.params_of == name and getattr(old, params_name):
                changes[params_name] = {}  # another schedule starts from its defaults
        return changes

    def store(self, name: str) -> None:
        changes = self.changes(name)
        if changes:
            self.apply(changes)
            self.changed.emit()
        if self.project.training != self._shown:
            self.load()  # rows that depend on it, the schedule's parameters, the preview

    def _on_project_changed(self) -> None:
        if self.project.training != self._shown:
            self.load()
        else:
            self.show_data_choice()

    def _update_visibility(self, config: TrainingConfig) -> None:
        for name, editor in self.editors.items():
            self.forms[name].setRowVisible(editor.widget, is_visible(config, editor.info))
        for box in self.sections.values():
            form = box.layout()
            assert isinstance(form, QFormLayout)
            shown = any(form.isRowVisible(row) for row in range(form.rowCount()))
            box.setVisible(shown)

    def _preview(self, config: TrainingConfig) -> None:
        curve = schedule_curve(config)
        self.preview_curve.setData(list(range(1, len(curve) + 1)), curve)
        show_rates(self.preview.getPlotItem(), curve)

    # ----------------------------------------------------------------- machine and state
    def set_devices(self, devices: list[dict[str, str]]) -> None:
        """The devices TensorFlow sees, as `backend.training.devices.list_devices` gives them."""
        gpus = [d for d in devices if d["type"] == "GPU"]
        choices: list[tuple[Any, str]] = [("auto", "auto"), ("cpu", "CPU")]
        choices += [(f"gpu:{i}", f"GPU {i}: {gpu['name']}") for i, gpu in enumerate(gpus)]
        if len(gpus) > 1:
            choices.append(("mirrored", f"all {len(gpus)} GPUs (mirrored)"))
        self.editors["device"].set_choices(choices)

    def set_enabled(self, enabled: bool) -> None:
        for widget in self.widgets():
            widget.setEnabled(enabled)
