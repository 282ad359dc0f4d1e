"""Evaluation of the trained model on the test split, and the linked predictions browser.

**Evaluate** evaluates the project's model with its current weights (the last run's, after
reopening too: `backend.workflow`) on the test split, on a `KerasJob` thread (never while a
training run is going). The results show as a metric list, a
confusion matrix, per-class precision/recall/F1 and a ROC curve (classification) or
predicted-vs-true and residual plots (regression). Clicking a confusion-matrix cell filters the
browser to exactly those samples; choosing a sample asks the insight panel to look inside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend.data import Dataset, DatasetError
from backend.evaluation.evaluate import (
    CLASSIFICATION,
    EvaluationError,
    EvaluationReport,
    HeadReport,
)
from backend.evaluation.insight import (
    DecisionGrid,
    InsightError,
    decision_grid,
    supports_decision_grid,
)
from backend.keras_bridge.weights import WeightsError
from backend.workflow import model_use
from backend.workflow.model_use import ProjectSnapshot
from backend.workflow.session import Workflow
from backend.workflow.weights import WeightsState
from gui.evaluation.evaluation_plots import ConfusionMatrixView, RegressionView, RocView
from gui.evaluation.insight_panel import InsightPanel
from gui.evaluation.predictions_view import PredictionsBrowser
from gui.runtime.empty_state import EmptyState
from gui.runtime.keras_job import KerasJob

NO_WEIGHTS = "No trained weights yet: train the model (Run > Train), then evaluate it here."
PLOTS_EMPTY = (
    "Press Evaluate: the test split's confusion matrix and ROC curve (classification), or "
    "predicted against true values (regression), appear here. Click a cell to see its samples."
)
CLASS_COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")


@dataclass(frozen=True)
class Evaluation:
    """What one Evaluate press produced, handed from the worker to the GUI thread."""

    report: EvaluationReport
    dataset: Dataset
    model: Any
    grid: DecisionGrid | None
    weights: str = ""
    """Which weights the model had, in words."""


def run_evaluation(snap: ProjectSnapshot) -> Evaluation:
    """The worker's job: the current weights on the test split, and the boundary of 2-D data."""
    done = model_use.evaluate(snap)
    model, dataset = done.built.model, done.dataset
    grid = decision_grid(model, dataset) if supports_decision_grid(dataset) else None
    return Evaluation(done.report, dataset, model, grid, done.built.note)


def table(columns: tuple[str, ...], name: str) -> QTableWidget:
    widget = QTableWidget(0, len(columns))
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(list(columns))
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    widget.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    widget.horizontalHeader().setStretchLastSection(True)
    return widget


def fill(widget: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, item)


