"""The Evaluation dock: Evaluate on a worker, plots, a clickable confusion matrix linked to the
predictions browser, and the Insight dock for the chosen sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QDockWidget

from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project
from backend.editing.commands import SetParams
from backend.evaluation.evaluate import EvaluationReport
from backend.templates.examples import moons_mlp
from backend.workflow.session import import_project
from backend.workflow.weights import run_label
from gui.evaluation.evaluation_panel import EvaluationPanel
from gui.main_window import MainWindow
from tests import evaluation_models
from tests.gui.conftest import Dialogs, make_window

WAIT_MS = 60_000


def raise_dock(qtbot: Any, window: MainWindow, name: str) -> None:
    dock = window.findChild(QDockWidget, name)
    assert dock is not None
    dock.raise_()
    qtbot.waitUntil(dock.widget().isVisible, timeout=5_000)


def evaluate(qtbot: Any, window: MainWindow) -> EvaluationReport:
    """Press the Evaluate button and wait for the worker's results."""
    raise_dock(qtbot, window, "dock_evaluation")
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=5_000)
    return blocker.args[0].report


def use_model(window: MainWindow, model: Any, dataset: str, folder: Path) -> None:
    """Give the window `model` as an imported project, its weights the current ones, and
    choose `dataset` for it (import -> choose data, as a user would)."""
    model.save(folder / "model.keras")
    project = import_project(folder / "model.keras", folder / "model.dcproj.json")
    window.files.replace_project(project)
    assert window.project.dataset is None  # an import has no data until one is chosen
    window.workflow.choose_dataset(DatasetChoice(dataset))
    assert window.workflow.weights.source == "initial"


def click_cell(qtbot: Any, panel: EvaluationPanel, true: int, predicted: int) -> None:
    """A real left click in the middle of a confusion-matrix cell."""
    view = panel.confusion
    pos = view.mapFromScene(view.cell_center(true, predicted))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def table_column(panel: EvaluationPanel, column: int) -> list[str]:
    model = panel.browser.model
    return [model.index(r, column).data() for r in range(model.rowCount())]


@pytest.fixture
def moons_window(
    qtbot: Any, dialogs: Dialogs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MainWindow]:
    """The moons example with a model trained on the same data (shared across tests)."""
    window = make_window(qtbot, moons_mlp(), dialogs)
    use_model(window, evaluation_models.moons()[0], "moons", tmp_path_factory.mktemp("moons"))
    yield window
    window.shutdown()


