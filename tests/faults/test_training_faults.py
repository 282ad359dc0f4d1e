"""Training faults end as a recorded, explained failure, never a crash: a layer that fails only
at run time, data that does not fit the Input, out of memory, a stop in the first batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.training.trainer import TrainBegin, TrainEnd, Trainer
from tests.graphs import chain


def data(features: int, n: int = 256) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return Dataset(
        "faults", "classification", x[:200], y[:200], x[200:], y[200:], x[:0], y[:0], ["0", "1"]
    )


def run(graph: LayerGraph, dataset: Dataset, **config: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    result = Trainer(graph, dataset, TrainingConfig(epochs=2, **config), events.append).run()
    assert isinstance(events[-1], TrainEnd) and events[-1].status == result.status
    return result, events


def test_a_shape_error_only_visible_at_run_time() -> None:
    graph = chain(
        ("Input", {"shape": [None]}),
        ("Reshape", {"target_shape": [2, 2]}),
        ("Flatten", {}),
        ("Dense", {"units": 2, "activation": "softmax"}),
    )
    result, _ = run(graph, data(5))  # 5 values cannot become 2x2
    assert result.status == "failed"
    assert "reshape" in result.message.lower() or "shape" in result.message.lower()


def test_data_that_does_not_match_the_input() -> None:
    graph = chain(("Input", {"shape": [10]}), ("Dense", {"units": 2, "activation": "softmax"}))
    result, _ = run(graph, data(4))
    assert result.status == "failed" and result.message


def test_out_of_memory_from_an_absurd_layer() -> None:
    graph = chain(("Input", {"shape": [16]}), ("Dense", {"units": 2**40}))
    result, _ = run(graph, data(16))
    assert result.status == "failed"
    assert "memory" in result.message.lower() or "too large" in result.message.lower(), (
        result.message
    )


def test_stop_during_the_first_batch_keeps_a_stopped_run() -> None:
    graph = chain(("Input", {"shape": [4]}), ("Dense", {"units": 2, "activation": "softmax"}))
    box: list[Trainer] = []

    def on_event(event: Any) -> None:
        if isinstance(event, TrainBegin):
            box[0].request_stop()

    trainer = Trainer(graph, data(4), TrainingConfig(epochs=50), on_event)
    box.append(trainer)
    result = trainer.run()
    assert result.status == "stopped"
    assert len(result.history.get("loss", [])) <= 1
