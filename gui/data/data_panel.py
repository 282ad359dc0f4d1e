"""The Data panel: choose a source, edit its settings and split, see a preview, fit the model.

Editors are built from each source's `ParamSpec`s (`backend.data.registry.DATASETS`). Every
change previews the source (bounded: a big file is never read whole here; in the window as a
job of its `JobRunner`, off the GUI thread, the newest request replacing an older one) and, when the
preview succeeds, becomes the project's dataset through `choose` (the workflow's undoable
`choose_dataset`); when it fails, the message names the file, row or column and the project
keeps its previous choice. A project may have no data yet (a new or imported one): the panel
says so until a source is picked. File
dialogs only call the dialog-free methods (`choose_source`, `set_param`, `set_split`...) that
tests call directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend.data import DATASETS, DatasetError, ParamSpec, is_available
from backend.data.arrays import array_names
from backend.data.preview import DataPreview, preview_dataset
from backend.data.registry import FILE, GENERATED, KERAS
from backend.data.table_reader import open_table
from backend.document.project import DatasetChoice, Project
from backend.editing.commands import UndoStack
from backend.editing.data_wiring import (
    DataTarget,
    augmentation_macro,
    fit_graph_to_data,
    suggested_params,
)
from gui.data.data_preview import DataPreviewView
from gui.runtime.jobs import Job, JobRunner

REFRESH_MS = 250
NO_SOURCE = "— choose the data —"
DATA_LANE = "data"
GROUPS = (
    ("built-in", "Built-in"),
    (GENERATED, "Generated"),
    (KERAS, "Keras"),
    (FILE, "Your files"),
)
FILE_FILTERS = {
    "csv": "Tables (*.csv *.tsv *.tab *.txt *.parquet *.pq);;All files (*)",
    "numpy": "NumPy arrays (*.npz *.npy);;All files (*)",
}


class DataPanel(QWidget):
    """Source, settings, split, preview. `previewed` fires after each successful preview."""

    previewed = Signal(object)  # DataPreview
    fitted = Signal(bool)  # "Fit model to data" ended: whether it changed the graph

    def __init__(
        self,
        project: Project,
        undo: UndoStack,
        choose: Callable[[DatasetChoice | None], Any] | None = None,
        jobs: JobRunner | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.undo = undo
        self.choose = choose or project.set_dataset
        self.jobs = jobs
        """Runs loading off the GUI thread; without one (tests of the panel alone), inline."""
        self.name: str | None = project.dataset.name if project.dataset is not None else None
        self.params: dict[str, Any] = dict(project.dataset.params) if project.dataset else {}
        self.preview: DataPreview | None = None
        self.error = ""
        self.editors: dict[str, QWidget] = {}
        self._stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self.load_from_project()
        project.changed.connect(self._on_project_changed)

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._build_settings())
        scroll.setMinimumWidth(300)
        self.view = DataPreviewView()
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self.fill_sources()
        self.source.currentIndexChanged.connect(self._on_source_picked)
        for spin in (self.val, self.test, self.seed):
            spin.valueChanged.connect(self._schedule)
        self.fit_button.clicked.connect(self.fit_model_to_data)
        self.augment_button.clicked.connect(self.add_augmentation)

    def _build_settings(self) -> QWidget:
        self.source = QComboBox()
        self.source.setObjectName("data_source")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # a narrow column
        self.val = _fraction_spin("data_val")
        self.test = _fraction_spin("data_test")
        self.seed = QSpinBox()
        self.seed.setObjectName("data_seed")
        self.seed.setRange(0, 2**31 - 1)
        split = QHBoxLayout()
        for label, widget in (("Validation", self.val), ("Test", self.test), ("Seed", self.seed)):
            split.addWidget(QLabel(label))
            split.addWidget(widget)
        self.fit_button = QPushButton("Fit model to data")
        self.fit_button.setObjectName("data_fit_model")
        self.fit_button.setToolTip("Set the Input's shape and the output layer's units (undoable)")
        self.augment_button = QPushButton("Add augmentation")
        self.augment_button.setObjectName("data_augment")
        self.augment_button.setToolTip("Insert random flip and rotation layers after the Input")
        buttons = QHBoxLayout()
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.augment_button)
        self.status = QLabel()
        self.status.setObjectName("data_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        settings = QVBoxLayout()
        settings.addWidget(self.source)
        settings.addWidget(self.description)
        settings.addLayout(self.form)
        settings.addLayout(split)
        settings.addLayout(buttons)
        settings.addWidget(self.status)
        settings.addStretch(1)
        box = QWidget()
        box.setLayout(settings)
        return box

    def fill_sources(self) -> None:
        """The source menu, grouped; Keras datasets not in the cache say they need a download."""
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem(NO_SOURCE, None)
        for kind, heading in GROUPS:
            self.source.addItem(f"— {heading} —", None)
            item = self.source.model().item(self.source.count() - 1)
            item.setEnabled(False)
            for name, info in DATASETS.items():
                if info.kind == kind:
                    missing = kind == KERAS and not is_available(name)
                    self.source.addItem(
                        info.title + (" (needs a download)" if missing else ""), name
                    )
        self.source.blockSignals(False)

    # ----------------------------------------------------------------- the dialog-free API
    def choose_source(self, name: str) -> bool:
        """Switch to a source with its default settings (or the project's, for its source)."""
        if name not in DATASETS:
            raise KeyError(name)
        self.name = name
        current = self.project.dataset
        if current is not None and name == current.name:
            self.params = dict(current.params)
        else:  # the model may ask for some (raw pixels for a pretrained backbone)
            self.params = suggested_params(self.project.graph, name)
        self._sync_source()
        self._build_editors()
        return self.refresh()

    def set_param(self, key: str, value: Any) -> bool:
        self.params[key] = value
        if key == "path":  # another file: its own columns or arrays
            for stale in ("target", "features", "column_types", "x", "y"):
                self.params.pop(stale, None)
            self._build_editors()
        else:
            self._write_editor(key, value)
        return self.refresh()

    def set_split(self, val: float, test: float, seed: int) -> bool:
        for spin, value in ((self.val, val), (self.test, test), (self.seed, seed)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        return self.refresh()

    def current_choice(self) -> DatasetChoice | None:
        if self.name is None:
            return None
        return normal(
            DatasetChoice(
                self.name,
                dict(self.params),
                round(float(self.val.value()), 4),
                round(float(self.test.value()), 4),
                int(self.seed.value()),
            )
        )

    def refresh(self) -> bool:
        """Preview the current choice; on success it becomes the project's dataset. False when
        it cannot (the reason shown); True when previewed, or started in the background."""
        self._timer.stop()
        self._stale = False
        choice = self.current_choice()
        if choice is None:
            self._show_no_data()
            return False
        try:
            DatasetChoice.from_dict(asdict(choice))  # fractions and paths are sane
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        folder = self.project.path.parent if self.project.path is not None else None
        where = choice.resolved(folder)

        def work(_cancelled: Any) -> DataPreview:
            return preview_dataset(
                where.name, where.params, where.val_fraction, where.test_fraction, where.seed
            )

        return self._load(
            f"Loading {DATASETS[choice.name].title}",
            work,
            lambda preview: self._previewed(choice, preview),
        )

    def _load(self, title: str, work: Callable[[Any], Any], done: Callable[[Any], Any]) -> bool:
        """Run `work` as a job (or inline without a runner); errors show in the panel."""
        if self.jobs is None:
            try:
                result = work(None)
            except (DatasetError, ValueError, OSError) as exc:
                self._show_error(str(exc))
                return False
            return bool(done(result))
        self.status.setText(f"{title}…")
        job = Job(title, work, done, self._show_error, (DatasetError, ValueError, OSError))
        return self.jobs.run(job, lane=DATA_LANE, replace=True)

    @property
    def busy(self) -> bool:
        """Data is being loaded in the background."""
        return self.jobs is not None and self.jobs.busy_in(DATA_LANE)

    def _previewed(self, choice: DatasetChoice, preview: DataPreview) -> bool:
        self.error = ""
        self.preview = preview
        self.view.show_preview(preview)
        self._show_notes(preview)
        self.augment_button.setVisible(preview.kind == "images")
        if choice != normal_or_none(self.project.dataset):
            self.choose(choice)
        self.previewed.emit(preview)
        return True

    def fit_model_to_data(self) -> bool:
        """Push one undo step: the Input takes the data's shape, a Dense output its classes.
        A preview that did not read the whole file loads it first (in the background)."""
        if self.preview is None:
            if self.busy:
                self.status.setText("The data is still loading: fit the model when it shows.")
                return False
            if not self.refresh() or self.preview is None:
                return False
        preview = self.preview
        if preview.view:
            self.status.setText(
                f"This project gives the data to its model as '{preview.view}': "
                "set the Input and output shapes by hand."
            )
            return False
        if preview.complete:
            target = DataTarget(
                preview.input_shape, preview.task, preview.num_classes, preview.target_shape
            )
            return self._fit(target)
        choice = self.project.resolved_dataset()
        return self._load(
            "Reading the whole file", lambda _c: choice.load(), lambda d: self._fit_data(d)
        )

    def _fit_data(self, data: Any) -> bool:
        try:
            target = DataTarget.of(data)
        except DatasetError as exc:
            self._show_error(str(exc))
            return False
        return self._fit(target)

    def _fit(self, target: DataTarget) -> bool:
        fit = fit_graph_to_data(self.project.graph, target)
        if fit.command is not None:
            self.undo.push(fit.command)
        self.status.setText("; ".join(fit.messages))
        self.fitted.emit(fit.command is not None)
        return fit.command is not None

    def add_augmentation(self) -> bool:
        try:
            macro = augmentation_macro(self.project.graph)
        except ValueError as exc:
            self.status.setText(f"Cannot add augmentation: {exc}")
            return False
        self.undo.push(macro)
        self.status.setText(macro.label)
        return True

    def load_from_project(self) -> None:
        chosen = self.project.dataset
        choice = chosen if chosen is not None else DatasetChoice()  # its split's defaults
        self.name = None if chosen is None else choice.name if choice.name in DATASETS else "digits"
        self.params = dict(choice.params) if chosen is not None else {}
        self._sync_source()
        for spin, value in (
            (self.val, choice.val_fraction),
            (self.test, choice.test_fraction),
            (self.seed, choice.seed),
        ):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._build_editors()
        self.preview, self.error = None, ""  # the previous data's preview goes with it
        self.view.clear()
        self.status.setText("")
        self._stale = True
        if chosen is None:
            self._show_no_data()  # nothing to load: say so at once
        elif self.isVisible():
            self.refresh()

    # ----------------------------------------------------------------- internals
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.fill_sources()  # a Keras dataset may have been downloaded meanwhile
        self._sync_source()
        if self._stale:  # previews wait until the panel is seen: start-up stays fast
            QTimer.singleShot(0, self.refresh)

    def _on_project_changed(self) -> None:
        if normal_or_none(self.project.dataset) != self.current_choice():
            self.load_from_project()

    def _on_source_picked(self) -> None:
        name = self.source.currentData()
        if name and name != self.name:
            self.choose_source(name)

    def _schedule(self) -> None:
        self._timer.start()

    def _sync_source(self) -> None:
        self.source.blockSignals(True)
        index = self.source.findData(self.name) if self.name is not None else 0
        self.source.setCurrentIndex(max(0, index))
        self.source.blockSignals(False)
        self.description.setText(DATASETS[self.name].description if self.name else "")

    def _show_no_data(self) -> None:
        self.error = ""
        self.preview = None
        self.view.clear()
        self.augment_button.setVisible(False)
        self.status.setText(
            "<b>This project has no data yet.</b> Choose a source above: training, "
            "evaluation and the export check use it."
        )

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.setText(f"<span style='color:#C0392B'>{_escape(message)}</span>")
        self.preview = None
        self.view.clear()

    def _show_notes(self, preview: DataPreview) -> None:
        sizes = (
            "train {:,}, validation {:,}, test {:,}".format(*preview.sizes)
            if preview.sizes
            else "sizes known once the whole file is read"
        )
        classes = f"{preview.num_classes} classes, " if preview.class_names else ""
        head = f"{preview.task}: input {preview.input_shape}, {classes}{sizes}"
        self.status.setText("<br>".join(_escape(line) for line in [head, *preview.notes]))

    # ----------------------------------------------------------------- editors
    def _build_editors(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        if self.name is None:
            return
        merged = {**DATASETS[self.name].defaults, **self.params}
        for spec in DATASETS[self.name].params:
            editor = self._editor(spec, merged.get(spec.name, spec.default))
            if editor is None:
                continue
            editor.setObjectName(f"data_param_{spec.name}")
            editor.setToolTip(spec.help)
            self.editors[spec.name] = editor
            if isinstance(editor, QCheckBox):  # on or off: its label on the box, full width
                editor.setText(spec.label)
                self.form.addRow(editor)
            else:
                self.form.addRow(spec.label, editor)

    def _editor(self, spec: ParamSpec, value: Any) -> QWidget | None:
        kind = spec.kind
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(int(spec.minimum or 0), int(spec.maximum or 2**31 - 1))
            spin.setValue(int(value))
            spin.valueChanged.connect(lambda v, k=spec.name: self._edited(k, int(v)))
            return spin
        if kind == "float":
            dspin = QDoubleSpinBox()
            dspin.setDecimals(3)
            dspin.setSingleStep(0.05)
            dspin.setRange(float(spec.minimum or 0.0), float(spec.maximum or 1e9))
            dspin.setValue(float(value))
            dspin.valueChanged.connect(lambda v, k=spec.name: self._edited(k, float(v)))
            return dspin
        if kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(value))
            check.toggled.connect(lambda v, k=spec.name: self._edited(k, bool(v)))
            return check
        if kind in ("choice", "array"):
            combo = QComboBox()
            options = list(spec.choices) if kind == "choice" else ["", *self._array_names()]
            combo.addItems(options)
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda v, k=spec.name: self._edited(k, v))
            return combo
        if kind in ("file", "folder"):
            return self._path_editor(spec, str(value or ""))
        if kind in ("columns", "column_types"):
            return self._column_list(spec, value)
        line = QLineEdit(str(value))
        line.editingFinished.connect(lambda k=spec.name, e=line: self._edited(k, e.text()))
        return line

    def _path_editor(self, spec: ParamSpec, value: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit(value)
        line.setPlaceholderText("folder…" if spec.kind == "folder" else "file…")
        line.editingFinished.connect(lambda: self._path_typed(spec.name, line.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self.browse(spec))
        row.addWidget(line, 1)
        row.addWidget(browse)
        box.setProperty("line", line)
        return box

    def _column_list(self, spec: ParamSpec, value: Any) -> QWidget:
        columns = self._table_columns()
        widget = QListWidget()
        widget.setMaximumHeight(110)
        chosen = set(value) if spec.kind == "columns" else {c for c, t in value.items() if t}
        for column in columns:
            item = QListWidgetItem(column)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if column in chosen else Qt.CheckState.Unchecked
            )
            widget.addItem(item)
        widget.itemChanged.connect(lambda _item, k=spec.name, w=widget: self._columns_edited(k, w))
        return widget

    def _columns_edited(self, key: str, widget: QListWidget) -> None:
        ticked = [
            widget.item(i).text()
            for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked
        ]
        value: Any = ticked if key != "column_types" else dict.fromkeys(ticked, "categorical")
        self._edited(key, value)

    def _edited(self, key: str, value: Any) -> None:
        self.params[key] = value
        self._schedule()

    def _path_typed(self, key: str, text: str) -> None:
        if text != self.params.get(key, ""):
            self.set_param(key, text)

    def _write_editor(self, key: str, value: Any) -> None:
        """Show a value set from code in its editor, without re-triggering a preview."""
        editor = self.editors.get(key)
        if editor is None:
            return
        editor.blockSignals(True)
        if isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QListWidget):
            chosen = set(value) if isinstance(value, list) else set(value or {})
            for i in range(editor.count()):
                item = editor.item(i)
                checked = item.text() in chosen
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        elif isinstance(editor.property("line"), QLineEdit):
            editor.property("line").setText(str(value))
        editor.blockSignals(False)

    def _table_columns(self) -> list[str]:
        try:
            table = open_table(
                Path(str(self.params.get("path") or "")),
                str(self.params.get("delimiter", "auto")),
                bool(self.params.get("header", True)),
            )
        except (DatasetError, OSError):
            return []
        return list(table.columns)

    def _array_names(self) -> list[str]:
        path = Path(str(self.params.get("path") or ""))
        try:
            return list(array_names(path)) if path.is_file() else []
        except DatasetError:
            return []

    def browse(self, spec: ParamSpec) -> None:
        """Pick a file or folder with a dialog, then `set_param` (tests call that directly)."""
        current = str(self.params.get(spec.name) or "")
        if spec.kind == "folder":
            path = QFileDialog.getExistingDirectory(self, spec.label, current)
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, spec.label, current, FILE_FILTERS.get(self.name or "", "All files (*)")
            )
        if path:
            self.set_param(spec.name, path)


def normal_or_none(choice: DatasetChoice | None) -> DatasetChoice | None:
    return normal(choice) if choice is not None else None


def normal(choice: DatasetChoice) -> DatasetChoice:
    """The choice without settings that equal their defaults (same data, shorter JSON)."""
    info = DATASETS.get(choice.name)
    defaults = info.defaults if info is not None else {}
    params = {k: v for k, v in choice.params.items() if defaults.get(k, object()) != v}
    return DatasetChoice(
        choice.name, params, choice.val_fraction, choice.test_fraction, choice.seed
    )


def _fraction_spin(name: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(0.0, 0.9)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    return spin


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
