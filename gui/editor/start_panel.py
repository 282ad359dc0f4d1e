"""The start panel: recover autosaved work, recent projects, templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.document.session_files import Autosave, pending_autosaves, recent_projects
from backend.templates.gallery import templates

DATA_ROLE = Qt.ItemDataRole.UserRole + 1


class StartPanel(QWidget):
    """Emits what the user picked; the main window opens it (asking about unsaved work)."""

    recover_requested = Signal(object)  # Autosave
    open_requested = Signal(str)  # a project path
    template_requested = Signal(str)  # a template id (backend.templates.gallery)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("start_panel")
        layout = QVBoxLayout(self)
        self.recover_title = QLabel("<b>Recover unsaved work</b>")
        self.recover_list = QListWidget()
        self.recover_list.setObjectName("recover_list")
        self.recover_button = QPushButton("Recover")
        self.discard_button = QPushButton("Discard")
        row = QHBoxLayout()
        row.addWidget(self.recover_button)
        row.addWidget(self.discard_button)
        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recent_list")
        self.templates = QListWidget()
        self.templates.setObjectName("template_list")
        for info in templates():
            item = QListWidgetItem(info.title, self.templates)
            item.setData(DATA_ROLE, info.id)
            item.setToolTip(f"{info.description}\n\n{info.teaches}".strip())
        layout.addWidget(self.recover_title)
        layout.addWidget(self.recover_list)
        layout.addLayout(row)
        layout.addWidget(QLabel("<b>New from template</b> (double-click)"))
        layout.addWidget(self.templates, 2)
        layout.addWidget(QLabel("<b>Recent projects</b> (double-click)"))
        layout.addWidget(self.recent_list, 1)
        self.recover_button.clicked.connect(self._recover)
        self.discard_button.clicked.connect(self._discard)
        self.recent_list.itemActivated.connect(
            lambda item: item.data(DATA_ROLE) and self.open_requested.emit(item.data(DATA_ROLE))
        )
        self.templates.itemActivated.connect(
            lambda item: self.template_requested.emit(item.data(DATA_ROLE))
        )
        self.refresh()

    def refresh(self) -> None:
        self.recover_list.clear()
        pending = pending_autosaves()
        for autosave in pending:
            item = QListWidgetItem(autosave.describe(), self.recover_list)
            item.setData(DATA_ROLE, autosave)
        if pending:
            self.recover_list.setCurrentRow(0)
        for widget in (
            self.recover_title,
            self.recover_list,
            self.recover_button,
            self.discard_button,
        ):
            widget.setVisible(bool(pending))
        self.recent_list.clear()
        recent = recent_projects()
        for path in recent:
            item = QListWidgetItem(f"{path.name}  —  {path.parent}", self.recent_list)
            item.setData(DATA_ROLE, str(path))
            item.setToolTip(str(path))
        if not recent:  # say what will appear here; the hint opens nothing
            hint = QListWidgetItem("Projects you open or save appear here.", self.recent_list)
            hint.setFlags(Qt.ItemFlag.NoItemFlags)

    @property
    def has_pending(self) -> bool:
        return self.recover_list.count() > 0

    def _selected_autosave(self) -> Autosave | None:
        item = self.recover_list.currentItem()
        return item.data(DATA_ROLE) if item is not None else None

    def _recover(self) -> None:
        autosave = self._selected_autosave()
        if autosave is not None:
            self.recover_requested.emit(autosave)

    def _discard(self) -> None:
        autosave = self._selected_autosave()
        if autosave is not None:
            Path(autosave.path).unlink(missing_ok=True)
            self.refresh()
