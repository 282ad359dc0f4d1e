"""New, open, save, save as, autosave, recover and recent projects, for the main window.

Every way to show another project ends in `replace_project`, which first emits `replacing`
(the window stops a training run then) and afterwards `replaced` (views reset). Unsaved work
is never lost silently: `confirm_discard` asks Save / Discard / Cancel, autosaves go to the
app's folder (never over the user's file) and are removed once the project was saved or
closed normally.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from backend.document.project import (
    FILE_SUFFIX,
    MODEL_SUFFIXES,
    Project,
    ProjectError,
    load_project,
)
from backend.document.session_files import (
    Autosave,
    discard_autosave,
    recover,
    remember,
    write_autosave,
)
from backend.workflow.session import Workflow, new_project
from gui.runtime.places import remember_folder, start_folder, suggested
from gui.runtime.prompts import CANCEL, SAVE, Prompts

AUTOSAVE_MS = 60_000
AUTOSAVE_NOTICE_MS = 15_000
PROJECT_FILTER = f"DeepCanvas projects (*{FILE_SUFFIX} *.json)"
OPEN_FILTER = f"{PROJECT_FILTER};;Keras models, imported (*.keras *.h5)"


class FileController(QObject):
    replacing = Signal()
    """Another project is about to be shown (stop work on the current one)."""
    replaced = Signal()
    """Another project is shown: everything of the previous one must reset."""
    recent_changed = Signal()
    """A project was opened or saved: the recent list changed."""
    saved = Signal(str)
    """The project was written to this path (the title loses its mark)."""

    def __init__(self, workflow: Workflow, prompts: Prompts, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.workflow = workflow
        self.project = workflow.project
        self.prompts = prompts
        self.dialog_parent = dialog_parent
        self.session_id = uuid.uuid4().hex[:12]
        self.autosave_problem: str | None = None  # why the last autosave failed, said once
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.import_model: Callable[[str], bool] | None = None
        """Opens a Keras model file as an imported project (the window sets it)."""

    def title(self) -> str:
        mark = "*" if self.project.dirty else ""
        where = f" — {self.project.path}" if self.project.path else ""
        return f"{mark}{self.project.name}{where} — DeepCanvas"

    # ----------------------------------------------------------------- showing another project
    def replace_project(self, project: Project) -> None:
        """Show another project; the current one's autosave goes (the user saved or discarded)."""
        discard_autosave(self.project, self.session_id)
        self.replacing.emit()
        self.workflow.replace_project(project)
        self.replaced.emit()

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved changes: Save, Discard or Cancel."""
        if not self.project.dirty:
            return True
        answer = self.prompts.ask_unsaved(self.project.name)
        if answer == SAVE:
            return self.save()
        return answer != CANCEL

    def new_project(self, project: Project | None = None) -> bool:
        """Show `project` (a template's), or a new empty one (no layers, no data yet)."""
        if not self.confirm_discard():
            return False
        self.replace_project(project or new_project())
        return True

    def open_dialog(self) -> bool:
        if not self.confirm_discard():
            return False
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Open project", str(start_folder(self.project.path)), OPEN_FILTER
        )
        remember_folder(path)
        return self.open_project(path) if path else False

    def open_recent(self, path: str) -> bool:
        return self.confirm_discard() and self.open_project(path)

    def open_project(self, path: str | Path) -> bool:
        """Open a project file (a Keras model: imported); on any error the current project
        stays as it was."""
        if Path(path).suffix.lower() in MODEL_SUFFIXES and self.import_model is not None:
            return self.import_model(str(path))
        try:
            project = load_project(path)
        except ProjectError as exc:
            self.prompts.show_error("Cannot open project", str(exc))
            return False
        self.replace_project(project)
        remember(path)
        self.recent_changed.emit()
        self.prompts.status(f"Opened {path}")
        return True

    # ----------------------------------------------------------------- saving
    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as_dialog()
        return self.save_to(self.project.path)

    def save_as_dialog(self) -> bool:
        name = f"{self.project.name}{FILE_SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Save project", suggested(self.project.path, name), PROJECT_FILTER
        )
        remember_folder(path)
        return self.save_to(path) if path else False

    def save_to(self, path: str | Path) -> bool:
        discard_autosave(self.project, self.session_id)  # keyed by the old file, if any
        try:
            self.workflow.save(path)
        except ProjectError as exc:
            self.prompts.show_error("Cannot save project", str(exc))
            return False
        discard_autosave(self.project, self.session_id)
        remember(path)
        self.recent_changed.emit()
        self.prompts.status(f"Saved {path}")
        self.saved.emit(str(path))
        return True

    # ----------------------------------------------------------------- autosave
    def autosave(self) -> Path | None:
        """Write a copy of unsaved work to the autosave folder (never over the user's file).

        The timer calls it: a folder that refuses the write (read-only, disk full) is said once
        in the status bar, never raised into Qt's event loop; editing goes on."""
        if not self.project.dirty:
            return None
        try:
            path = write_autosave(self.project, self.session_id)
        except (OSError, ValueError) as exc:  # ValueError: a document JSON cannot hold
            reason = getattr(exc, "strerror", None) or str(exc)
            refused = getattr(exc, "filename", None)  # which file or folder refused
            if refused:
                reason = f"{refused}: {reason}"
            if reason != self.autosave_problem:
                self.autosave_problem = reason
                self.prompts.status(
                    f"Autosave failed ({reason}): unsaved work has no backup copy until "
                    "you save it (File > Save).",
                    AUTOSAVE_NOTICE_MS,
                )
            return None
        if self.autosave_problem is not None:
            self.autosave_problem = None
            self.prompts.status("Autosave works again.")
        return path

    def recover_autosave(self, autosave: Autosave) -> bool:
        if not self.confirm_discard():
            return False
        try:
            project = recover(autosave)
        except ProjectError as exc:
            self.prompts.show_error("Cannot recover", str(exc))
            return False
        self.replace_project(project)
        self.project.mark_dirty()  # recovered work is unsaved work
        if self.autosave() is not None:  # ours now; the old one can go
            Path(autosave.path).unlink(missing_ok=True)
        self.recent_changed.emit()
        self.prompts.status(f"Recovered {autosave.describe()}", 6000)
        return True

    def closed(self) -> None:
        """The window closed normally: nothing to recover."""
        self.autosave_timer.stop()
        discard_autosave(self.project, self.session_id)
