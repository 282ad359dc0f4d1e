"""The trainer: events in order, stop and pause from another thread, failures as results."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.templates.examples import moons_mlp
from backend.training.trainer import (
    BatchEnd,
    EpochEnd,
    TrainBegin,
    TrainEnd,
    Trainer,
    TrainingEvent,
)

MakeRegression = Callable[[np.ndarray, np.ndarray], Dataset]
E = TypeVar("E", TrainBegin, BatchEnd, EpochEnd, TrainEnd)
JOIN_TIMEOUT_S = 60


def moons_trainer(dataset: Dataset, events: list[TrainingEvent], **config: object) -> Trainer:
    # one batch a call: every batch is an event (calls of several: tests/backend/test_execution)
    settings = {"learning_rate": 1e-2, "epochs": 2, "batch_size": 32, "steps_per_execution": 1}
    settings.update(config)
    return Trainer(
        moons_mlp().graph,
        dataset,
        TrainingConfig(**settings),  # type: ignore[arg-type]
        on_event=events.append,
        batch_interval_s=0.0,  # every batch becomes an event
    )


def of_type(events: list[TrainingEvent], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def regression_graph(features: int) -> LayerGraph:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [features]})
    head = graph.add_node("Dense", {"units": 1})
    graph.connect(source.id, head.id)
    return graph


def test_a_training_reports_begin_batches_epochs_and_end(moons: Dataset) -> None:
    events: list[TrainingEvent] = []
    result = moons_trainer(moons, events).run()

    steps = math.ceil(len(moons.x_train) / 32)
    assert result.status == "completed", result.message
    assert events[0] == TrainBegin(epochs=2, steps_per_epoch=steps)
    assert isinstance(events[-1], TrainEnd) and events[-1].status == "completed"
    assert len(of_type(events, TrainEnd)) == 1
    batches = of_type(events, BatchEnd)
    assert len(batches) == 2 * steps
    assert [(b.epoch, b.step) for b in batches[:2]] == [(0, 0), (0, 1)]
    epochs = of_type(events, EpochEnd)
    assert [e.epoch for e in epochs] == [0, 1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0].logs)
    assert all(e.seconds > 0 for e in epochs)
    assert result.history["loss"] == [e.logs["loss"] for e in epochs]
    assert events[-1].history == result.history
    assert result.model is not None
    assert result.model.predict(moons.x_test[:4], verbose=0).shape == (4, 1)


def test_batch_events_are_throttled(moons: Dataset) -> None:
    events: list[TrainingEvent] = []
    trainer = Trainer(
        moons_mlp().graph,
        moons,
        TrainingConfig(epochs=1, batch_size=8),
        on_event=events.append,
        batch_interval_s=3600.0,
    )
    assert trainer.run().status == "completed"
    # the first call's batches, then nothing for an hour but the epoch's end with the rest
    first, last = of_type(events, BatchEnd)
    steps = math.ceil(len(moons.x_train) / 8)
    assert last.step == steps - 1
    assert [step for event in (first, last) for step, _ in event.losses] == list(range(steps))


def test_a_stop_from_another_thread_ends_training_within_one_batch(moons: Dataset) -> None:
    stop_at = 2
    reached = threading.Event()
    stop_sent = threading.Event()
    events: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        events.append(event)
        if isinstance(event, BatchEnd) and event.step == stop_at and not reached.is_set():
            reached.set()
            assert stop_sent.wait(JOIN_TIMEOUT_S), "the main thread never sent the stop"

    trainer = Trainer(
        moons_mlp().graph,
        moons,
        TrainingConfig(epochs=3, batch_size=16, steps_per_execution=1),
        on_event=on_event,
        batch_interval_s=0.0,
    )
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(result=trainer.run()))
    worker.start()
    try:
        assert reached.wait(JOIN_TIMEOUT_S)
        trainer.request_stop()
        assert trainer.stop_requested
    finally:
        stop_sent.set()
        worker.join(JOIN_TIMEOUT_S)
    assert not worker.is_alive()

    result = outcome["result"]
    assert result.status == "stopped"  # type: ignore[attr-defined]
    batches = of_type(events, BatchEnd)
    full = 3 * math.ceil(len(moons.x_train) / 16)
    assert len(batches) <= stop_at + 2 < full  # the batch that saw the stop is the last
    assert isinstance(events[-1], TrainEnd) and events[-1].status == "stopped"


def test_pause_holds_the_training_until_resume(moons: Dataset) -> None:
    events: list[TrainingEvent] = []
    trainer = moons_trainer(moons, events, epochs=1)
    trainer.pause()
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(result=trainer.run()))
    worker.start()
    try:
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while not of_type(events, BatchEnd) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert len(of_type(events, BatchEnd)) == 1  # held after its first batch
        assert worker.is_alive()
    finally:
        trainer.resume()
        worker.join(JOIN_TIMEOUT_S)
    assert not worker.is_alive()
    assert outcome["result"].status == "completed"  # type: ignore[attr-defined]
    assert len(of_type(events, BatchEnd)) == math.ceil(len(moons.x_train) / 32)


def test_a_stop_releases_a_paused_training(moons: Dataset) -> None:
    events: list[TrainingEvent] = []
    trainer = moons_trainer(moons, events, epochs=1)
    trainer.pause()
    worker = threading.Thread(target=trainer.run)
    worker.start()
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while not of_type(events, BatchEnd) and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.request_stop()
    worker.join(JOIN_TIMEOUT_S)
    assert not worker.is_alive()
    assert events[-1].status == "stopped"  # type: ignore[union-attr]


# ----------------------------------------------------------------- failures
def test_a_diverging_loss_fails_and_says_loss(make_regression: MakeRegression) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 3.0, 0.5], "float32") * 100)[:, None]
    events: list[TrainingEvent] = []
    trainer = Trainer(
        regression_graph(4),
        make_regression(x, y),
        TrainingConfig(optimizer="sgd", learning_rate=1e30, loss="mean_squared_error", epochs=3),
        on_event=events.append,
        batch_interval_s=0.0,
    )
    result = trainer.run()
    assert result.status == "failed"
    assert "loss" in result.message
    assert "diverged" in result.message
    assert isinstance(events[-1], TrainEnd) and events[-1].status == "failed"
    assert len(of_type(events, EpochEnd)) == 0  # it failed within the first epoch


def test_inf_in_the_data_fails_the_training(make_regression: MakeRegression) -> None:
    x = np.ones((64, 3), "float32")
    x[5, 1] = np.inf
    y = np.ones((64, 1), "float32")
    trainer = Trainer(regression_graph(3), make_regression(x, y), TrainingConfig(epochs=1))
    result = trainer.run()
    assert result.status == "failed"
    assert "loss" in result.message


def test_a_graph_that_does_not_compile_fails_with_the_node(moons: Dataset) -> None:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [2]})
    conv = graph.add_node("Conv2D", name="wrong_layer")
    graph.connect(source.id, conv.id)
    events: list[TrainingEvent] = []
    result = Trainer(graph, moons, TrainingConfig(), on_event=events.append).run()
    assert result.status == "failed"
    assert result.node_id == conv.id
    assert "wrong_layer" in result.message
    assert events == [TrainEnd("failed", result.message, {}, conv.id)]


def test_data_the_model_cannot_take_fails_without_raising(digits: Dataset) -> None:
    events: list[TrainingEvent] = []
    result = Trainer(moons_mlp().graph, digits, TrainingConfig(epochs=1), events.append).run()
    assert result.status == "failed"
    assert result.message
    assert of_type(events, TrainEnd) == [events[-1]]


def test_bad_settings_fail_before_building(moons: Dataset) -> None:
    config = TrainingConfig()
    config.batch_size = 0
    result = Trainer(moons_mlp().graph, moons, config).run()
    assert result.status == "failed"
    assert "batch size" in result.message
    assert result.model is None


@pytest.mark.parametrize(
    ("optimizer", "loss"),
    [("sgd", "auto"), ("rmsprop", "binary_crossentropy"), ("adamw", "mean_squared_error")],
)
def test_optimizers_and_losses_from_the_settings_are_used(
    moons: Dataset, optimizer: str, loss: str
) -> None:
    trainer = Trainer(
        moons_mlp().graph, moons, TrainingConfig(optimizer=optimizer, loss=loss, epochs=1)
    )
    model = trainer.build_model()
    assert type(model.optimizer).__name__.lower() == optimizer
    expected_loss = "binary_crossentropy" if loss == "auto" else loss  # one sigmoid unit
    assert model.loss == expected_loss
