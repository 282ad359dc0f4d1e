"""Quick add: type a layer name, press Enter, and it is placed after the selected layer."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCompleter, QDialog, QLabel, QLineEdit, QVBoxLayout

from backend.document.layer_table import LAYERS


class QuickAdd(QDialog):
    chosen = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Quick add")
        self.setObjectName("quick_add")
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Layer name, e.g. Dense, Conv2D, LSTM…")
        completer = QCompleter(sorted(LAYERS), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(completer)
        self.hint = QLabel("Enter adds it after the selected layer, connected.", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        self.edit.returnPressed.connect(self._accept)

    def match(self, text: str) -> str | None:
        """The layer type for what was typed: exact (any case), else the first containing it."""
        needle = text.strip().lower()
        if not needle:
            return None
        for name in LAYERS:
            if name.lower() == needle:
                return name
        return next((name for name in sorted(LAYERS) if needle in name.lower()), None)

    def _accept(self) -> None:
        layer_type = self.match(self.edit.text())
        if layer_type is None:
            self.hint.setText(f"No layer matches '{self.edit.text()}'.")
            return
        self.chosen.emit(layer_type)
        self.accept()

    def open_fresh(self) -> None:
        self.edit.clear()
        self.show()
        self.raise_()
        self.edit.setFocus()
