"""The Insight dock on its own: latest-request-wins probing, and the live decision boundary."""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.evaluation.insight import DecisionGrid, decision_grid
from gui.evaluation.decision_boundary import SHADE, DecisionBoundaryView, class_colors
from gui.evaluation.insight_panel import InsightPanel
from tests import evaluation_models

WAIT_MS = 30_000


def test_only_the_latest_sample_chosen_while_busy_is_shown(qtbot: Any) -> None:
    model, dataset = evaluation_models.digits()
    panel = InsightPanel()
    qtbot.addWidget(panel)
    shown: list[int] = []
    panel.shown.connect(lambda insight: shown.append(insight.index))
    for index in (0, 1, 2, 3):
        assert panel.show_sample(model, dataset.x_test, index, "", classifier=True)
    qtbot.waitUntil(lambda: shown[-1:] == [3] and not panel.busy, timeout=WAIT_MS)
    assert shown == [0, 3], "requests made while busy collapse into the latest"
    assert panel.insight is not None and panel.insight.index == 3
    np.testing.assert_array_equal(panel.sample, dataset.x_test[3])
    panel.layer_combo.setCurrentIndex(1)  # pooling: 8 maps of 4x4, tiled 3x3
    assert panel.activations.image.image.shape == (3 * 5 - 1, 3 * 5 - 1)
    with qtbot.waitSignal(panel.shown, timeout=WAIT_MS):
        panel.show_sample(model, dataset.x_test, 5)
    assert panel.layer_combo.currentIndex() == 1, "the chosen layer stays chosen"
    panel.shutdown()


def test_decision_boundary_view_colours_each_class_region(qtbot: Any) -> None:
    view = DecisionBoundaryView()
    qtbot.addWidget(view)
    xs, ys = np.linspace(-1, 1, 20), np.linspace(0, 2, 10)
    p1 = np.broadcast_to((xs > 0).astype("float32"), (10, 20))  # class 1 right of x = 0
    grid = DecisionGrid(xs, ys, np.stack([1 - p1, p1], axis=-1), "classification")
    points = np.array([[-0.5, 1.0], [0.5, 1.0], [0.7, 0.2]])
    view.show_grid(grid, points, np.array([0, 1, 1]))
    image = view.image.image
    assert image.shape == (10, 20, 3)
    expected = class_colors(2) * (1 - SHADE) + 255 * SHADE
    np.testing.assert_allclose(image[5, 2], expected[0], atol=1)
    np.testing.assert_allclose(image[5, 17], expected[1], atol=1)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == (-1, 1, 0, 2)
    brushes = [spot.brush().color().getRgb()[:3] for spot in view.points.points()]
    assert brushes == [tuple(int(c) for c in class_colors(2)[k]) for k in (0, 1, 1)]
    flipped = DecisionGrid(xs, ys, grid.values[..., ::-1], "classification")
    view.show_grid(flipped)  # an epoch later: only the shading changes
    np.testing.assert_allclose(view.image.image[5, 2], expected[1], atol=1)
    assert len(view.points.points()) == 3 and view.updates == 2


def test_a_real_model_grid_draws_regression_values_too(qtbot: Any) -> None:
    model, dataset = evaluation_models.moons()
    view = DecisionBoundaryView()
    qtbot.addWidget(view)
    grid = decision_grid(model, dataset, steps=30)
    view.show_grid(grid, dataset.x_train, dataset.y_train)
    assert view.image.image.shape == (30, 30, 3)
    assert len(view.points.points()) == len(dataset.x_train)
    values = DecisionGrid(grid.xs, grid.ys, grid.values[..., 1:], "regression")
    view.show_grid(values, dataset.x_train, dataset.y_train.astype("float32"))
    corner, middle = view.image.image[0, 0], view.image.image[15, 15]
    assert not np.array_equal(corner, middle)
