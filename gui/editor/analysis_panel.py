"""The analysis beside the canvas: a live model summary, memory against the device, advice.

It mirrors `backend.analysis.summary` (per-node parameters, FLOPs, memory),
`backend.analysis.memory`
(training memory against the GPU or RAM) and `backend.analysis.advice` (warnings and errors,
with one-click fixes pushed on the undo stack). Shape updates come in bursts while editing, so
a refresh runs at most once per `REFRESH_MS`, from a single-shot timer.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.analysis.advice import Finding, advise
from backend.analysis.data_fit import dataset_meta, is_known
from backend.analysis.fixes import Fix
from backend.analysis.memory import TrainingMemory, training_memory_check
from backend.analysis.summary import Analysis, Summary, SummaryRow, format_bytes, format_count
from backend.document.graph import CycleError, GraphError
from backend.document.layer_table import UnknownLayerError
from backend.document.project import DatasetChoice, Project
from backend.editing.commands import UndoStack
from backend.keras_bridge.live_shapes import LiveShapes
from backend.keras_bridge.shapes import format_shape
from gui.runtime import theme

REFRESH_MS = 100
COLUMNS = ("Layer", "Type", "Output shape", "Params", "Trainable", "FLOPs", "Activations")
NODE_ROLE = Qt.ItemDataRole.UserRole
GREY = QColor("#8A8A8A")


class AnalysisPanel(QWidget):
    """Summary table, totals, training memory and the advice list with Fix buttons."""

    refreshed = Signal()
    """After each refresh: `analysis.params_of(node_id)` is current."""
    _dataset_known = Signal()

    def __init__(
        self,
        project: Project,
        live: LiveShapes,
        undo: UndoStack,
        select_node: Callable[[str], None],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("analysis_panel")
        self.project = project
        self.live = live
        self.undo = undo
        self.select_node = select_node
        self.analysis = Analysis()
        self.summary = Summary()
        self.findings: list[Finding] = []
        self.memory: TrainingMemory | None = None
        self.memory_warning: str | None = None
        self.refresh_count = 0
        self._shown_findings: list[tuple[Any, ...]] | None = None
        self._shown_rows: list[tuple[Any, ...]] = []
        self._settings: tuple[Any, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._loading: set[str] = set()
        self._dataset_known.connect(self.schedule)
        self._build()
        live.updated.connect(self.schedule)
        project.changed.connect(self._on_project_changed)
        self.schedule()

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        self.totals_label = QLabel("Waiting for TensorFlow…")
        self.totals_label.setObjectName("analysis_totals")
        self.totals_label.setWordWrap(True)
        self.memory_label = QLabel("")
        self.memory_label.setObjectName("analysis_memory")
        self.memory_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("analysis_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.problems = QTreeWidget()
        self.problems.setObjectName("analysis_problems")
        self.problems.setHeaderLabels(["Problem", "Fix"])
        self.problems.setWordWrap(True)
        self.problems.itemClicked.connect(self._on_problem_clicked)
        self.problems.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.problems.header().setStretchLastSection(False)
        self.problems.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.problems)
        splitter.setSizes([620, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.memory_label)
        layout.addWidget(splitter, 1)

    # ----------------------------------------------------------------- refreshing
    def schedule(self) -> None:
        """Refresh soon: bursts of updates (a drag, an undo of many steps) coalesce into one."""
        if not self._timer.isActive():
            self._timer.start()

    def _on_project_changed(self) -> None:
        """Dataset or training settings changed (moves and graph edits arrive otherwise)."""
        settings = _settings_key(self.project)
        if settings != self._settings:
            self._settings = settings
            self.schedule()

    def refresh(self) -> None:
        self._timer.stop()
        if not self.live.active:
            return
        self.refresh_count += 1
        self._settings = _settings_key(self.project)
        self._learn_dataset()
        graph, shapes = self.project.graph, self.live.results
        self.summary = self.analysis.summarize(graph, shapes)
        findings = advise(self.project, shapes, self.live.problems, self.summary)
        self.memory, device, self.memory_warning = training_memory_check(
            self.project, self.summary.totals
        )
        if self.memory_warning is not None:
            advice = "Lower the batch size in Training, or make the model smaller."
            findings.append(Finding("warning", self.memory_warning, None, advice, (), "memory"))
        self.findings = findings
        self._show_totals()
        self._show_memory(device)
        self._show_table()
        self._show_findings()
        self.refreshed.emit()

    def _learn_dataset(self) -> None:
        """Shapes of a costly dataset (a file, a Keras download) are read on a daemon thread
        once per setting; the checks that need them appear on the refresh after."""
        choice = self.project.dataset
        key = repr(choice)
        if choice is None or is_known(choice) or key in self._loading:
            return
        self._loading.add(key)
        thread = threading.Thread(
            target=self._read_dataset, args=(copy.deepcopy(choice),), daemon=True
        )
        thread.start()

    def _read_dataset(self, choice: DatasetChoice) -> None:
        dataset_meta(choice, load=True)
        with contextlib.suppress(RuntimeError):  # the panel was closed meanwhile
            self._dataset_known.emit()

    @property
    def learning_dataset(self) -> bool:
        """True while the dataset's shapes are being read in the background."""
        choice = self.project.dataset
        return choice is not None and not is_known(choice)

    def _show_totals(self) -> None:
        totals = self.summary.totals
        flops = format_count(totals.flops) + ("" if totals.complete else "+")
        self.totals_label.setText(
            f"<b>{totals.params:,}</b> parameters ({totals.trainable:,} trainable, "
            f"{totals.non_trainable:,} non-trainable) · weights "
            f"{format_bytes(totals.weight_bytes)} · per sample: activations "
            f"{format_bytes(totals.activation_bytes)}, {flops} FLOPs"
        )

    def _show_memory(self, device: Any) -> None:
        assert self.memory is not None
        where = "device memory unknown"
        if device is not None:
            kind = device.name if device.kind == "GPU" else "RAM"
            if device.replicas > 1:
                kind += f" (each of {device.replicas})"
            where = f"{format_bytes(device.available)} free of {format_bytes(device.total)} {kind}"
        fits = self.memory_warning is None
        color = "" if fits else f" style='color:{theme.ERROR_COLOR.name()}'"
        mark = "✓" if fits else "✗ will not fit:"
        self.memory_label.setText(
            f"<span{color}>Training memory {mark} about {self.memory.describe()}; {where}</span>"
        )

    # ----------------------------------------------------------------- the summary table
    def _show_table(self) -> None:
        rows = _ordered(self.summary, self.project)
        self.table.setRowCount(len(rows) + 1)
        del self._shown_rows[len(rows) + 1 :]
        for index, row in enumerate(rows):
            self._set_row(index, _row_cells(row), row.node_id, used=row.used)
        totals = self.summary.totals
        cells = [
            "Total",
            "",
            "",
            f"{totals.params:,}",
            f"{totals.trainable:,}",
            format_count(totals.flops) + ("" if totals.complete else "+"),
            format_bytes(totals.activation_bytes),
        ]
        self._set_row(len(rows), cells, None, used=True, bold=True)

    def _set_row(
        self, index: int, cells: list[str], node_id: str | None, used: bool, bold: bool = False
    ) -> None:
        """Write one row; a row that shows the same as before is left alone (1,000-node graphs)."""
        shown = (cells, node_id, used, bold)
        if index < len(self._shown_rows) and self._shown_rows[index] == shown:
            return
        font = QFont()
        font.setBold(bold)
        font.setItalic(not used)
        for column, text in enumerate(cells):
            item = self.table.item(index, column)
            if item is None:
                item = QTableWidgetItem()
                if column >= 3:
                    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    item.setTextAlignment(right)
                self.table.setItem(index, column, item)
            item.setText(text)
            item.setData(NODE_ROLE, node_id)
            item.setFont(font)
            item.setForeground(QBrush(GREY) if not used else QBrush())
            item.setToolTip("" if used else "reaches no output: not part of the model")
        if index < len(self._shown_rows):
            self._shown_rows[index] = shown
        else:
            self._shown_rows.append(shown)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        item = self.table.item(row, column)
        node_id = item.data(NODE_ROLE) if item is not None else None
        if node_id in self.project.graph.nodes:
            self.select_node(node_id)

    # ----------------------------------------------------------------- problems and fixes
    def _show_findings(self) -> None:
        shown = [
            (f.severity, f.message, f.node_id, f.advice, tuple(x.label for x in f.fixes))
            for f in self.findings
        ]
        if shown == self._shown_findings:
            return
        self._shown_findings = shown
        self.problems.clear()
        for finding in self.findings:
            self._add_finding(finding)
        if not self.findings:
            QTreeWidgetItem(self.problems, ["No problems found."])

    def _add_finding(self, finding: Finding) -> None:
        item = QTreeWidgetItem(self.problems, [finding.message])
        item.setData(0, NODE_ROLE, finding.node_id)
        color = theme.ERROR_COLOR if finding.severity == "error" else theme.WARNING_COLOR
        item.setForeground(0, QBrush(color))
        item.setToolTip(0, f"{finding.message}\n{finding.advice}".strip())
        if finding.advice:
            advice = QTreeWidgetItem(item, [f"Try: {finding.advice}"])
            advice.setData(0, NODE_ROLE, finding.node_id)
            item.setExpanded(True)
        if finding.fixes:
            self.problems.setItemWidget(item, 1, self._fix_buttons(finding.fixes))

    def _fix_buttons(self, fixes: tuple[Fix, ...]) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        for fix in fixes:
            button = QPushButton(fix.label)
            button.setObjectName("fix_button")
            button.setToolTip(f"{fix.label} (one undo step)")
            button.clicked.connect(lambda _=False, f=fix: self.apply_fix(f))
            layout.addWidget(button)
        return box

    def apply_fix(self, fix: Fix) -> bool:
        """Push the fix's command on the undo stack; False (and a message) if it no longer fits."""
        try:
            self.undo.push(fix.command())
        except (GraphError, UnknownLayerError, ValueError, StopIteration) as exc:
            self.totals_label.setText(f"Cannot apply '{fix.label}': {exc}")
            return False
        return True

    def fix_buttons(self) -> list[QPushButton]:
        """Every Fix button shown, in list order."""
        return self.problems.findChildren(QPushButton, "fix_button")

    def _on_problem_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        node_id = item.data(0, NODE_ROLE)
        if node_id in self.project.graph.nodes:
            self.select_node(node_id)


