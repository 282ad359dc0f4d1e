"""GUI fixtures: a real MainWindow, offscreen, with Keras loaded and dialogs captured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from backend.document.project import Project
from backend.templates.examples import digits_cnn
from gui.main_window import MainWindow

KERAS_TIMEOUT_MS = 90_000


class Dialogs:
    """Stands in for modal dialogs: records errors, answers 'discard' to unsaved-changes."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.discard_answer = True
        self.confirm_answer = True
        self.questions: list[str] = []

    def show_error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def confirm_discard(self) -> bool:
        return self.discard_answer

    def confirm(self, title: str, text: str) -> bool:
        self.questions.append(text)
        return self.confirm_answer


def make_window(qtbot: Any, project: Project, dialogs: Dialogs) -> MainWindow:
    window = MainWindow(project)
    window.show_error = dialogs.show_error  # type: ignore[method-assign]
    window.confirm_discard = dialogs.confirm_discard  # type: ignore[method-assign]
    window.confirm = dialogs.confirm  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.keras_ready, timeout=KERAS_TIMEOUT_MS):
        window.start_loading_keras()
    return window


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def window(qtbot: Any, dialogs: Dialogs) -> Iterator[MainWindow]:
    """The main window on the built-in digits example, short training for tests."""
    project = digits_cnn()
    project.training.epochs = 2
    win = make_window(qtbot, project, dialogs)
    yield win
    win.shutdown()
    assert not win.is_training


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    extra = [
        t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon
    ]
    assert not extra, f"threads left running: {extra}"