class EvaluationPanel(QWidget):
    evaluated = Signal(object)  # the Evaluation
    failed = Signal(str)

    def __init__(
        self,
        workflow: Workflow,
        is_training: Callable[[], bool],
        insight: InsightPanel | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("evaluation_panel")
        self.workflow = workflow
        self.is_training = is_training
        self.insight = insight
        self.evaluation: Evaluation | None = None
        self.job: KerasJob | None = None
        self._done_job: KerasJob | None = None
        self._results_text = ""
        """What the shown results are (samples, weights), while they are of the current weights."""
        self._evaluated_weights = ""
        """`WeightsState.describe()` of the weights the shown results are of."""
        self._build()
        workflow.weights_changed.connect(self.show_weights)
        self.show_weights(workflow.weights)

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        self.evaluate_button = QPushButton("Evaluate on test split")
        self.evaluate_button.setObjectName("evaluate_button")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.head_combo = QComboBox()
        self.head_combo.setObjectName("evaluation_head")
        self.head_combo.setVisible(False)
        self.head_combo.currentIndexChanged.connect(self._show_head)
        self.status = QLabel(NO_WEIGHTS)
        self.status.setObjectName("evaluation_status")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.head_combo)
        top.addWidget(self.status, 1)
        self.metrics = table(("Metric", "Value"), "evaluation_metrics")
        self.per_class = table(CLASS_COLUMNS, "evaluation_per_class")
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.metrics)
        left.addWidget(self.per_class)
        self.confusion = ConfusionMatrixView()
        self.roc = RocView()
        self.regression = RegressionView()
        self.plots = QTabWidget()
        self.plots.setObjectName("evaluation_plots")
        self.plots.addTab(self.confusion, "Confusion matrix")
        self.plots.addTab(self.roc, "ROC")
        self.plots.addTab(self.regression, "Regression")
        self.browser = PredictionsBrowser()
        self.plots_view = EmptyState(self.plots, PLOTS_EMPTY)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, self.plots_view, self.browser):
            splitter.addWidget(widget)
        splitter.setSizes([260, 420, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.confusion.cell_clicked.connect(self.browser.show_cell)
        self.browser.filter_cleared.connect(self.confusion.clear_selection)
        self.browser.sample_chosen.connect(self.inspect_sample)

    # ----------------------------------------------------------------- evaluating
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def evaluate(self) -> bool:
        """Start evaluating the trained model; False (with the reason shown) if it cannot."""
        if self.is_training():
            self.status.setText("Training is running: evaluate when it has finished.")
            return False
        if self.busy:
            return False
        weights = self.workflow.weights
        if not weights.trained:
            self.status.setText(NO_WEIGHTS)
            return False
        if self.workflow.project.dataset is None:
            self.status.setText("No data chosen yet: pick it in the Data tab, then evaluate.")
            return False
        snap = self.workflow.snapshot()
        described = weights.describe()
        self.job = KerasJob(
            lambda: run_evaluation(snap),
            (EvaluationError, DatasetError, InsightError, WeightsError),
        )
        self.job.succeeded.connect(lambda done: self._on_evaluated(done, described))
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_job_finished)
        self.evaluate_button.setEnabled(False)
        self.status.setText("Evaluating on the test split…")
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.raise_()
        self.job.start()
        return True

    def _on_job_finished(self) -> None:
        if self.job is not None:
            self.job.wait()
        self._done_job, self.job = self.job, None  # deleted (no parent) when replaced
        self.evaluate_button.setEnabled(True)

    def show_weights(self, state: WeightsState) -> None:
        """Say which weights Evaluate uses: after a training, the run's; results shown of
        other weights say so (a new run, or an edit that made the weights stop fitting)."""
        if not self.busy:  # "Evaluating…" stays until the results come
            self.status.setText(self._weights_text(state))

    def _weights_text(self, state: WeightsState) -> str:
        current = state.describe()
        if self.evaluation is not None:
            if current == self._evaluated_weights:
                return self._results_text
            return (
                f"Shown: the results of {self.evaluation.weights}. Evaluate uses {current} "
                "now: press Evaluate for their results."
            )
        if state.trained:
            return (
                f"Trained weights to evaluate: {current}. Press Evaluate on test split (F6) "
                "to score them on data they never saw."
            )
        return NO_WEIGHTS

    def _on_failed(self, message: str) -> None:
        self.status.setText(f"Cannot evaluate: {message}")
        self.failed.emit(message)

    def _on_evaluated(self, evaluation: Evaluation, weights: str) -> None:
        self.evaluation, self._evaluated_weights = evaluation, weights
        report = evaluation.report
        notes = f" ({'; '.join(report.notes)})" if report.notes else ""
        self._results_text = (
            f"Evaluated on {report.size} test samples{notes}. Weights: {evaluation.weights}."
        )
        self.status.setText(self._weights_text(self.workflow.weights))
        fill(self.metrics, [(k, f"{v:.4f}") for k, v in report.metrics.items()])
        self.head_combo.blockSignals(True)
        self.head_combo.clear()
        self.head_combo.addItems([head.name for head in report.heads])
        self.head_combo.blockSignals(False)
        self.head_combo.setVisible(len(report.heads) > 1)
        self.plots_view.show_content(True)
        self._show_head()
        data = evaluation.dataset
        if self.insight is not None:  # Filters name a unit's weights by feature, Attention tokens
            self.insight.feature_names = list(getattr(data, "feature_names", []))
            self.insight.vocabulary = list(getattr(data, "vocabulary", []))
            self.insight.class_names = list(getattr(data, "class_names", []))
        if evaluation.grid is not None and self.insight is not None:
            self.insight.boundary.show_grid(evaluation.grid, data.x_train, data.y_train)
        self.evaluated.emit(evaluation)

    def current_head(self) -> HeadReport | None:
        if self.evaluation is None:
            return None
        return self.evaluation.report.heads[max(self.head_combo.currentIndex(), 0)]

    def _show_head(self, *_args: Any) -> None:
        head = self.current_head()
        if head is None or self.evaluation is None:
            return
        result = head.classification
        if result is not None:
            self.confusion.show_matrix(result.confusion, result.class_names)
            self.roc.show_curve(result.roc)
            fill(self.per_class, _class_rows(head))
            self.plots.setCurrentWidget(self.confusion)
        else:
            self.per_class.setRowCount(0)
            self.regression.show_head(head)
            self.plots.setCurrentWidget(self.regression)
        shown = (result is not None, result is not None and result.roc is not None, result is None)
        for index, applies in enumerate(shown):  # only the plots of this task, no dead tabs
            self.plots.setTabEnabled(index, applies)
            self.plots.setTabVisible(index, applies)
        self.plots.tabBar().setVisible(sum(shown) > 1)  # one plot: its rows get the room
        self.browser.set_head(head, self.evaluation.report.inputs)

    def inspect_sample(self, index: int) -> None:
        """The browser chose a sample: look inside the evaluated model for it."""
        head = self.current_head()
        if self.insight is None or head is None or self.evaluation is None:
            return
        p = head.predictions
        names = head.classification.class_names if head.classification else []
        if p.task == CLASSIFICATION:
            assert p.confidence is not None
            what = f"predicted {names[p.predicted[index]]} ({p.confidence[index]:.2f}), "
            what += f"true {names[p.true[index]]}"
        else:
            what = _regression_caption(np.ravel(p.predicted[index]), np.ravel(p.true[index]))
        self.insight.show_sample(
            self.evaluation.model,
            self.evaluation.report.inputs,
            index,
            what,
            classifier=p.task == CLASSIFICATION,
        )

    def mark_stale(self, *_args: Any) -> None:
        """A run ended: say which weights Evaluate uses now (shown results of others say so)."""
        self.show_weights(self.workflow.weights)

    def clear(self) -> None:
        """Another project: forget the results (a running job's result is dropped too)."""
        if self.job is not None:
            self.job.succeeded.disconnect()
        self.evaluation = None
        self.metrics.setRowCount(0)
        self.per_class.setRowCount(0)
        self.head_combo.clear()
        self.browser.set_head(None, None)
        self.confusion.show_matrix(np.zeros((0, 0), dtype="int64"), [])
        self.plots_view.show_content(False)
        self.status.setText(self._weights_text(self.workflow.weights))
        if self.insight is not None:
            self.insight.clear()
            self.insight.boundary.clear_grid()

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.wait()
        if self.insight is not None:
            self.insight.shutdown()


def _regression_caption(predicted: np.ndarray, true: np.ndarray) -> str:
    """A few values in full; many (an autoencoder's pixels) by their mean absolute error,
    never a caption of 128 numbers that pushes the views out of the dock."""
    if predicted.size <= 4:
        return f"predicted {_values(predicted)}, true {_values(true)}"
    error = float(np.mean(np.abs(predicted - true)))
    return f"{predicted.size} values predicted, mean absolute error {error:.4g}"


def _values(values: np.ndarray) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


def _class_rows(head: HeadReport) -> list[tuple[str, ...]]:
    result = head.classification
    assert result is not None
    return [
        (name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(int(s)))
        for name, p, r, f, s in zip(
            result.class_names,
            result.precision,
            result.recall,
            result.f1,
            result.support,
            strict=True,
        )
    ]
