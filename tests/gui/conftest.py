"""GUI fixtures: a real MainWindow, offscreen, with Keras loaded and dialogs captured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import Project
from backend.templates.examples import digits_cnn
from gui.main_window import MainWindow

KERAS_TIMEOUT_MS = 90_000


class Dialogs:
    """Stands in for modal dialogs: records errors and questions, answers 'discard' to
    unsaved changes (or 'cancel' with `discard_answer = False`) and `confirm_answer` to the
    rest."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.discard_answer = True
        self.confirm_answer = True
        self.questions: list[str] = []

    def show_error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def ask_unsaved(self, name: str) -> str:
        self.questions.append(f"Save changes to '{name}' first?")
        return "discard" if self.discard_answer else "cancel"

    def confirm(self, title: str, text: str) -> bool:
        self.questions.append(text)
        return self.confirm_answer


def make_window(qtbot: Any, project: Project, dialogs: Dialogs) -> MainWindow:
    window = MainWindow(project)
    window.prompts.show_error = dialogs.show_error  # type: ignore[method-assign]
    window.prompts.ask_unsaved = dialogs.ask_unsaved  # type: ignore[method-assign]
    window.prompts.confirm = dialogs.confirm  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.keras_ready, timeout=KERAS_TIMEOUT_MS):
        window.start_loading_keras()
    return window


def finish_jobs(qtbot: Any, window: MainWindow, timeout_ms: int = 120_000) -> None:
    """Wait until the window's background job (export, import...) has ended."""
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=timeout_ms)


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
    assert not win.jobs.busy
    assert not win.is_training


def private_qsettings(folder: Path) -> None:
    """QSettings() of the code under test (layout direction, export folder...) read and write
    files under `folder`, never the user's (nor another test's) settings."""
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


@pytest.fixture(autouse=True)
def _private_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    private_qsettings(tmp_path_factory.mktemp("qsettings"))


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    extra = [
        t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon
    ]
    assert not extra, f"threads left running: {extra}"
