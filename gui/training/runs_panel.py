"""The runs table: every training run of the project, side by side, with their curves overlaid.

One row per `backend.document.runs.RunRecord` (newest first). Selecting rows draws their loss and
validation loss in one plot. "Restore graph" puts a run's graph back as one undo step;
"Use weights" makes a run's checkpoint the project's current weights (the one marked ●);
"Continue training" starts a run from the selected run's checkpoint, and refuses (the
workflow's `cannot_continue`) when the current graph is no longer the one that checkpoint was
trained for. Graph edits come in bursts, so the "graph differs" marks refresh at most once per
`REFRESH_MS`.

The overlay reads as TensorBoard's does: one legend entry per run (its colour; loss solid,
validation loss dashed, as the title says) beside the plot, never over the curves, and "Ignore
outliers in chart scaling" (on by default) leaves out of the value axis the runs that peak far
above the others, so one diverged run (learning rate 1, a loss in the thousands) does not
squash the others flat; the title says where the axis was clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.document.graph import GraphError
from backend.document.layer_table import UnknownLayerError
from backend.document.run_changes import run_names
from backend.document.runs import (
    RunRecord,
    graph_fingerprint,
)
from backend.editing.commands import ReplaceGraph
from backend.workflow.session import Workflow, WorkflowError
from gui.runtime.empty_state import EmptyState

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
DEVICE_COLUMN = COLUMNS.index("Device")
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
DIFFERS = "≠ current"
CURRENT = "● "
OUTLIER_FACTOR = 3.0
"""A run is an outlier when its highest point is this many times the lowest-peaking run's."""
PLOT_TITLE = "Loss (solid), val_loss (dashed)"
RUNS_EMPTY = "Select runs in the table (Ctrl+click for several): their loss curves show here."


NO_RUNS = "No runs yet: press Train."


def _runs_listed(runs: list[RunRecord]) -> str:
    return f"{len(runs)} run{'s' if len(runs) != 1 else ''}. Select one or more to compare."