def test_train_evaluate_click_a_cell_and_look_inside_a_sample(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.evaluation_panel
    assert not panel.evaluate()
    assert "No trained weights yet" in panel.status.text()
    with qtbot.waitSignal(window.training.finished, timeout=WAIT_MS):
        assert window.training.start()
    run = window.project.runs[-1]
    hint = panel.status.text()  # the trained weights, named, not "train first"
    assert hint.startswith("Trained weights to evaluate: run ") and run_label(run) in hint
    report = evaluate(qtbot, window)
    head = report.heads[0]
    result = head.classification
    assert result is not None
    assert "Evaluated on 269 test samples" in panel.status.text()
    width, height = panel.confusion.cell_size()  # the dock at its default size: counts read
    for label in panel.confusion.labels:
        font = label.textItem.font()
        assert label.isVisible() and font.pixelSize() >= 10
        text = QFontMetricsF(font).boundingRect(label.textItem.toPlainText())
        assert text.width() <= width and text.height() <= height
    metrics = {
        panel.metrics.item(r, 0).text(): panel.metrics.item(r, 1).text()
        for r in range(panel.metrics.rowCount())
    }
    assert metrics["accuracy"] == f"{report.metrics['accuracy']:.4f}"
    assert panel.per_class.rowCount() == 10
    assert panel.per_class.item(3, 2).text() == f"{result.recall[3]:.3f}"
    assert panel.confusion.confusion.sum() == 269
    assert len(panel.confusion.labels) == 100
    assert panel.browser.shown_samples() == list(head.predictions.by_confidence())

    wrong = np.argwhere(result.confusion * (1 - np.eye(10, dtype=int)) > 0)
    true, predicted = (int(v) for v in (wrong[0] if len(wrong) else (4, 4)))
    with qtbot.waitSignal(panel.confusion.cell_clicked) as clicked:
        click_cell(qtbot, panel, true, predicted)
    assert clicked.args == [true, predicted]
    expected = head.predictions.in_cell(true, predicted)
    assert panel.browser.shown_samples() == list(expected)
    assert len(expected) == result.confusion[true, predicted] > 0
    assert set(table_column(panel, 2)) == {str(true)}
    assert set(table_column(panel, 1)) == {str(predicted)}
    assert f"True {true}, predicted {predicted}: {len(expected)} sample(s)" in (
        panel.browser.caption.text()
    )

    insight = window.insight_panel
    table = panel.browser.table
    with qtbot.waitSignal(insight.shown, timeout=WAIT_MS) as shown:
        qtbot.mouseClick(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=table.visualRect(table.model().index(0, 1)).center(),
        )
    sample = int(expected[0])
    assert shown.args[0].index == sample
    assert insight.insight is not None and insight.insight.saliency.values.shape == (8, 8, 1)
    model = panel.evaluation.model  # the last run's
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert insight.layer_combo.count() == len(layers)
    for act, layer in zip(insight.insight.activations, layers, strict=True):
        assert act.values.shape == tuple(layer.output.shape[1:])
    conv_maps = insight.activations.image.image  # 16 maps of 8x8 tiled 4x4, 1-pixel gaps
    assert conv_maps.shape == (4 * 9 - 1, 4 * 9 - 1)
    insight.layer_combo.setCurrentIndex(len(layers) - 1)
    bars = insight.activations.bars.opts["height"]
    np.testing.assert_allclose(
        bars, model.predict(report.inputs[sample][None], verbose=0)[0], rtol=1e-5, atol=1e-6
    )
    assert insight.filters.image.image.shape == (4 * 4 - 1, 4 * 4 - 1)  # 16 3x3 kernels
    assert insight.saliency_overlay.image.shape == (8, 8)
    assert f"Sample {sample}: predicted {predicted}" in insight.caption.text()

    dense = window.project.graph.node_by_name("dense")  # an edit the weights no longer fit
    window.undo.push(SetParams(dense.id, {"units": 32}))
    assert panel.status.text().startswith(f"Shown: the results of run {run_label(run)}")
    assert "no longer fit the graph" in panel.status.text()


def test_evaluate_and_insight_are_refused_while_training(qtbot: Any, window: MainWindow) -> None:
    window.project.training.epochs = 50
    with qtbot.waitSignal(window.training.finished, timeout=WAIT_MS):
        assert window.training.start()
        qtbot.waitUntil(lambda: window.is_training, timeout=5_000)
        raise_dock(qtbot, window, "dock_evaluation")
        qtbot.mouseClick(window.evaluation_panel.evaluate_button, Qt.MouseButton.LeftButton)
        assert window.evaluation_panel.job is None
        assert "Training is running" in window.evaluation_panel.status.text()
        digits = evaluation_models.digits()
        assert not window.insight_panel.show_sample(digits[0], digits[1].x_test, 0)
        assert "Training is running" in window.insight_panel.caption.text()
        window.training.stop()


def test_binary_task_roc_most_wrong_sorting_and_decision_boundary(
    qtbot: Any, moons_window: MainWindow
) -> None:
    window = moons_window
    panel = window.evaluation_panel
    raise_dock(qtbot, window, "dock_evaluation")
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS) as done:
        window.evaluate_action.trigger()
    report: EvaluationReport = done.args[0].report
    result = report.heads[0].classification
    assert result is not None and result.roc is not None
    assert panel.plots.isTabEnabled(1) and not panel.plots.isTabEnabled(2)
    xs, ys = panel.roc.curve.getData()
    np.testing.assert_allclose(xs, result.roc.fpr)
    np.testing.assert_allclose(ys, result.roc.tpr)
    assert f"AUC = {result.roc.auc:.3f}" in panel.roc.getPlotItem().titleLabel.text

    qtbot.mouseClick(panel.browser.worst_button, Qt.MouseButton.LeftButton)
    p = report.heads[0].predictions
    shown = panel.browser.shown_samples()
    assert shown == list(p.most_confidently_wrong()) and len(shown) > 0
    assert all(p.predicted[i] != p.true[i] for i in shown)
    confidences = [float(c) for c in table_column(panel, 3)]
    assert confidences == sorted(confidences, reverse=True)

    header = panel.browser.table.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(3) + 5, header.height() // 2),
    )
    resorted = [float(c) for c in table_column(panel, 3)]
    assert sorted(resorted) == sorted(confidences)
    assert resorted in (sorted(confidences), sorted(confidences, reverse=True))
    assert sorted(panel.browser.shown_samples()) == sorted(shown), "the same subset, reordered"

    boundary = window.insight_panel.boundary
    assert boundary.grid is not None and boundary.grid.values.shape == (60, 60, 2)
    assert len(boundary.points.data) == len(done.args[0].dataset.x_train)
    assert boundary.image.image.shape == (60, 60, 3)

    qtbot.mouseClick(panel.browser.all_button, Qt.MouseButton.LeftButton)
    assert len(panel.browser.shown_samples()) == report.size
    window.open_example("digits_cnn")
    assert panel.evaluation is None and panel.browser.shown_samples() == []
    assert boundary.grid is None


