"""File > Export as…: every format, each verified right after it is written.

The dialog lists every format of `backend.exchange.export_formats` (TFLite three times: float32,
dynamic
range and float16 quantization). A format whose converter is missing stays in the list: choosing
it shows the one-line install command and disables Export. The verification result (runtime, max
absolute difference) is shown when the export ends. The last folder and format are remembered in
`QSettings`.

The export runs as a job of the window's `JobRunner` (`ExportController.export`): the dialog
stays responsive and says what runs; TFLite and ONNX convert in a process of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
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
        exporter: Any,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.exporter = exporter
        """An `ExportController`: `project`, `weights_note()`, `export(...)`."""
        self.project = exporter.project
        weights_note = exporter.weights_note()
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
        self.exporter.export(path, fmt, quantize, self._done, self._failed)

    def _ended(self) -> None:
        self.busy = False
        self._format_changed()
        self.attempted.emit()

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
        self._ended()
        self.exported.emit(report)

    def _failed(self, message: str) -> None:
        self.report = None
        self._show_result(message, ok=False)
        self._ended()

    def _show_result(self, text: str, ok: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet("" if ok else "color: #c0392b;")
