"""Start from a pretrained network: pick a backbone, where its weights come from, the image
size and the classes; the project is built off the GUI thread.

The weights are never fetched unless the user presses "Download": the dialog shows the size
first, then a progress bar with Cancel, runs `backend.exchange.pretrained_weights.
download_weights` on a `KerasJob` thread (Qt-free, with a cancel flag), and says in words why
a download failed (offline, wrong hash). The built project replaces the window's through the
caller (`project_ready`). `FineTuneDialog` asks how many top layers to unfreeze.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend.exchange.pretrained import PretrainedError
from backend.exchange.pretrained_catalog import BACKBONES, SMALLEST, Backbone
from backend.exchange.pretrained_project import image_folder_choice
from backend.exchange.pretrained_weights import (
    WeightsDownloadError,
    cached_weights,
    download_weights,
    format_size,
    keras_cache_dir,
)
from gui.runtime.keras_job import KerasJob

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class _Progress(QObject):
    """Carries the download's progress from its thread to the GUI thread (queued)."""

    changed = Signal(int, object)


class PretrainedDialog(QDialog):
    """Emits `project_ready(Project)` once the project is built; `failed(str)` says why not."""

    project_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: Any = None, chosen: str = SMALLEST, downloader: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start from a pretrained network")
        self.setObjectName("pretrained_dialog")
        self._downloader = downloader or download_weights
        self._cancel = threading.Event()
        self._job: KerasJob | None = None
        self._file: Path | None = None
        self.folder: Path | None = None
        self.list = QListWidget()
        self.list.setObjectName("pretrained_list")
        for entry in BACKBONES.values():
            item = QListWidgetItem(self._label(entry), self.list)
            item.setData(NAME_ROLE, entry.name)
            if entry.name == chosen:
                self.list.setCurrentItem(item)
        self.size = QSpinBox()
        self.size.setRange(32, 1024)
        self.size.setValue(224)
        self.size.setSuffix(" px")
        self.classes = QSpinBox()
        self.classes.setRange(2, 10000)
        self.classes.setValue(2)
        self.data_label = QLabel("none yet (choose it later in the Data tab)")
        self.data_button = QPushButton("Choose folder…")
        self.data_button.setObjectName("pretrained_data")
        self.data_button.setToolTip("A folder with one sub-folder of images per class")
        self.imagenet = QRadioButton()
        self.from_file = QRadioButton("A weights file…")
        self.untrained = QRadioButton("None: train the backbone from scratch")
        self.choice = QButtonGroup(self)
        for button in (self.imagenet, self.from_file, self.untrained):
            self.choice.addButton(button)
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("pretrained_download")
        self.cancel_button = QPushButton("Cancel download")
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create project")
        self._lay_out()
        self._progress = _Progress(self)
        self._progress.changed.connect(self._on_progress)
        self.list.currentItemChanged.connect(lambda *_: self._refresh())
        self.size.valueChanged.connect(lambda *_: self._refresh())
        self.from_file.toggled.connect(self._pick_file)
        self.data_button.clicked.connect(self._pick_folder)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        self._refresh()

    def _lay_out(self) -> None:
        form = QFormLayout()
        data = QHBoxLayout()
        data.addWidget(self.data_label, 1)
        data.addWidget(self.data_button)
        form.addRow("Your images", data)
        form.addRow("Image size", self.size)
        form.addRow("Classes", self.classes)
        row = QHBoxLayout()
        row.addWidget(self.imagenet, 1)
        row.addWidget(self.download_button)
        weights = QWidget()
        column = QVBoxLayout(weights)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.from_file)
        column.addWidget(self.untrained)
        form.addRow("Weights", weights)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Backbone</b> (keras.applications, without its classifier)"))
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addLayout(progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    # ----------------------------------------------------------------- state
    def entry(self) -> Backbone:
        item = self.list.currentItem()
        return BACKBONES[item.data(NAME_ROLE) if item is not None else SMALLEST]

    def _label(self, entry: Backbone) -> str:
        cached = cached_weights(entry, entry.default_size) is not None
        where = "weights here" if cached else f"download {format_size(entry.download_bytes)}"
        return f"{entry.name}   {entry.params / 1e6:.1f} M parameters, {where}"

    def _refresh(self) -> None:
        entry = self.entry()
        self.size.setMinimum(entry.min_size)
        cached = cached_weights(entry, self.size.value()) is not None
        downloading = self._job is not None and self._job.isRunning()
        self.imagenet.setText(
            "ImageNet (in the Keras cache)"
            if cached
            else f"ImageNet: not on this computer (about {format_size(entry.download_bytes)})"
        )
        self.imagenet.setEnabled(cached)
        self.download_button.setText(f"Download {format_size(entry.download_bytes)}")
        self.download_button.setToolTip(
            f"From {entry.origin_for(self.size.value())} into the Keras cache "
            f"({keras_cache_dir()}), checked against the hash Keras publishes"
        )
        self.download_button.setVisible(not cached)
        self.download_button.setEnabled(not downloading)
        self.cancel_button.setVisible(downloading)
        self.progress.setVisible(downloading)
        if cached and not self.from_file.isChecked():
            self.imagenet.setChecked(True)
        elif (not cached and self.imagenet.isChecked()) or self.choice.checkedButton() is None:
            self.untrained.setChecked(True)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not downloading)

    def _pick_file(self, on: bool) -> None:
        if not on or self._file is not None:
            return
        name, _filter = QFileDialog.getOpenFileName(
            self, "Weights file", str(Path.home()), "Keras weights (*.h5 *.weights.h5)"
        )
        if name:
            self._file = Path(name)
            self.from_file.setText(f"A weights file: {self._file.name}")
        else:
            self.untrained.setChecked(True)

    def _pick_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(
            self, "Your images: one sub-folder per class", str(Path.home())
        )
        if name:
            self.set_folder(Path(name))

    def set_folder(self, folder: Path) -> bool:
        """Train on `folder` (one sub-folder of images per class): its classes size the head.
        False, with the reason shown, when it is not such a folder."""
        try:
            _choice, classes = image_folder_choice(folder, self._shape())
        except PretrainedError as exc:
            self.status.setText(str(exc))
            return False
        self.folder = folder
        self.classes.setValue(classes)
        self.data_label.setText(f"{folder.name} ({classes} classes)")
        self.data_label.setToolTip(str(folder))
        self.status.clear()
        return True

    def _shape(self) -> tuple[int, int, int]:
        return self.size.value(), self.size.value(), 3

    def weights_choice(self) -> str | None:
        if self.imagenet.isChecked():
            return "imagenet"
        if self.from_file.isChecked() and self._file is not None:
            return str(self._file)
        return None

    # ----------------------------------------------------------------- download
    def start_download(self) -> None:
        """The one place a download starts: the user pressed Download."""
        entry, size = self.entry(), self.size.value()
        self._cancel.clear()
        self.progress.setRange(0, 0)
        self.status.setText(f"Downloading {entry.weights_file_for(size)}…")
        progress = self._progress.changed.emit

        def work() -> Any:
            return self._downloader(entry, size, progress, self._cancel.is_set)

        self._run(work, self._downloaded, (WeightsDownloadError,))

    def _on_progress(self, done: int, total: object) -> None:
        if isinstance(total, int) and total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{format_size(done)} of {format_size(total)}")
        else:
            self.progress.setFormat(format_size(done))

    def _downloaded(self, origin: Any) -> None:
        self.status.setText(f"Saved {origin.path} ({origin.check}).")
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setText(self._label(BACKBONES[item.data(NAME_ROLE)]))
        self.imagenet.setChecked(True)

    # ----------------------------------------------------------------- create
    def create(self) -> None:
        from backend.exchange.pretrained_project import new_pretrained_project

        entry, shape, classes = self.entry(), self._shape(), self.classes.value()
        weights = self.weights_choice()
        data = image_folder_choice(self.folder, shape)[0] if self.folder is not None else None
        self.status.setText(f"Building {entry.name}…")

        def work() -> Any:
            return new_pretrained_project(entry.name, classes, shape, weights, dataset=data)

        self._run(work, self._built, (ValueError, OSError))

    def _built(self, project: Any) -> None:
        self.project_ready.emit(project)
        self.accept()

    def _run(self, work: Any, done: Any, expected: tuple[type[BaseException], ...]) -> None:
        job = KerasJob(work, expected, self)
        job.succeeded.connect(done)
        job.failed.connect(self._failed)
        job.finished.connect(self._refresh)
        self._job = job
        job.start()
        self._refresh()

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self.failed.emit(message)

    def wait(self) -> None:
        """Block until a running download or build is over (tests, closing)."""
        if self._job is not None:
            self._job.wait()

    def reject(self) -> None:
        self._cancel.set()
        self.wait()
        super().reject()