def test_regression_shows_predicted_vs_true_and_residuals(
    qtbot: Any, dialogs: Dialogs, tmp_path: Path
) -> None:
    window = make_window(qtbot, Project(LayerGraph(), name="Diabetes"), dialogs)
    try:
        model, dataset = evaluation_models.diabetes()
        use_model(window, model, "diabetes", tmp_path)
        report = evaluate(qtbot, window)
        head = report.heads[0]
        assert head.regression is not None
        panel = window.evaluation_panel
        assert panel.plots.currentWidget() is panel.regression
        assert not panel.plots.isTabEnabled(0) and panel.per_class.rowCount() == 0
        xs, ys = panel.regression.scatter.getData()
        np.testing.assert_allclose(xs, dataset.y_test.ravel())
        np.testing.assert_allclose(ys, head.predictions.predicted.ravel(), rtol=1e-6)
        _, residuals = panel.regression.residuals.getData()
        np.testing.assert_allclose(residuals, head.regression.residuals.ravel(), rtol=1e-5)
        assert f"R² {head.regression.r2:.3f}" in (
            panel.regression.scatter_plot.getPlotItem().titleLabel.text
        )
        model = panel.browser.model
        assert model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == (
            "Abs. error"
        )
        assert panel.browser.worst_button.text() == "Largest errors"
        qtbot.mouseClick(panel.browser.worst_button, Qt.MouseButton.LeftButton)
        errors = [float(e) for e in table_column(panel, 3)]
        assert len(errors) == report.size and errors == sorted(errors, reverse=True)
        with qtbot.waitSignal(window.insight_panel.shown, timeout=WAIT_MS):
            panel.browser.choose_row(0)
        saliency = window.insight_panel.insight.saliency  # type: ignore[union-attr]
        assert saliency.values.shape == (10,) and saliency.class_index is None
        assert window.insight_panel.saliency.currentWidget() is window.insight_panel.saliency_bars
    finally:
        window.shutdown()


def test_data_that_does_not_fit_the_model_gives_a_message(
    qtbot: Any, moons_window: MainWindow, tmp_path: Path
) -> None:
    use_model(moons_window, evaluation_models.digits()[0], "moons", tmp_path)
    panel = moons_window.evaluation_panel
    with qtbot.waitSignal(panel.failed, timeout=WAIT_MS) as failed:
        assert panel.evaluate()
    assert "takes samples of shape (8, 8, 1) but the test data has (2,)" in failed.args[0]
    assert panel.status.text().startswith("Cannot evaluate: the model's Input")
    qtbot.waitUntil(lambda: panel.job is None, timeout=5_000)
    assert panel.evaluate_button.isEnabled()
