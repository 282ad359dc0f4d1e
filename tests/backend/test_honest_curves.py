"""Curves that tell what happened: each batch's own loss, and a fresh order every epoch that
a second run with the same seed repeats."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_keras
from backend.training.shuffling import reshuffled_each_epoch
from backend.training.trainer import BatchEnd, Trainer

SAMPLES = 12


def squares_dataset() -> Dataset:
    """x is the sample's number; a zero model's squared error on sample i is (i + 1) ** 2."""
    x = np.arange(SAMPLES, dtype="float32")[:, None]
    y = x + 1.0
    empty = np.zeros((0, 1), dtype="float32")
    return Dataset("squares", "regression", x, y, empty, empty, empty, empty)


def zero_model() -> LayerGraph:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [1]})
    zero = {"units": 1, "kernel_initializer": "zeros", "bias_initializer": "zeros"}
    out = graph.add_node("Dense", zero)
    graph.connect(source.id, out.id)
    return graph


def batch_losses(seed: int) -> list[list[float]]:
    """Each epoch's measured batch losses, in the order the batches came."""
    events: list[Any] = []
    config = TrainingConfig(
        epochs=3,
        batch_size=1,
        optimizer="sgd",
        learning_rate=1e-12,  # the weights stay zero: each loss names its sample
        loss="mean_squared_error",
        metrics=[],
        seed=seed,
    )
    result = Trainer(zero_model(), squares_dataset(), config, events.append, 0.0).run()
    assert result.status == "completed", result.message
    epochs: list[list[float]] = [[], [], []]
    for event in events:
        if isinstance(event, BatchEnd):
            epochs[event.epoch] += [loss for _, loss in event.losses]
    return epochs


def test_each_batch_loss_is_its_own_and_the_order_changes_every_epoch() -> None:
    first = batch_losses(seed=3)
    targets = sorted(float((i + 1) ** 2) for i in range(SAMPLES))
    for epoch in first:
        # every sample's own squared error once: not Keras' running mean of the epoch
        assert sorted(epoch) == pytest.approx(targets, rel=1e-4)
    orders = [tuple(round(v) for v in epoch) for epoch in first]
    assert len(set(orders)) == 3, orders  # a fresh shuffle each epoch
    assert batch_losses(seed=3) == first  # the same seed: the same orders, run after run


def test_multi_input_arrays_are_reshuffled_as_one() -> None:
    import_keras().utils.set_random_seed(0)
    a = np.arange(10, dtype="float32")[:, None]
    arguments = {"x": [a, -a], "y": a * 10, "batch_size": 4, "validation_data": None}
    fed = reshuffled_each_epoch(arguments, seed=0)
    assert fed["shuffle"] is False and fed["validation_data"] is None
    epochs = []
    for _ in range(2):
        seen = []
        for (left, right), y in fed["x"]:
            np.testing.assert_array_equal(np.asarray(right), -np.asarray(left))
            np.testing.assert_array_equal(np.asarray(y), np.asarray(left) * 10)
            seen += np.asarray(left)[:, 0].tolist()
        assert sorted(seen) == list(range(10))
        epochs.append(seen)
    assert epochs[0] != epochs[1]


def test_the_same_seed_gives_the_same_run_twice_in_one_session() -> None:
    """The first build of a graph in a process draws more seeds (throwaway layers of shape
    inference) than later ones: the run must not depend on it."""
    from backend.templates.gallery import load_template

    losses = []
    for _ in range(2):
        project = load_template("moons_mlp")
        project.training.epochs = 1
        result = Trainer(project.graph, project.load_data(), project.training).run()
        losses.append(result.history["loss"])
    assert losses[0] == losses[1]
