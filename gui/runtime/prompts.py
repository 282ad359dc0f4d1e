"""Every question and message the window puts to the user, in one object.

Controllers take a `Prompts` instead of reaching for a window: they stay testable, and tests
answer the dialogs by replacing these methods on the one shared instance.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMainWindow, QMessageBox

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class Prompts:
    """Modal questions and errors over `window`, and its status bar."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window

    def status(self, text: str, ms: int = 4000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def show_error(self, title: str, text: str) -> None:
        self.status(text, 10000)
        QMessageBox.warning(self.window, title, text)

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_unsaved(self, name: str) -> str:
        """Unsaved changes to `name`: SAVE, DISCARD or CANCEL."""
        buttons = QMessageBox.StandardButton
        answer: Any = QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"Save changes to '{name}' first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
        )
        if answer == buttons.Save:
            return SAVE
        return DISCARD if answer == buttons.Discard else CANCEL
