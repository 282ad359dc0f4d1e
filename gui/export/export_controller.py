"""File > Export (every format, verified), Export Python script, Import Keras model.

Each runs as a job (`gui.runtime.jobs`): the window stays responsive, shows what runs, offers
Cancel, and shows every error. Converters that cannot run on a worker thread beside the GUI
(TFLite, and ONNX through TensorFlow's graph converter) run in their own process
(`gui.export.export_process`), fed the exact model the window shows.

The exported model has the project's current weights (`backend.workflow`: the last run's,
also after reopening; an import's own; or untrained), checked on samples of the project's data
when they fit the model's inputs, else on generated ones; `weights_note()` says which weights.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from backend.document.project import FILE_SUFFIX, Project
from backend.workflow.model_use import Exported, ProjectSnapshot
from backend.workflow.session import Workflow
from gui.runtime.jobs import Job, JobError, JobRunner, run_process
from gui.runtime.places import EXPORT_FOLDER_KEY, remember_folder, start_folder, suggested
from gui.runtime.prompts import Prompts

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5)"
IN_PROCESS = ("tflite", "onnx")
"""Formats converted in a subprocess (never on a thread beside the GUI's)."""


class ExportController(QObject):
    def __init__(
        self,
        workflow: Workflow,
        jobs: JobRunner,
        prompts: Prompts,
        blocked: Callable[[], str | None],
        replace_project: Callable[[Project], None],
        dialog_parent: QWidget,
    ) -> None:
        super().__init__(dialog_parent)
        self.workflow = workflow
        self.project = workflow.project
        self.jobs = jobs
        self.prompts = prompts
        self.blocked = blocked
        """Why Keras work cannot start now (TensorFlow loading, a training run), or None."""
        self.replace_project = replace_project
        self.dialog_parent = dialog_parent
        self.last_report: Any = None

    def _jobs_busy(self) -> str | None:
        running = self.jobs.running.get("main")
        return f"Wait until this ends: {running.job.title}." if running is not None else None

    # ----------------------------------------------------------------- the model
    def weights_note(self) -> str:
        return self.workflow.weights.describe()

    # ----------------------------------------------------------------- export
    def export_dialog(self, settings: Any = None) -> Any:
        """File > Export as…: every format, verified (gui/export/export_dialog.py)."""
        from gui.export.export_dialog import ExportDialog

        why = self.blocked()
        if why is not None:
            self.prompts.show_error("Export", why)
            return None
        dialog = ExportDialog(self, self.dialog_parent, settings)
        dialog.open()
        return dialog

    def export_keras_dialog(self) -> bool:
        path = self._ask_target("Export Keras model", ".keras", "Keras model (*.keras)")
        return self.export(path, "keras") if path else False

    def _ask_target(self, title: str, suffix: str, kinds: str) -> str:
        """A file to export to, from a save dialog opened at the last export folder (else the
        project's, else home); '' when cancelled."""
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent,
            title,
            suggested(self.project.path, f"{self.project.name}{suffix}", EXPORT_FOLDER_KEY),
            kinds,
        )
        remember_folder(path, EXPORT_FOLDER_KEY)
        return path

    def export(
        self,
        path: str | Path,
        fmt: str,
        quantize: str = "none",
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> bool:
        """Export and verify as a job; the report goes to `on_done` (and the status bar)."""
        from backend.exchange.export_formats import ExportError, check_target
        from backend.keras_bridge.compiler import CompileError
        from backend.keras_bridge.weights import WeightsError

        fail = on_error or (lambda m: self.prompts.show_error("Cannot export", m))
        why = self.blocked() or self._jobs_busy()
        if why is not None:
            fail(why)
            return False
        try:
            target = check_target(fmt, path, quantize, keep=(self.project.path,))
        except ExportError as exc:
            fail(str(exc))
            return False
        snap = self.workflow.snapshot()  # the job reads this, never the edited project

        def work(cancelled: threading.Event) -> Any:
            return export_snapshot(snap, str(target), fmt, quantize, cancelled)

        def done(exported: Any) -> None:
            self.last_report = exported.report
            self.prompts.status(exported.summary(), 10000)
            if on_done is not None:
                on_done(exported.report)

        return self.jobs.run(
            Job(
                f"Exporting {Path(target).name}",
                work,
                done,
                fail,
                expected=(ExportError, CompileError, WeightsError, JobError, OSError, ValueError),
            )
        )

    def export_python_dialog(self) -> bool:
        path = self._ask_target("Export Python script", ".py", "Python (*.py)")
        return self.export_python(path) if path else False

    def export_python(self, path: str | Path) -> bool:
        """Write the project as a runnable Keras script that loads the current weights (text
        generation and shape checks only: quick, on this thread)."""
        from backend.data import DatasetError
        from backend.exchange.codegen import CodegenError
        from backend.keras_bridge.compiler import CompileError

        why = self.blocked()
        if why is not None:
            self.prompts.show_error("Export", why)
            return False
        try:
            written = self.workflow.write_script(path)
        except (CodegenError, CompileError, DatasetError, OSError) as exc:
            self.prompts.show_error("Cannot export the script", str(exc))
            return False
        self.prompts.status(f"Exported {written} (Python script; weights: {self.weights_note()})")
        return True

    # ----------------------------------------------------------------- import
    def import_keras_dialog(self, confirm_discard: Callable[[], bool]) -> bool:
        if not confirm_discard():
            return False
        model, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Import Keras model", str(start_folder(None)), MODEL_FILTER
        )
        if not model:
            return False
        remember_folder(model)
        suggested = str(Path(model).with_name(Path(model).stem + FILE_SUFFIX))
        target, _ = QFileDialog.getSaveFileName(
            self.dialog_parent,
            "Save the imported project as",
            suggested,
            f"DeepCanvas projects (*{FILE_SUFFIX})",
        )
        return self.import_keras_model(model, target or None)

    def import_keras_model(self, model: str | Path, project_path: str | Path | None) -> bool:
        """Open `model` as the project (weights saved beside `project_path`, or kept in the
        app's folder until saved), as a job. On any error the current project stays."""
        from backend.document.project import ProjectError
        from backend.exchange.importer import ModelImportError
        from backend.keras_bridge.weights import WeightsError
        from backend.workflow.session import import_project

        why = self.blocked() or self._jobs_busy()
        if why is not None:
            self.prompts.show_error("Import", why)
            return False

        def done(project: Project) -> None:
            self.replace_project(project)
            if project_path is None:
                self.project.mark_dirty()  # the weights wait in the app's folder until saved
            layers = len(self.project.graph.nodes)
            self.prompts.status(
                f"Imported {model}: {layers} layers, weights kept. It has no data yet: "
                "choose it in the Data tab.",
                10000,
            )

        return self.jobs.run(
            Job(
                f"Importing {Path(model).name}",
                lambda _cancelled: import_project(model, project_path),
                done,
                lambda m: self.prompts.show_error("Cannot import model", m),
                expected=(ModelImportError, WeightsError, ProjectError, OSError),
            )
        )