class FineTuneDialog(QDialog):
    """How many of the backbone's top layers to unfreeze, and by how much to lower the
    learning rate; the caller pushes `fine_tune_command` and continues the last run."""

    def __init__(self, layers: int, learning_rate: float, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune the backbone")
        self.setObjectName("fine_tune_dialog")
        self.learning_rate = learning_rate
        self.top = QSpinBox()
        self.top.setRange(1, max(1, layers))
        self.top.setValue(min(20, layers))
        self.top.setSuffix(f" of {layers}")
        self.factor = QDoubleSpinBox()
        self.factor.setDecimals(3)
        self.factor.setRange(0.001, 1.0)
        self.factor.setSingleStep(0.05)
        self.factor.setValue(0.1)
        self.rate = QLabel()
        self.rate.setObjectName("fine_tune_rate")
        note = QLabel(
            "The backbone's top layers train along with the head, slowly (a lower learning "
            "rate keeps what it learnt on ImageNet); BatchNormalization stays frozen, in "
            "inference mode. Training continues the last run at once, so the Runs tab shows "
            "both phases; Edit > Undo freezes the layers again."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Unfreeze and train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Layers to unfreeze, from the top", self.top)
        form.addRow("Multiply the learning rate by", self.factor)
        form.addRow("New learning rate", self.rate)
        form.addRow(note)
        form.addRow(buttons)
        self.factor.valueChanged.connect(self._show_rate)
        self._show_rate()
        self.setMinimumWidth(460)

    def new_rate(self) -> float:
        """The learning rate fine-tuning will use (as `fine_tune_command` rounds it)."""
        return float(f"{self.learning_rate * self.factor.value():.3g}")

    def _show_rate(self) -> None:
        self.rate.setText(f"{self.new_rate():g} (now {self.learning_rate:g})")
