"""Insight views that teach: a single neuron drawn as on a blackboard (its line, its 0.5
contour, the bias and the signed weights) and the attention scores of a Transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QTabBar

from backend.evaluation.insight import decision_grid
from backend.keras_bridge.compiler import compile_graph
from backend.templates.gallery import load_template
from gui.evaluation.decision_boundary import DecisionBoundaryView
from gui.evaluation.evaluation_panel import _regression_caption
from gui.evaluation.insight_panel import InsightPanel
from tests.gui.conftest import Dialogs, make_window

WAIT_MS = 30_000


def neuron_model(w1: float, w2: float, b: float) -> tuple[Any, Any]:
    project = load_template("perceptron")
    model = compile_graph(project.graph)
    model.get_layer("neuron").set_weights([np.array([[w1], [w2]], "float32"), np.array([b])])
    return model, project.load_data()


def test_the_single_neuron_view_draws_its_line_contour_bias_and_weights(qtbot: Any) -> None:
    model, data = neuron_model(2.0, -1.0, 0.5)
    grid = decision_grid(model, data)
    assert grid.neuron is not None and grid.neuron.formula() == "z = +2.00·x1 - 1.00·x2 + 0.50"
    view = DecisionBoundaryView()
    qtbot.addWidget(view)
    view.show_grid(grid, data.x_train, data.y_train)
    overlay = view.neuron
    assert overlay.line.isVisible() and overlay.contour.isVisible()
    fx, fy = overlay.line.pos().x(), overlay.line.pos().y()
    assert 2.0 * fx - 1.0 * fy + 0.5 == pytest.approx(0.0, abs=1e-6)  # the foot is on the line
    assert (fx, fy) == pytest.approx((-0.2, 0.1))  # -b w / |w|^2
    assert overlay.line.angle % 180 == pytest.approx((np.degrees(np.arctan2(-1, 2)) + 90) % 180)
    # the white 0.5 contour of the grid follows the line: every point of it has z near 0
    overlay.contour.boundingRect()  # builds the path, as painting does
    path = overlay.contour.path
    assert path is not None and path.elementCount() > 10
    box = view.getPlotItem().vb
    x0, x1, y0, y1 = grid.bounds
    cell = max(x1 - x0, y1 - y0) / len(grid.xs)
    for i in range(0, path.elementCount(), 5):
        element = path.elementAt(i)
        point = overlay.contour.mapToItem(box.childGroup, QPointF(element.x, element.y))
        assert abs(2.0 * point.x() - point.y() + 0.5) / np.hypot(2, 1) < cell
    title = view.getPlotItem().titleLabel.text
    assert "+2.00" in title and "-1.00" in title and "#c0392b" in title  # negative in red
    assert overlay.line_label.format == "w·x + b = 0 (sigmoid 0.5: white)"
    assert overlay.labels[1].textItem.toPlainText().startswith("b = +0.50")
    view.show_grid(decision_grid(compile_graph(load_template("moons_mlp").graph), data))
    assert not overlay.line.isVisible()  # not a single neuron: nothing drawn


def test_one_unit_shows_its_signed_weight_per_input_not_1_filters(qtbot: Any) -> None:
    model, data = neuron_model(1.5, -0.75, 0.0)
    panel = InsightPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.shown, timeout=WAIT_MS):
        panel.show_sample(model, data.x_test, 0, "", classifier=True)
    bars = panel.filters.bars.opts
    assert list(bars["height"]) == pytest.approx([1.5, -0.75])
    colours = [b.color().name() for b in bars["brushes"]]
    assert colours == ["#1f5fb4", "#c0392b"]
    title = panel.filters.bar_plot.getPlotItem().titleLabel.text
    assert "filters" not in title and "weight of each input" in title
    ticks = panel.filters.bar_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == ["x1", "x2"]
    assert panel.attention.plot.isHidden() and not panel.attention.note.isHidden()  # no MHA
    panel.shutdown()


def test_the_attention_tab_shows_each_heads_scores_over_the_tokens(qtbot: Any) -> None:
    project = load_template("transformer_classifier")
    model = compile_graph(project.graph)
    data = project.load_data()
    panel = InsightPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.shown, timeout=WAIT_MS):
        panel.show_sample(model, data.x_test, 0, "", classifier=True)
    view = panel.attention
    assert [view.choice.itemText(i) for i in range(view.choice.count())] == [
        "attention: mean of the heads",
        "attention: head 1",
        "attention: head 2",
    ]
    scores = view.image.image
    assert scores.shape == (12, 12)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)  # a softmax per query
    ticks = view.plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == [str(int(t)) for t in data.x_test[0]]  # no vocabulary
    view.choice.setCurrentIndex(2)
    chosen = view.current()
    assert chosen is not None
    layer, scores, which = chosen
    np.testing.assert_allclose(view.image.image, layer.scores[1])
    np.testing.assert_allclose(scores, layer.scores[1])
    assert which == "head 2" and not view.note.isVisible()
    assert panel.insight is not None and panel.insight.saliency is None  # token ids
    panel.shutdown()


def test_attention_axes_read_as_the_tokens_of_the_evaluated_data(
    qtbot: Any, dialogs: Dialogs
) -> None:
    """Train -> Evaluate -> click a sample: the heatmap's axes name the task's tokens (the start
    token, A, B, filler words), carried from the generated data to the Insight panel."""
    window = make_window(qtbot, load_template("transformer_classifier"), dialogs)
    window.workflow.train(epochs=1)
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS):
        assert panel.evaluate()
    qtbot.waitUntil(lambda: panel.job is None, timeout=5_000)
    table = panel.browser.table
    with qtbot.waitSignal(window.insight_panel.shown, timeout=WAIT_MS) as shown:
        qtbot.mouseClick(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=table.visualRect(table.model().index(0, 1)).center(),
        )
    sample = panel.evaluation.report.inputs[shown.args[0].index]
    vocabulary = ["<s>", "A", "B", *(f"w{i}" for i in range(3, 10))]
    expected = [vocabulary[int(token)] for token in sample]
    assert expected[0] == "<s>" and expected.count("A") == expected.count("B") == 1
    plot = window.insight_panel.attention.plot.getPlotItem()
    for axis in ("bottom", "left"):  # keys and queries
        assert [label for _, label in plot.getAxis(axis)._tickLevels[0]] == expected
    window.shutdown()


def test_another_template_starts_clean_and_side_by_side_boundaries_are_chosen_by_output(
    qtbot: Any, dialogs: Dialogs
) -> None:
    """A trained single neuron, then the activations template from the Start tab: no stale
    'weights no longer fit' message, no previous sample or neuron title left in Insight; after
    training, Evaluate draws the boundary of one output at a time, chosen by name."""
    window = make_window(qtbot, load_template("perceptron"), dialogs)

    def visible_tab_bars() -> list[str]:  # Qt 6.11 left a stray 'Training | Data' bar in view
        bars = [b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisible()]
        return [bar.tabText(i) for bar in bars for i in range(bar.count())]

    qtbot.waitUntil(lambda: sorted(visible_tab_bars()) == sorted(window.docks), timeout=5_000)
    said: list[str] = []
    window.prompts.status = lambda text, ms=4000: said.append(text)  # type: ignore[method-assign]
    window.project.training.epochs = 1
    with qtbot.waitSignal(window.training.finished, timeout=WAIT_MS):
        assert window.training.start()
    panel, insight = window.evaluation_panel, window.insight_panel
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS):
        assert panel.evaluate()
    with qtbot.waitSignal(insight.shown, timeout=WAIT_MS):
        panel.inspect_sample(0)
    title = insight.boundary.getPlotItem().titleLabel
    assert "x1" in title.text  # the neuron's weights
    said.clear()

    window.start_panel.template_requested.emit("activations_compared")
    assert not [text for text in said if "no longer fit" in text], said
    learn = window.learn_panel  # the template's lesson is in front, not only a tooltip
    assert learn.topic.currentText() == "This template" and learn.isVisible()
    assert "Sigmoid learns slowest" in learn.text.toPlainText()
    assert insight.insight is None and insight.layer_combo.count() == 0
    assert len(insight.activations.bars.opts["height"]) == 0  # no previous sample's bars
    assert insight.boundary.grid is None and title.text == "Decision boundary (2-D data)"
    assert insight.boundary_head.isHidden()  # one output: no chooser
    assert insight.boundary.isHidden() and "2-D points" in insight.boundary_note.text()

    window.project.training.epochs = 1
    with qtbot.waitSignal(window.training.finished, timeout=WAIT_MS):
        assert window.training.start()
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS):  # side-by-side heads evaluate
        assert panel.evaluate()
    chooser = insight.boundary_head
    assert [chooser.itemText(i) for i in range(chooser.count())] == [
        "relu",
        "tanh",
        "sigmoid",
        "linear",
    ]
    assert not chooser.isHidden() and title.text == "Decision boundary of output 'relu'"
    assert not insight.boundary.isHidden() and insight.boundary_note.isHidden()
    assert sorted(visible_tab_bars()) == sorted(window.docks)  # still, after docks came up
    relu = insight.boundary.image.image.copy()
    chooser.setCurrentText("linear")
    assert title.text == "Decision boundary of output 'linear'"
    assert not np.array_equal(insight.boundary.image.image, relu)
    assert insight.boundary.points.data.size == len(panel.evaluation.dataset.x_train)
    window.shutdown()


def test_a_sample_of_many_values_is_captioned_by_its_error_not_its_numbers() -> None:
    assert _regression_caption(np.array([0.5]), np.array([0.25])) == "predicted 0.5, true 0.25"
    pixels = np.zeros(64)  # an autoencoder's 8x8 image
    caption = _regression_caption(pixels + 0.1, pixels)
    assert caption == "64 values predicted, mean absolute error 0.1" and len(caption) < 60


def test_a_sequences_saliency_is_a_map_of_steps_by_channels_named_by_class(qtbot: Any) -> None:
    project = load_template("gru_sequences")  # 16 steps x 3 channels, 'B first' / 'A first'
    model, data = compile_graph(project.graph), project.load_data()
    panel = InsightPanel()
    qtbot.addWidget(panel)
    panel.class_names = list(data.class_names)
    with qtbot.waitSignal(panel.shown, timeout=WAIT_MS):
        panel.show_sample(model, data.x_test, 0, "", classifier=True)
    assert panel.saliency.currentWidget() is panel.saliency_plot  # not 48 unnamed bars
    assert panel.saliency_overlay.image.shape == (16, 3)
    title = panel.saliency_plot.getPlotItem().titleLabel.text
    assert title.endswith("steps (rows) x channels")
    assert "'A first'" in title or "'B first'" in title
    panel.shutdown()
