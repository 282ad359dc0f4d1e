"""File > Export as…: every format, each verified right after it is written.

The dialog lists every format of `backend.exchange.export_formats` (TFLite three times: float32,
dynamic
range and float16 quantization). A format whose converter is missing stays in the list: choosing
it shows the one-line install command and disables Export. The verification result (runtime, max
absolute difference) is shown when the export ends. The last folder and format are remembered in
`QSettings`.

The export runs on the main thread, under a busy cursor: for the models DeepCanvas builds it
takes one to three seconds. In a `QThread`, the TFLite converter deadlocked with the main
thread's garbage collector freeing TensorFlow objects: a frozen app is worse than a short wait.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.exchange.export_formats import FORMATS, QUANTIZATIONS, missing_requirement

CHOICES: list[tuple[str, str, str]] = [
    ("keras", "none", "Keras model (.keras)"),
    ("savedmodel", "none", "TensorFlow SavedModel (folder, for serving)"),
    ("tflite", "none", "TensorFlow Lite (.tflite), float32"),
    ("tflite", "dynamic", f"TensorFlow Lite, {QUANTIZATIONS['dynamic']}"),
    ("tflite", "float16", f"TensorFlow Lite, {QUANTIZATIONS['float16']}"),
    ("onnx", "none", "ONNX (.onnx)"),
]
"""(format, quantization, label) in the order the combo shows them."""

FOLDER_KEY = "export/last_folder"
CHOICE_KEY = "export/last_choice"


def app_settings() -> QSettings:
    return QSettings("DeepCanvas", "DeepCanvas")


class ExportDialog(QDialog):
    """Choose a format and a place, export, and see how closely the file matches the model."""

    exported = Signal(object)
    """An export that was written and verified: the ExportReport."""
    attempted = Signal()
    """Any export attempt ended (written, or failed with its reason shown)."""

    def __init__(
        self,
        model: Any,
        project: Any,
        weights_note: str,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.model, self.project = model, project
        self.settings = settings if settings is not None else app_settings()
        self.busy = False
        self.report: Any = None

        self.format_combo = QComboBox()
        for fmt, quantize, label in CHOICES:
            hint = missing_requirement(fmt)
            self.format_combo.addItem(label + (" — not installed" if hint else ""), (fmt, quantize))
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label = QLabel(f"Weights: {weights_note}")
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.clicked.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)

        where = QHBoxLayout()
        where.addWidget(self.path_edit, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Save to", where)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

        last = int(self.settings.value(CHOICE_KEY, 0) or 0)
        self.format_combo.setCurrentIndex(last if 0 <= last < len(CHOICES) else 0)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self.resize(560, self.sizeHint().height())

    # ----------------------------------------------------------------- choices
    def choice(self) -> tuple[str, str]:
        fmt, quantize = self.format_combo.currentData()
        return str(fmt), str(quantize)

    def last_folder(self) -> Path:
        folder = Path(str(self.settings.value(FOLDER_KEY, "") or Path.home()))
        return folder if folder.is_dir() else Path.home()

    def default_path(self) -> Path:
        fmt, quantize = self.choice()
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.project.name) or "model"
        if quantize != "none":
            stem += f"_{quantize}"
        return self.last_folder() / f"{stem}{FORMATS[fmt].suffix}"

    def _format_changed(self) -> None:
        fmt, _ = self.choice()
        hint = missing_requirement(fmt)
        self.hint_label.setText(hint or "")
        self.export_button.setEnabled(hint is None and not self.busy)
        current = self.path_edit.text().strip()
        if not current:
            self.path_edit.setText(str(self.default_path()))
        else:  # keep the folder and name, change the suffix
            path = Path(current)
            stem = path.name.removesuffix(path.suffix) if path.suffix else path.name
            self.path_edit.setText(str(path.with_name(stem + FORMATS[fmt].suffix)))

    def browse(self) -> None:
        fmt, _ = self.choice()
        spec = FORMATS[fmt]
        if spec.directory:
            path = QFileDialog.getSaveFileName(
                self, "Export SavedModel folder", self.path_edit.text()
            )[0]
        else:
            path = QFileDialog.getSaveFileName(
                self, f"Export {spec.label}", self.path_edit.text(), spec.file_filter
            )[0]
        if path:
            self.path_edit.setText(path)

    # ----------------------------------------------------------------- export
    def start_export(self) -> None:
        if self.busy:
            return
        fmt, quantize = self.choice()
        path = self.path_edit.text().strip()
        if not path:
            self._show_result("Choose where to save the export.", ok=False)
            return
        self.settings.setValue(FOLDER_KEY, str(Path(path).parent))
        self.settings.setValue(CHOICE_KEY, self.format_combo.currentIndex())
        self.busy = True
        self.export_button.setEnabled(False)
        self._show_result(f"Exporting and verifying {Path(path).name}…", ok=True)
        QApplication.setOverrideCursor(QCursor(Qt.CursorShape.WaitCursor))
        QApplication.processEvents()  # paint the message before the converter takes over
        try:
            self._export(path, fmt, quantize)
        finally:
            QApplication.restoreOverrideCursor()
            self.busy = False
            self._format_changed()
        self.attempted.emit()

    def _export(self, path: str, fmt: str, quantize: str) -> None:
        from backend.exchange.export_formats import ExportError, export_model
        from backend.exchange.export_verify import project_samples

        try:
            samples, source = project_samples(self.project)
            report = export_model(self.model, path, fmt, quantize, samples, source)
        except ExportError as exc:
            self._failed(str(exc))
        except Exception as exc:  # a converter bug: still the user's to see, never a crash
            self._failed(f"{path}: export failed: {type(exc).__name__}: {exc}")
        else:
            self._done(report)

    def _done(self, report: Any) -> None:
        self.report = report
        verdict = "matches" if report.matches else "differs"
        tolerance = (
            f"allowed {report.tolerance:.1g}"
            if report.tolerance is not None
            else "quantized: a small difference is expected"
        )
        self._show_result(
            f"Exported {report.path} ({report.size_bytes / 1024:,.1f} KiB).\n"
            f"Verified with {report.runtime} on {report.samples} {report.sample_source}: "
            f"{verdict}, max abs difference {report.max_abs_diff:.3g} ({tolerance}).",
            ok=True,
        )
        self.exported.emit(report)

    def _failed(self, message: str) -> None:
        self.report = None
        self._show_result(message, ok=False)

    def _show_result(self, text: str, ok: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet("" if ok else "color: #c0392b;")


def open_export_dialog(window: Any, settings: QSettings | None = None) -> ExportDialog | None:
    """File > Export…: the trained model, or the project's (with its stored weights) before."""
    from backend.keras_bridge.compiler import CompileError
    from backend.keras_bridge.weights import WeightsError, compile_project

    if not window.ready:
        window.show_error("Export", "TensorFlow is still loading; try again in a moment.")
        return None
    if window.is_training:
        window.show_error("Export", "Stop the training run before exporting.")
        return None
    try:
        model = window.trained_model or compile_project(window.project)
    except (CompileError, WeightsError) as exc:
        window.show_error("Cannot export", str(exc))
        return None
    if window.trained_model is not None:
        note = "trained in this session"
    elif window.project.training.initial_weights:
        note = f"the project's stored weights ({window.project.training.initial_weights})"
    else:
        note = "untrained (no training run yet): train first to export a useful model"
    dialog = ExportDialog(model, window.project, note, window, settings)
    dialog.exported.connect(lambda report: window.statusBar().showMessage(report.summary(), 10000))
    dialog.open()
    return dialog