def _settings_key(project: Project) -> tuple[Any, ...]:
    """What the analysis reads of the dataset and training settings."""
    return (repr(project.dataset), repr(project.training))


def _ordered(summary: Summary, project: Project) -> list[SummaryRow]:
    """Rows in the order data flows (as `model.summary()`), or graph order with a cycle."""
    try:
        order = {nid: i for i, nid in enumerate(project.graph.topological_order())}
    except CycleError:
        return list(summary.rows)
    return sorted(summary.rows, key=lambda row: order.get(row.node_id, len(order)))


def _row_cells(row: SummaryRow) -> list[str]:
    stats = row.stats
    shape = format_shape(row.shape) if row.shape is not None else "—"
    if stats is None:
        return [row.name, row.layer_type, shape, "—", "—", "—", "—"]
    return [
        row.name,
        row.layer_type,
        shape,
        f"{stats.params:,}",
        f"{stats.trainable:,}",
        format_count(stats.flops),
        format_bytes(stats.activation_bytes),
    ]


def show_on_nodes(node_items: Mapping[str, Any], panel: AnalysisPanel, live: LiveShapes) -> None:
    """Parameter counts and warning badges on the node faces, from the panel's analysis (shape
    errors are left out: they already outline the node in red)."""
    show_param_counts(node_items, panel.analysis)
    found: dict[str, list[str]] = {}
    severe: set[str] = set()
    for finding in panel.findings:
        if not finding.node_id:
            continue
        shape = live.results.get(finding.node_id)
        if shape is not None and shape.error == finding.message:
            continue
        found.setdefault(finding.node_id, []).append(finding.message)
        if finding.severity == "error":
            severe.add(finding.node_id)
    for node_id, item in node_items.items():
        item.set_warnings(found.get(node_id, []), node_id in severe)


def show_param_counts(node_items: Mapping[str, Any], analysis: Analysis) -> None:
    """Put each node's parameter count, and how many train, on its canvas face
    (`NodeItem.set_param_count`)."""
    for node_id, item in node_items.items():
        stats = analysis.stats_of(node_id)
        item.set_param_count(analysis.params_of(node_id), stats.trainable if stats else None)
