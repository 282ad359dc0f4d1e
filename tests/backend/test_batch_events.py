"""The live per-batch loss: every batch of every epoch reaches the listener exactly once, in
its own epoch's events and before that epoch's EpochEnd, whatever the throttle holds back and
however many batches a call trains; each value is that batch's own loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.training.trainer import BatchEnd, EpochEnd, Trainer, TrainingEvent

SAMPLES = 40  # one sample a batch: 40 steps an epoch, 5 calls of 8
EPOCHS = 3


def squares() -> Dataset:
    """x is the sample's number; a zero model's squared error on sample i is (i + 1) ** 2."""
    x = np.arange(SAMPLES, dtype="float32")[:, None]
    empty = np.zeros((0, 1), dtype="float32")
    return Dataset("squares", "regression", x, x + 1.0, empty, empty, empty, empty)


def zero_model() -> LayerGraph:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [1]})
    zero = {"units": 1, "kernel_initializer": "zeros", "bias_initializer": "zeros"}
    graph.connect(source.id, graph.add_node("Dense", zero).id)
    return graph


def train(steps_per_execution: int, interval_s: float) -> list[TrainingEvent]:
    events: list[TrainingEvent] = []
    config = TrainingConfig(
        epochs=EPOCHS,
        batch_size=1,
        optimizer="sgd",
        learning_rate=1e-12,  # the weights stay zero: each batch's loss names its sample
        loss="mean_squared_error",
        metrics=[],
        steps_per_execution=steps_per_execution,
    )
    trainer = Trainer(zero_model(), squares(), config, events.append, interval_s)
    result = trainer.run()
    assert result.status == "completed", result.message
    assert result.execution["steps_per_execution"] == steps_per_execution
    return events


def batches(events: list[TrainingEvent]) -> list[tuple[int, int, float]]:
    """(epoch, step, loss) as they arrived, each checked to belong to the event carrying it
    and to come before its epoch's EpochEnd."""
    arrived: list[tuple[int, int, float]] = []
    ended = -1
    for event in events:
        if isinstance(event, EpochEnd):
            ended = event.epoch
        if not isinstance(event, BatchEnd) or not event.losses:
            continue
        assert event.epoch > ended  # never after its epoch ended
        steps = [step for step, _ in event.losses]
        assert max(steps) == event.step  # the event is its last batch's
        arrived += [(event.epoch, step, loss) for step, loss in event.losses]
    return arrived


@pytest.mark.parametrize(
    "interval_s",
    [0.05, 3600.0],  # the app's throttle; one event a run (the rest only at epoch ends)
)
def test_every_batch_arrives_once_in_its_epoch_with_its_own_loss(interval_s: float) -> None:
    runs: dict[int, list[tuple[int, int, float]]] = {}
    for per_call in (1, 8):
        arrived = batches(train(per_call, interval_s))
        expected = [(epoch, step) for epoch in range(EPOCHS) for step in range(SAMPLES)]
        assert [(epoch, step) for epoch, step, _ in arrived] == expected  # once, in order
        targets = sorted(float((i + 1) ** 2) for i in range(SAMPLES))
        for epoch in range(EPOCHS):
            losses = sorted(loss for e, _, loss in arrived if e == epoch)
            # each sample's own error (1 to 1600, at least 3 apart); at one batch a call it is
            # recovered from Keras' float32 running mean: within 1e-2 of it
            assert losses == pytest.approx(targets, rel=1e-4, abs=1e-2)
        runs[per_call] = arrived
    # measured two ways (Keras' running mean at one batch a call, inside the step at 8):
    # the same batches in the same order, the same values
    one: Any = [loss for *_, loss in runs[1]]
    np.testing.assert_allclose([loss for *_, loss in runs[8]], one, rtol=1e-5, atol=1e-2)
