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
from backend.templates.gallery import TemplateError, TemplateInfo, opens_with, templates

DATA_ROLE = Qt.ItemDataRole.UserRole + 1
INFO_ROLE = Qt.ItemDataRole.UserRole + 2


class StartPanel(QWidget):
    """Emits what the user picked; the main window opens it (asking about unsaved work)."""

    recover_requested = Signal(object)  # Autosave
    open_requested = Signal(str)  # a project path
    template_requested = Signal(str)  # a template id (backend.templates.gallery)
    pretrained_requested = Signal()  # "Start from a pretrained network…"

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
            item.setData(INFO_ROLE, info)
            item.setToolTip(f"{info.description}\n\n{info.teaches}".strip())
        self.pretrained_button = QPushButton("Start from a pretrained network…")
        self.pretrained_button.setObjectName("start_pretrained")
        self.pretrained_button.setToolTip(
            "MobileNet, EfficientNet, ResNet and the other keras.applications networks, "
            "pretrained on ImageNet, with a new head for your classes (transfer learning)."
        )
        self.template_details = QLabel()
        self.template_details.setObjectName("template_details")
        self.template_details.setWordWrap(True)
        layout.addWidget(self.recover_title)
        layout.addWidget(self.recover_list)
        layout.addLayout(row)
        layout.addWidget(QLabel("<b>New from template</b> (double-click)"))
        layout.addWidget(self.templates, 2)
        layout.addWidget(self.template_details)
        layout.addWidget(self.pretrained_button)
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
        self.templates.currentItemChanged.connect(self._show_template)
        self.pretrained_button.clicked.connect(self.pretrained_requested)
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

    def _show_template(self, item: QListWidgetItem | None) -> None:
        """The picked template's description and, for one offering a pretrained backbone,
        which model it will open with here (the Keras cache is read now: a download since
        counts)."""
        info: TemplateInfo | None = item.data(INFO_ROLE) if item is not None else None
        if info is None:
            self.template_details.clear()
            return
        text = _escape(info.description)
        try:
            choice = opens_with(info)
            model = f"Opens with {choice.note}." if choice is not None else ""
        except TemplateError as exc:
            model = str(exc)
        if model:
            text += f"<br><i>{_escape(model)}</i>"
        self.template_details.setText(text)

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


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
