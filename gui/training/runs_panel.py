"""The runs table: every training run of the project, side by side, with their curves overlaid.

One row per `backend.document.runs.RunRecord` (newest first). Selecting rows draws their loss and
validation loss in one plot. "Restore graph" puts a run's graph back as one undo step;
"Continue training" starts a run from the selected run's checkpoint, and refuses when the
current graph is no longer the one that checkpoint was trained for. Graph edits come in bursts,
so the "graph differs" marks refresh at most once per `REFRESH_MS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.document.graph import GraphError
from backend.document.layer_table import UnknownLayerError
from backend.document.project import Project
from backend.document.run_changes import run_names
from backend.document.runs import (
    RunRecord,
    checkpoint_path,
    graph_fingerprint,
)
from backend.document.training_config import TrainingConfig
from backend.editing.commands import ReplaceGraph, UndoStack
from backend.training.recording import RunClock, record_run
from backend.training.trainer import TrainResult

REFRESH_MS = 100
METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")
COLUMNS = (
    "Run (what changed)",
    "Status",
    "Epochs",
    *METRICS,
    "Wall time",
    "Samples/s",
    "Device",
    "Started",
    "Graph",
)
GRAPH_COLUMN = COLUMNS.index("Graph")
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
DIFFERS = "≠ current"


class RunsPanel(QWidget):
    """The runs table, the overlay plot and the Restore / Continue buttons."""

    training_started = Signal()
    """A run started from a checkpoint here (the window shows the Training panel)."""

    def __init__(
        self,
        project: Project,
        undo: UndoStack,
        start_training: Callable[[], bool],
        show_error: Callable[[str, str], None],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runs_panel")
        self.project = project
        self.undo = undo
        self.start_training = start_training
        self.show_error = show_error
        self._clock: RunClock | None = None
        self._parent_id: str | None = None  # the run a starting run continues from
        self._shown_ids: list[str] = []
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        project.changed.connect(self._timer.start)
        self.refresh()

    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runs_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.restore_button = QPushButton("Restore graph")
        self.restore_button.setObjectName("runs_restore")
        self.restore_button.setToolTip("Put the selected run's graph back (undo brings yours back)")
        self.restore_button.clicked.connect(self.restore_selected)
        self.continue_button = QPushButton("Continue training")
        self.continue_button.setObjectName("runs_continue")
        self.continue_button.setToolTip("Train the current graph from the run's checkpoint")
        self.continue_button.clicked.connect(self.continue_selected)
        self.status = QLabel("No runs yet: press Train.")
        self.status.setObjectName("runs_status")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.continue_button)
        buttons.addWidget(self.status, 1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)

        self.plot = pg.PlotWidget(title="Loss of the selected runs")
        self.plot.setObjectName("runs_plot")
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._update_buttons()

    # ----------------------------------------------------------------- recording
    def run_started(self) -> None:
        """Call as a training run starts: the record's start time and wall time count from here."""
        self._clock = RunClock.start()

    def record(
        self,
        result: TrainResult,
        graph_data: dict[str, Any],
        dataset: Any,
        config: TrainingConfig,
    ) -> RunRecord:
        """Record a finished run (any status) in the project, with its checkpoint."""
        clock = self._clock or RunClock.start()
        parent, self._clock, self._parent_id = self._parent_id, None, None
        run = record_run(
            self.project,
            result,
            clock,
            graph_data=graph_data,
            dataset=dataset,
            config=config,
            parent_id=parent,
        )
        self.refresh()
        self.status.setText(f"Recorded run {_label(run)}: {run.status}, {run.epochs} epoch(s).")
        return run

    # ----------------------------------------------------------------- table
    @property
    def runs(self) -> list[RunRecord]:
        """The runs as the table shows them: newest first."""
        return list(reversed(self.project.runs))

    def refresh(self) -> None:
        """Rebuild the rows if the runs changed; always re-mark runs whose graph differs."""
        self._timer.stop()
        runs = self.runs
        ids = [run.id for run in runs]
        if ids != self._shown_ids:
            selected = {run.id for run in self.selected_runs()}
            self._fill(runs, selected)
            self._shown_ids = ids
        current = graph_fingerprint(self.project.graph) if runs else ""
        for row, run in enumerate(runs):
            differs = run.fingerprint != current
            item = self.table.item(row, GRAPH_COLUMN)
            item.setText(f"{run.short_fingerprint} {DIFFERS}" if differs else run.short_fingerprint)
            item.setForeground(QColor("#c05000") if differs else QColor("#2a7a2a"))
            item.setToolTip(
                f"graph fingerprint {run.fingerprint}\n"
                + ("differs from the current graph" if differs else "same as the current graph")
            )
        if not runs:
            self.status.setText("No runs yet: press Train.")
        self._update_buttons()

    def _fill(self, runs: list[RunRecord], selected: set[str]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(runs))
        names = run_names(self.project.runs)
        for row, run in enumerate(runs):
            for col, text in enumerate(_cells(run, names[run.id])):
                item = QTableWidgetItem(text)
                if col == 1:
                    item.setToolTip(run.message)
                self.table.setItem(row, col, item)
            self.table.item(row, 0).setToolTip(f"run {run.id}\n{run.started_at}")
        self.table.clearSelection()
        for row, run in enumerate(runs):
            if run.id in selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self._on_selection()

    def graph_differs(self, row: int) -> bool:
        return DIFFERS in self.table.item(row, GRAPH_COLUMN).text()

    def select_runs(self, run_ids: list[str]) -> None:
        """Select these runs' rows (as a user would with Ctrl+click)."""
        wanted = set(run_ids)
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, run in enumerate(self.runs):
            if run.id in wanted:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        runs = self.runs
        return [runs[row] for row in rows if row < len(runs)]

    def _on_selection(self) -> None:
        self._plot(self.selected_runs())
        self._update_buttons()

    def _update_buttons(self) -> None:
        one = len(self.selected_runs()) == 1
        self.restore_button.setEnabled(one)
        self.continue_button.setEnabled(one)

    def _plot(self, runs: list[RunRecord]) -> None:
        """Loss (solid) and validation loss (dashed) of each run, one colour per run."""
        self.plot.clear()
        self.legend.clear()
        self.curves = {}
        names = run_names(self.project.runs)
        for i, run in enumerate(runs):
            color = COLORS[i % len(COLORS)]
            for key, style in (("loss", Qt.PenStyle.SolidLine), ("val_loss", Qt.PenStyle.DashLine)):
                values = [_finite(v) for v in run.history.get(key, [])]
                if not values:
                    continue
                curve = self.plot.plot(
                    list(range(1, len(values) + 1)),
                    values,
                    pen=pg.mkPen(color, width=2, style=style),
                    symbol="o" if key == "loss" else "s",
                    symbolSize=5,
                    symbolBrush=color,
                    name=f"{names.get(run.id, _label(run))}: {key}",
                )
                self.curves[f"{run.id}:{key}"] = curve

    # ----------------------------------------------------------------- actions
    def _one_selected(self, action: str) -> RunRecord | None:
        runs = self.selected_runs()
        if len(runs) != 1:
            self.status.setText(f"Select one run to {action}.")
            return None
        return runs[0]

    def restore_selected(self) -> bool:
        """Replace the graph by the selected run's, as one undo step."""
        run = self._one_selected("restore")
        if run is None:
            return False
        command = ReplaceGraph(run.graph, label=f"Restore the graph of run {_label(run)}")
        try:
            self.undo.push(command)
        except (GraphError, UnknownLayerError) as exc:
            self.show_error("Cannot restore the graph", f"run {run.id}: {exc}")
            return False
        self.status.setText(f"Restored the graph of run {_label(run)} (Undo brings yours back).")
        self.refresh()
        return True

    def continue_selected(self) -> bool:
        """Train the current graph starting from the selected run's checkpoint."""
        run = self._one_selected("continue")
        if run is None:
            return False
        problem = self._cannot_continue(run)
        if problem:
            self.show_error("Cannot continue training", problem)
            return False
        path = checkpoint_path(run, self.project.path)
        assert path is not None  # _cannot_continue checked it
        settings = self.project.training
        # The run starts from the checkpoint; the project's own settings stay as they were.
        self.project.training = replace(settings, initial_weights=str(path.resolve()))
        self._parent_id = run.id
        try:
            started = self.start_training()
        finally:
            self.project.training = settings
        if not started:
            self._parent_id = None
            self.status.setText("Training could not start: see the Training panel.")
            return False
        self.status.setText(f"Continuing from run {_label(run)}…")
        self.training_started.emit()
        return True

    def _cannot_continue(self, run: RunRecord) -> str | None:
        path = checkpoint_path(run, self.project.path)
        if path is None:
            why = "it failed" if run.status == "failed" else "its weights were not saved"
            return f"Run {_label(run)} has no checkpoint ({why}). Pick another run."
        if not path.is_file():
            return f"The checkpoint of run {_label(run)} is missing: {path}"
        if run.fingerprint != graph_fingerprint(self.project.graph):
            return (
                f"Run {_label(run)} was trained on a different graph than the current one, so "
                "its checkpoint does not fit it. Restore its graph first, or train from scratch."
            )
        return None


def _label(run: RunRecord) -> str:
    """A short name for a run: its start time (date and time of day)."""
    return run.started_at[:19].replace("T", " ")


def _finite(value: Any) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan


def _cells(run: RunRecord, name: str) -> list[str]:
    throughput = [v for v in run.history.get("samples_per_s", []) if v is not None]
    return [
        name,
        run.status + (" (continued)" if run.parent_id else ""),
        str(run.epochs) + (f" (best {run.best_epoch + 1})" if run.best_epoch is not None else ""),
        *(_number(run.metrics.get(key)) for key in METRICS),
        f"{run.wall_time_s:.1f} s",
        f"{sum(throughput) / len(throughput):,.0f}" if throughput else "",
        _device(run),
        _label(run),
        run.short_fingerprint,
    ]


def _device(run: RunRecord) -> str:
    """Where the run trained and with which speed-ups, beside its samples/s to compare."""
    extras = [("mixed_float16", "mixed_precision"), ("XLA", "jit_compile")]
    return " · ".join([run.device, *(text for text, key in extras if run.training.get(key))])


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if math.isfinite(value) else str(value)
