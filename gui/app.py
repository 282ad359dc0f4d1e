"""Starting the application: the window first, TensorFlow in the background."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from backend.document.project import MODEL_SUFFIXES, Project, ProjectError, load_project
from backend.templates.examples import DEFAULT_EXAMPLE, EXAMPLES
from backend.training.trainer import TrainResult

SCREENSHOT_TIMEOUT_MS = 120_000


def initial_project(project_path: str | None, example: str | None) -> tuple[Project, str | None]:
    """The project to open, and an error to show if the requested one could not be read."""
    if project_path:
        try:
            return load_project(project_path), None
        except ProjectError as exc:
            return EXAMPLES[DEFAULT_EXAMPLE](), str(exc)
    if example:
        if example not in EXAMPLES:
            known = ", ".join(EXAMPLES)
            return EXAMPLES[DEFAULT_EXAMPLE](), f"unknown example {example!r}; known: {known}"
        return EXAMPLES[example](), None
    return EXAMPLES[DEFAULT_EXAMPLE](), None


def run_app(
    project_path: str | None = None,
    screenshot: str | None = None,
    example: str | None = None,
    train_and_exit: bool = False,
    epochs: int | None = None,
) -> int:
    start = time.perf_counter()
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("DeepCanvas")
    app.setOrganizationName("DeepCanvas")
    model = project_path if Path(project_path or "").suffix.lower() in MODEL_SUFFIXES else None
    project, error = initial_project(None if model else project_path, example)
    if epochs is not None:
        project.training.epochs = epochs
    window = MainWindow(project)
    window.show()
    app.processEvents()
    if os.environ.get("DEEPCANVAS_TIMING"):
        shown = time.perf_counter() - start
        print(f"window-shown-at {time.time():.3f} ({shown:.2f} s in run_app)", file=sys.stderr)
        window.keras_ready.connect(
            lambda: print(f"keras-ready-at {time.time():.3f}", file=sys.stderr, flush=True)
        )
    if model:  # `main.py model.keras`: imported as File > Open does, once Keras is loaded
        window.keras_ready.connect(lambda: window.files.open_project(model))
    window.start_loading_keras()
    if error:
        print(f"DeepCanvas: {error}", file=sys.stderr)
        if not screenshot and not train_and_exit:
            QTimer.singleShot(0, lambda: window.prompts.show_error("Cannot open project", error))
    exit_code = {"value": 0}

    def grab() -> None:
        assert screenshot is not None
        window.view.fit_all()
        app.processEvents()
        if not window.grab().save(screenshot):
            print(f"DeepCanvas: cannot write {screenshot}", file=sys.stderr)
            exit_code["value"] = 1
        quit_without_asking()

    def quit_without_asking() -> None:
        """A scripted run ends: nothing to ask (no autosave to keep, nothing to save)."""
        window.shutdown()
        window.files.closed()
        window.hide()
        app.exit(exit_code["value"])

    def finished(result: TrainResult) -> None:
        print(f"training {result.status}: {result.message}", file=sys.stderr)
        exit_code["value"] = 0 if result.status == "completed" else 1
        if screenshot:
            QTimer.singleShot(300, grab)
            return
        quit_without_asking()

    if train_and_exit:
        window.training.finished.connect(finished)
        window.keras_ready.connect(window.training.start)
    elif screenshot:
        window.keras_ready.connect(lambda: QTimer.singleShot(300, grab))
    if screenshot:
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, grab)

    code = app.exec()
    window.shutdown()
    return code or exit_code["value"]