class RunsPanel(QWidget):
    """The runs table, the overlay plot and the Restore / Continue buttons."""

    training_started = Signal()
    """A run started from a checkpoint here (the window shows the Training panel)."""

    def __init__(
        self,
        workflow: Workflow,
        continue_run: Callable[[str], bool],
        show_error: Callable[[str, str], None],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runs_panel")
        self.workflow = workflow
        self.project = project = workflow.project
        self.undo = workflow.undo
        self.continue_run = continue_run
        """Starts a run continuing run `id` from its checkpoint; False if it did not start."""
        self.show_error = show_error
        self._shown_ids: list[str] = []
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        project.changed.connect(self._timer.start)
        workflow.weights_changed.connect(lambda _state: self._timer.start())
        workflow.run_recorded.connect(self.show_recorded)
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
        self.use_button = QPushButton("Use weights")
        self.use_button.setObjectName("runs_use")
        self.use_button.setToolTip(
            "Make this run's weights the current ones: Evaluate, Export and the script use them"
        )
        self.use_button.clicked.connect(self.use_selected)
        self.status = QLabel(NO_RUNS)
        self.status.setObjectName("runs_status")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.continue_button)
        buttons.addWidget(self.status, 1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)

        self.plot = pg.PlotWidget(title=PLOT_TITLE)
        self.plot.setObjectName("runs_plot")
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.legend = _legend_beside(self.plot.getPlotItem())
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.ignore_outliers = QCheckBox("Ignore outliers in chart scaling")
        self.ignore_outliers.setObjectName("runs_ignore_outliers")
        self.ignore_outliers.setToolTip(
            "Scale the value axis to most of the points, so one diverged run does not squash "
            "the others flat (as TensorBoard does)"
        )
        self.ignore_outliers.setChecked(True)
        self.ignore_outliers.toggled.connect(lambda _on: self._scale())
        self.clipped_at: float | None = None
        """Where the value axis was clipped to leave outliers out; None when all is shown."""
        buttons.insertWidget(3, self.ignore_outliers)

        self.plot_view = EmptyState(self.plot, RUNS_EMPTY)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.plot_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._update_buttons()

    # ----------------------------------------------------------------- recording
    def show_recorded(self, run: RunRecord) -> None:
        """A run was just recorded in the project: show it at the top."""
        self.refresh()
        self.status.setText(f"Recorded run {_label(run)}: {run.status}, {run.epochs} epoch(s).")

    def reset(self) -> None:
        """Another project: its runs, no selection, no message of the previous one."""
        self.table.clearSelection()
        self.status.setText("")
        self.refresh()
        if self.project.runs:
            self.status.setText(_runs_listed(self.project.runs))

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
        weights = self.workflow.weights.run
        for row, run in enumerate(runs):
            self._mark_weights(row, run, weights is not None and run.id == weights.id)
            differs = run.fingerprint != current
            item = self.table.item(row, GRAPH_COLUMN)
            item.setText(f"{run.short_fingerprint} {DIFFERS}" if differs else run.short_fingerprint)
            item.setForeground(QColor("#c05000") if differs else QColor("#2a7a2a"))
            item.setToolTip(
                f"graph fingerprint {run.fingerprint}\n"
                + ("differs from the current graph" if differs else "same as the current graph")
            )
        if not runs:
            self.status.setText(NO_RUNS)
        elif self.status.text() in (NO_RUNS, ""):  # runs came without a new recording
            self.status.setText(_runs_listed(runs))
        self._update_buttons()

    def _mark_weights(self, row: int, run: RunRecord, current: bool) -> None:
        """● and bold on the run whose weights are the project's current ones."""
        item = self.table.item(row, 0)
        label = item.text().removeprefix(CURRENT)
        item.setText(CURRENT + label if current else label)
        font = item.font()
        font.setBold(current)
        item.setFont(font)
        note = "\nits weights are the current ones (Evaluate, Export use them)" if current else ""
        item.setToolTip(f"run {run.id}\n{run.started_at}{note}")

    def _fill(self, runs: list[RunRecord], selected: set[str]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(runs))
        names = run_names(self.project.runs)
        for row, run in enumerate(runs):
            for col, text in enumerate(_cells(run, names[run.id])):
                item = QTableWidgetItem(text)
                if col == 1:
                    item.setToolTip(run.message)
                elif col == DEVICE_COLUMN and run.execution.get("summary"):
                    item.setToolTip(str(run.execution["summary"]))  # how it was executed
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
        self.use_button.setEnabled(one)

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
                    name=names.get(run.id, _label(run)) if key == "loss" else None,
                )
                self.curves[f"{run.id}:{key}"] = curve
        self.plot_view.show_content(bool(self.curves))
        self._scale()

    def _scale(self) -> None:
        """Fit the value axis to all points, or leave out the runs that peak far above the
        others when outliers are ignored (saying where it clipped)."""
        runs: dict[str, list[float]] = {}
        for key, curve in self.curves.items():
            points = [float(v) for v in curve.getData()[1] if math.isfinite(v)]
            runs.setdefault(key.rsplit(":", 1)[0], []).extend(points)
        span = robust_range(list(runs.values())) if self.ignore_outliers.isChecked() else None
        view = self.plot.getPlotItem().getViewBox()
        self.clipped_at = None if span is None else span[1]
        if span is None:
            self.plot.setTitle(PLOT_TITLE)
            view.enableAutoRange()
            view.updateAutoRange()
            return
        view.setYRange(*span, padding=0)
        view.enableAutoRange(axis=pg.ViewBox.XAxis)
        highest = max(max(points) for points in runs.values() if points)
        self.plot.setTitle(
            f"{PLOT_TITLE} · axis clipped at {span[1]:.3g} (a run reaches {highest:.4g})"
        )

    # ----------------------------------------------------------------- actions
    def _one_selected(self, action: str) -> RunRecord | None:
        runs = self.selected_runs()
        if len(runs) != 1:
            self.status.setText(f"Select one run to {action}.")
            return None
        return runs[0]

    def use_selected(self) -> bool:
        """Make the selected run's checkpoint the project's current weights."""
        run = self._one_selected("use")
        if run is None:
            return False
        try:
            state = self.workflow.use_run(run.id)
        except WorkflowError as exc:
            self.show_error("Cannot use these weights", str(exc))
            return False
        self.status.setText(f"Current weights: {state.describe()}.")
        return True

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
        problem = self.workflow.cannot_continue(run.id)
        if problem:
            self.show_error("Cannot continue training", problem)
            return False
        if not self.continue_run(run.id):
            self.status.setText("Training could not start: see the Training panel.")
            return False
        self.status.setText(f"Continuing from run {_label(run)}…")
        self.training_started.emit()
        return True


def robust_range(runs: list[list[float]]) -> tuple[float, float] | None:
    """The value axis' (bottom, top) when some runs (each given as all its finite points) rise
    more than `OUTLIER_FACTOR` times as high as the lowest-peaking run: from zero (or the lowest
    point) to the highest peak among the others. None when no run stands out so (a single run,
    or runs that all start near the same loss, are always shown whole)."""
    peaks = sorted(max(points) for points in runs if points)
    if len(peaks) < 2 or peaks[0] <= 0:
        return None
    kept = [peak for peak in peaks if peak <= OUTLIER_FACTOR * peaks[0]]
    if len(kept) == len(peaks):
        return None
    bottom = min(0.0, *(min(points) for points in runs if points))
    return bottom, kept[-1] + 0.05 * (kept[-1] - bottom)


class _LegendBeside(pg.LegendItem):  # type: ignore[misc]
    """A legend that a layout places: it asks the layout for room instead of moving itself
    to its parent's corner."""

    def updateSize(self) -> None:
        self.updateGeometry()


def _legend_beside(plot: pg.PlotItem) -> pg.LegendItem:
    """A legend in the plot's layout right of the curves, filled by curves given a name; the
    title spans both, so that the plot needs no more width than its title or its parts."""
    legend = _LegendBeside(labelTextSize="8pt")
    legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    plot.layout.addItem(legend, 2, 3)
    plot.layout.removeItem(plot.titleLabel)
    plot.layout.addItem(plot.titleLabel, 0, 1, 1, 3)
    plot.legend = legend
    return legend


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
