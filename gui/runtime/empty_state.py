"""A view that says what to do while it has nothing to show, instead of drawing empty axes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

EMPTY, CONTENT = 0, 1


class EmptyState(QStackedWidget):
    """`content` behind a centred, wrapped message; `show_content(True)` once there is data."""

    def __init__(self, content: QWidget, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(message)
        self.message.setObjectName("empty_state")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: palette(placeholder-text); padding: 12px;")
        self.content = content
        self.addWidget(self.message)
        self.addWidget(content)
        self.setCurrentIndex(EMPTY)

    def show_content(self, shown: bool) -> None:
        self.setCurrentIndex(CONTENT if shown else EMPTY)

    @property
    def empty(self) -> bool:
        return self.currentIndex() == EMPTY

    def set_message(self, text: str) -> None:
        self.message.setText(text)
