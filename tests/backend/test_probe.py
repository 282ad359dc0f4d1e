"""The diagnostics probe: the traced pass (long runs) measures what the eager one does, is
traced once per run, and both match a gradient taken by hand; a long run's alerts and
histograms come from it."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_tensorflow
from backend.training.diagnostics import PROBE_SAMPLES
from backend.training.probe import TRACED_FROM_EPOCHS, Probe
from backend.training.trainer import EpochEnd, TrainAlert, Trainer


def two_heads() -> tuple[LayerGraph, Dataset, TrainingConfig]:
    """A ReLU trunk (some units dead from the start) with a class head and a regression head."""
    g = LayerGraph()
    a = g.add_node("Input", {"shape": [4]})
    h = g.add_node("Dense", {"units": 8, "activation": "relu"}, name="trunk")
    cls = g.add_node("Dense", {"units": 3, "activation": "softmax"}, name="cls")
    reg = g.add_node("Dense", {"units": 1}, name="reg")
    g.connect(a.id, h.id)
    g.connect(h.id, cls.id)
    g.connect(h.id, reg.id)
    g.set_outputs([cls.id, reg.id])
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = [rng.integers(0, 3, 200), x.sum(axis=1, keepdims=True)]
    data = Dataset("two", "classification", x, y, x[:40], [v[:40] for v in y], x[:0], y, ["a"] * 3)
    config = TrainingConfig(
        epochs=1,
        heads={
            "cls": {"loss": "sparse_categorical_crossentropy"},
            "reg": {"loss": "mean_squared_error", "weight": 0.5},
        },
    )
    return g, data, config


def tokens() -> tuple[LayerGraph, Dataset, TrainingConfig]:
    """An Embedding (its gradient comes sparse) into a pooled ReLU classifier."""
    g = LayerGraph()
    ids = [
        g.add_node("Input", {"shape": [6], "dtype": "int32"}).id,
        g.add_node("Embedding", {"input_dim": 20, "output_dim": 4}).id,
        g.add_node("GlobalAveragePooling1D", {}).id,
        g.add_node("Dense", {"units": 5, "activation": "relu"}).id,
        g.add_node("Dense", {"units": 2, "activation": "softmax"}).id,
    ]
    for src, dst in itertools.pairwise(ids):
        g.connect(src, dst)
    rng = np.random.default_rng(4)
    x = rng.integers(0, 20, (150, 6)).astype("int32")
    y = rng.integers(0, 2, 150)
    data = Dataset("tok", "classification", x, y, x[:30], y[:30], x[:0], y[:0], ["a", "b"])
    return g, data, TrainingConfig(epochs=1)


def by_hand(model: Any, data: Dataset) -> dict[str, float]:
    """Each layer's gradient norm on the first PROBE_SAMPLES samples, with a tape of our own."""
    tf = import_tensorflow()
    x = data.x_train[:PROBE_SAMPLES]
    y = [v[:PROBE_SAMPLES] for v in data.y_train] if isinstance(data.y_train, list) else None
    y = y if y is not None else data.y_train[:PROBE_SAMPLES]
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    squares: dict[str, float] = {}
    variables = model.trainable_variables
    for var, grad in zip(variables, tape.gradient(loss, variables), strict=True):
        layer = str(var.path).split("/")[0]
        g = np.asarray(tf.convert_to_tensor(grad), dtype="float64")
        squares[layer] = squares.get(layer, 0.0) + float(np.sum(g * g))
    return {k: math.sqrt(v) for k, v in squares.items()}


@pytest.mark.parametrize("case", [two_heads, tokens])
def test_traced_probe_measures_what_the_eager_one_does(case: Any) -> None:
    graph, data, config = case()
    model = Trainer(graph, data, config).build_model()
    eager = Probe(model, data.x_train, data.y_train, histograms=True, epochs=1)
    traced = Probe(model, data.x_train, data.y_train, histograms=True, epochs=50)
    assert not eager.traced and traced.traced
    first = eager.measure()
    for _ in range(3):
        again = traced.measure()
    assert traced._function.experimental_get_tracing_count() == 1  # traced once, then reused
    assert again.loss == pytest.approx(first.loss, rel=1e-5)
    assert again.head_losses == pytest.approx(first.head_losses, rel=1e-5)
    assert again.sizes == first.sizes and again.units == first.units
    assert again.dead_fraction == pytest.approx(first.dead_fraction)
    hand = by_hand(model, data)
    assert first.grad_norms == pytest.approx(hand, rel=1e-4)
    assert again.grad_norms == pytest.approx(hand, rel=1e-4)
    assert again.weight_norms == pytest.approx(first.weight_norms, rel=1e-6)
    assert all(n > 0 for n in hand.values()), hand  # the sparse gradient included
    assert set(again.weight_histograms) == set(first.weight_histograms)
    for layer, (counts, edges) in first.weight_histograms.items():
        assert again.weight_histograms[layer][0] == counts
        assert again.weight_histograms[layer][1] == pytest.approx(edges)
    if case is two_heads:
        assert set(first.head_losses) == {"cls", "reg"}
        assert 0.0 <= first.dead_fraction["trunk"] <= 1.0 and first.units["trunk"] == 8


def test_a_long_run_probes_every_epoch_through_the_traced_pass() -> None:
    """Dead ReLUs found before training and histograms at every epoch of a traced run."""
    graph, data, config = two_heads()
    trunk = next(n for n in graph.nodes.values() if n.name == "trunk")
    graph.set_params(trunk.id, {"bias_initializer": "zeros", "kernel_initializer": "zeros"})
    data.x_train = -np.abs(data.x_train)
    config.epochs, config.histograms = TRACED_FROM_EPOCHS, True
    events: list[Any] = []
    trainer = Trainer(graph, data, config, events.append)
    probes: list[Probe] = []
    made = trainer._probe
    trainer._probe = lambda *a: probes.append(made(*a)) or probes[-1]  # type: ignore[method-assign]
    result = trainer.run()
    assert result.status == "completed", result.message
    assert probes[0].traced and probes[0]._function.experimental_get_tracing_count() == 1
    alerts = [e.alert for e in events if isinstance(e, TrainAlert)]
    assert any(a.kind == "dead_relu" and a.layer == "trunk" for a in alerts), alerts
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(epochs) == TRACED_FROM_EPOCHS
    assert all(set(e.histograms["gradients"]) >= {"trunk", "cls", "reg"} for e in epochs)
