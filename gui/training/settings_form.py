"""Editors generated from a dataclass field's `Setting` (backend/document/training_config.py).

The training settings form is built from these, as the Inspector is built from Keras'
signatures: a field's metadata says its label, help, editor kind, range and choices, so a new
setting needs no code here. Each `FieldEditor` shows a value and reads it back; it never writes
the project itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from backend.document.training_config import Param, Setting

INT_LIMIT = 2**31 - 1


class _WheelGuard(QObject):
    """Scrolling the form must not change the value under the pointer: a spin box or combo
    takes the wheel only once the user has clicked into it (it has focus)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        if watched.hasFocus():
            return False
        area = watched.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:  # the form scrolls instead
            QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        return True


WHEEL_GUARD = _WheelGuard()


def guard_wheel(widget: QWidget) -> None:
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    widget.installEventFilter(WHEEL_GUARD)


class CompactSpinBox(QDoubleSpinBox):
    """A decimal spin box that shows 0.002, 1e-05 and 0 rather than 0.002000 and 0.00000,
    and takes typed values in either form."""

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        body = text.strip().replace(",", ".")
        try:
            value = float(body)
        except ValueError:
            partial = body in ("", "-", ".") or body.endswith(("e", "e-", "E", "E-", "."))
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


def _spin(info: Setting | Param, is_float: bool) -> QSpinBox | QDoubleSpinBox:
    lo = info.minimum if info.minimum is not None else 0
    hi = info.maximum if info.maximum is not None else INT_LIMIT
    box: QSpinBox | QDoubleSpinBox
    if is_float:
        box = CompactSpinBox()
        box.setDecimals(info.decimals if info.decimals is not None else 4)
        box.setRange(float(lo), float(hi))
        box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    else:
        box = QSpinBox()
        box.setRange(int(lo), int(min(hi, INT_LIMIT)))
    box.setKeyboardTracking(False)  # one edit when typing "128", not three
    guard_wheel(box)
    return box


class FieldEditor:
    """The editor of one setting: `widget`, `value()`, `show(value)` and `on_change(slot)`."""

    def __init__(self, name: str, info: Setting, default: Any) -> None:
        self.name = name
        self.info = info
        self.default = default
        self.kind = info.kind(default)
        self.widget = self._build()
        self.widget.setObjectName(f"train_{name}")
        tip = info.help
        if self.kind == "names" and info.choices:
            tip += " Known: " + ", ".join(str(v) for v, _ in info.choices) + "."
        self.widget.setToolTip(tip)
        self.widget.setStatusTip(info.help)

    def _build(self) -> QWidget:
        if self.kind == "bool":
            return QCheckBox(self.info.label)
        if self.kind in ("choice", "device"):
            combo = QComboBox()
            for value, label in self.info.choices:
                combo.addItem(label, value)
            guard_wheel(combo)
            return combo
        if self.kind in ("int", "float"):
            return _spin(self.info, self.kind == "float")
        edit = QLineEdit()
        edit.setPlaceholderText(self.info.placeholder)
        return edit

    @property
    def row_label(self) -> str:
        """The form's label column (a check box carries its own label)."""
        return "" if self.kind == "bool" else self.info.label

    def on_change(self, slot: Callable[[], None]) -> None:
        w = self.widget
        if isinstance(w, QCheckBox):
            w.toggled.connect(slot)
        elif isinstance(w, QComboBox):
            w.currentIndexChanged.connect(slot)
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.valueChanged.connect(slot)
        elif isinstance(w, QLineEdit):
            w.editingFinished.connect(slot)

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return int(w.value())
        if isinstance(w, QDoubleSpinBox):
            return float(w.value())
        assert isinstance(w, QLineEdit)
        text = w.text().strip()
        if self.kind == "names":
            return [part.strip() for part in text.split(",") if part.strip()]
        return text or (None if self.default is None else "")

    def show(self, value: Any) -> None:
        """Show `value` without reporting a change."""
        w = self.widget
        w.blockSignals(True)
        try:
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                self._choose(w, value)
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)
            elif isinstance(w, QLineEdit):
                text = ", ".join(value) if self.kind == "names" else (value or "")
                w.setText(str(text))
        finally:
            w.blockSignals(False)

    def _choose(self, combo: QComboBox, value: Any) -> None:
        for i in range(combo.count()):
            if combo.itemData(i) == value:
                combo.setCurrentIndex(i)
                return
        # a value this machine does not offer (a file from another machine): shown, kept
        combo.addItem(f"{value} (not on this machine)", value)
        combo.setCurrentIndex(combo.count() - 1)

    def set_choices(self, choices: list[tuple[Any, str]]) -> None:
        """Replace a choice editor's items (the devices TensorFlow sees), keeping the value."""
        combo = self.widget
        assert isinstance(combo, QComboBox)
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for value, label in choices:
            combo.addItem(label, value)
        combo.blockSignals(False)
        self.show(current)


class ParamsEditor:
    """A dict-valued setting whose entries depend on another field (a schedule's parameters):
    one spin box per (choice, entry), only the chosen value's rows shown."""

    def __init__(self, name: str, info: Setting, form: QFormLayout) -> None:
        self.name = name
        self.info = info
        self.form = form
        self.boxes: dict[str, dict[str, QSpinBox | QDoubleSpinBox]] = {}
        self.labels: list[QLabel] = []
        for choice, params in info.params.items():
            self.boxes[choice] = {}
            for param in params:
                box = _spin(param, param.decimals > 0)
                box.setObjectName(f"train_{name}_{choice}_{param.key}")
                box.setToolTip(param.help)
                label = QLabel(param.label)
                label.setToolTip(param.help)
                form.addRow(label, box)
                self.boxes[choice][param.key] = box
        self.current = ""

    def on_change(self, slot: Callable[[], None]) -> None:
        for boxes in self.boxes.values():
            for box in boxes.values():
                box.valueChanged.connect(slot)

    def show(self, choice: str, values: dict[str, Any]) -> None:
        """Show `choice`'s rows with `values` (missing keys: their defaults)."""
        self.current = choice
        for owner, params in self.info.params.items():
            for param in params:
                box = self.boxes[owner][param.key]
                box.blockSignals(True)
                given = values.get(param.key, param.default) if owner == choice else param.default
                box.setValue(float(given) if param.decimals else int(given))
                box.blockSignals(False)
                self.form.setRowVisible(box, owner == choice)

    def value(self) -> dict[str, Any]:
        params = self.info.params.get(self.current, ())
        return {
            p.key: float(self.boxes[self.current][p.key].value())
            if p.decimals
            else int(self.boxes[self.current][p.key].value())
            for p in params
        }

    def box(self, key: str) -> QSpinBox | QDoubleSpinBox:
        """The shown spin box of an entry (of the current choice)."""
        return self.boxes[self.current][key]

    def widgets(self) -> list[QWidget]:
        return [box for boxes in self.boxes.values() for box in boxes.values()]