def export_snapshot(
    snap: ProjectSnapshot, path: str, fmt: str, quantize: str, cancelled: threading.Event
) -> Exported:
    """A job's work: build the model with the current weights, pick check samples, export and
    verify, in this thread or (TFLite, ONNX) in a process of its own."""
    from dataclasses import replace

    from backend.workflow import model_use

    if fmt not in IN_PROCESS:
        return model_use.export(snap, fmt, path, quantize)
    model_use.require_weights(snap.weights)
    built = model_use.build_model(replace(snap, model=None))  # named after the project
    samples, source = model_use.check_samples(snap, built.model)
    from gui.export import export_process

    with tempfile.TemporaryDirectory(prefix="deepcanvas-export-") as folder:
        job = export_process.write_job(
            Path(folder), built.model, samples, source, output=path, format=fmt, quantize=quantize
        )
        report = run_process("gui.export.export_process", [str(job)], cancelled)
    return model_use.Exported(report_from_dict(report), built)


def report_from_dict(data: dict[str, Any]) -> Any:
    from backend.exchange.export_formats import ExportReport

    return ExportReport(
        format=data["format"],
        path=Path(data["path"]),
        runtime=data["runtime"],
        max_abs_diff=float(data["max_abs_diff"]),
        tolerance=data["tolerance"],
        samples=int(data["samples"]),
        sample_source=data["sample_source"],
        quantize=data["quantize"],
        size_bytes=int(data["size_bytes"]),
        seconds=float(data["seconds"]),
    )
