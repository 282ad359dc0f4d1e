"""Built-in example projects that train at once on offline data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.data.samples import SAMPLE_CSV
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig
from backend.templates.gallery import TEMPLATES


def _chain(
    graph: LayerGraph, specs: list[tuple[str, dict[str, Any]]], per_row: int = 4
) -> list[str]:
    """Add layers one after the other, connected, in rows of `per_row` read left to right."""
    ids: list[str] = []
    for i, (layer_type, params) in enumerate(specs):
        row, col = divmod(i, per_row)
        node = graph.add_node(layer_type, params, position=(col * 260.0, row * 170.0))
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return ids


def digits_cnn() -> Project:
    """A small CNN on scikit-learn's 8x8 digits: trains to about 95% in a few seconds."""
    graph = LayerGraph()
    _chain(
        graph,
        [
            ("Input", {"shape": [8, 8, 1]}),
            (
                "Conv2D",
                {"filters": 16, "kernel_size": [3, 3], "activation": "relu", "padding": "same"},
            ),
            ("MaxPooling2D", {"pool_size": [2, 2]}),
            ("Flatten", {}),
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dropout", {"rate": 0.2}),
            ("Dense", {"units": 10, "activation": "softmax"}),
        ],
    )
    project = Project(
        graph,
        DatasetChoice("digits"),
        TrainingConfig(optimizer="adam", learning_rate=2e-3, epochs=15, batch_size=32),
        name="Digits CNN",
    )
    project.description = "Recognise 8x8 handwritten digits with a small convolutional network."
    project.dirty = False
    return project


def moons_mlp() -> Project:
    """A two-hidden-layer perceptron on the two-moons toy set."""
    graph = LayerGraph()
    _chain(
        graph,
        [
            ("Input", {"shape": [2]}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
    )
    project = Project(
        graph,
        DatasetChoice("moons"),
        TrainingConfig(learning_rate=1e-2, epochs=30, batch_size=32),
        name="Moons MLP",
    )
    project.description = "Separate two interleaved half circles with a small MLP."
    project.dirty = False
    return project


def penguins_csv() -> Project:
    """An MLP on a small CSV table (text and number columns, a few gaps) in resources/data."""
    graph = LayerGraph()
    _chain(
        graph,
        [
            ("Input", {"shape": [9]}),  # 3 islands + 4 measurements + 2 sexes, one-hot
            ("Dense", {"units": 32, "activation": "relu"}),
            ("Dense", {"units": 3, "activation": "softmax"}),
        ],
    )
    settings = {"path": str(SAMPLE_CSV), "target": ["species"], "missing": "fill"}
    project = Project(
        graph,
        DatasetChoice("csv", settings, val_fraction=0.2, test_fraction=0.1),
        TrainingConfig(learning_rate=1e-2, epochs=40, batch_size=16),
        name="Penguins from a CSV",
    )
    project.description = "Classify penguin species from a CSV table of measurements."
    project.dirty = False
    return project


EXAMPLES: dict[str, Callable[[], Project]] = {
    "digits_cnn": digits_cnn,
    "moons_mlp": moons_mlp,
    "penguins_csv": penguins_csv,
    **TEMPLATES,
}
DEFAULT_EXAMPLE = "digits_cnn"
