"""Training settings of a practitioner: optimizers, schedules, losses, heads, class weights,
early stopping, best checkpoint, precision and XLA, diagnostics, monitor figures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import LOSSES, OPTIMIZERS, TrainingConfig
from backend.keras_env import import_keras
from backend.training.optimizers import OPTIMIZER_CLASSES, make_optimizer, schedule_curve
from backend.training.setup import class_weights
from backend.training.trainer import EpochEnd, TrainAlert, Trainer


def blobs(n: int = 400, classes: int = 3, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = (rng.normal(size=(n, 4)) + y[:, None] * 1.5).astype("float32")
    cut = int(n * 0.75)
    return Dataset(
        "blobs",
        "classification",
        x[:cut],
        y[:cut],
        x[cut:],
        y[cut:],
        x[:0],
        y[:0],
        [str(i) for i in range(classes)],
    )


def mlp(out_units: int = 3, activation: str | None = "softmax") -> LayerGraph:
    g = LayerGraph()
    a = g.add_node("Input", {"shape": [4]})
    b = g.add_node("Dense", {"units": 16, "activation": "relu"})
    c = g.add_node("Dense", {"units": out_units, "activation": activation})
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    return g


def run(
    config: TrainingConfig, graph: LayerGraph | None = None, data: Dataset | None = None, **kw: Any
) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    trainer = Trainer(graph or mlp(), data or blobs(), config, events.append, **kw)
    return trainer.run(), events


def test_every_listed_loss_and_optimizer_is_keras() -> None:
    keras = import_keras()
    for name in LOSSES[1:]:
        assert keras.losses.get(name) is not None, name
    for name in OPTIMIZERS:
        assert name in OPTIMIZER_CLASSES
        optimizer = make_optimizer(TrainingConfig(optimizer=name, learning_rate=0.01))
        assert math.isclose(float(np.asarray(optimizer.learning_rate)), 0.01, rel_tol=1e-6)
    sgd = make_optimizer(TrainingConfig(optimizer="sgd", momentum=0.9, nesterov=True))
    assert sgd.momentum == 0.9 and sgd.nesterov


def test_schedule_preview_curves() -> None:
    step = TrainingConfig(
        learning_rate=0.1,
        schedule="step",
        epochs=6,
        schedule_params={"every_epochs": 2, "factor": 0.5},
    )
    assert schedule_curve(step) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    expo = TrainingConfig(
        learning_rate=1.0, schedule="exponential", epochs=3, schedule_params={"decay_rate": 0.5}
    )
    assert schedule_curve(expo) == pytest.approx([1.0, 0.5, 0.25])
    cosine = schedule_curve(TrainingConfig(learning_rate=1.0, schedule="cosine", epochs=4))
    assert cosine[0] == 1.0 and cosine == sorted(cosine, reverse=True) and cosine[-1] > 0


def test_schedule_is_applied_and_reported_per_epoch() -> None:
    config = TrainingConfig(
        learning_rate=0.02,
        schedule="step",
        epochs=3,
        batch_size=64,
        schedule_params={"every_epochs": 1, "factor": 0.5},
    )
    result, events = run(config)
    rates = [e.learning_rate for e in events if isinstance(e, EpochEnd)]
    assert rates == pytest.approx([0.02, 0.01, 0.005], rel=1e-5)
    assert all(e.samples_per_s > 0 for e in events if isinstance(e, EpochEnd))
    assert result.status == "completed" and result.wall_time_s > 0


def test_from_logits_trains_a_linear_output() -> None:
    config = TrainingConfig(
        loss="sparse_categorical_crossentropy", from_logits=True, epochs=4, learning_rate=0.02
    )
    result, _ = run(config, mlp(activation=None))
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.model.loss.get_config()["from_logits"] is True


def test_balanced_class_weights() -> None:
    y = np.array([0] * 90 + [1] * 10)
    data = Dataset(
        "d",
        "classification",
        np.zeros((100, 4)),
        y,
        np.zeros((0, 4)),
        y[:0],
        np.zeros((0, 4)),
        y[:0],
        ["a", "b"],
    )
    weights = class_weights(TrainingConfig(class_weight="balanced"), data)
    assert weights == pytest.approx({0: 100 / (2 * 90), 1: 100 / (2 * 10)})
    assert class_weights(TrainingConfig(), data) is None


def test_early_stopping_and_best_checkpoint() -> None:
    config = TrainingConfig(
        learning_rate=1e-9,
        optimizer="sgd",
        epochs=30,
        batch_size=64,
        early_stopping=True,
        patience=2,
        checkpoint=True,
    )
    result, _ = run(config)
    assert len(result.history["loss"]) <= 5  # nothing improves: it stops after the patience
    assert result.best_epoch is not None


def test_stop_after_this_epoch() -> None:
    trainer_box: list[Trainer] = []

    def on_event(event: Any) -> None:
        if trainer_box and getattr(event, "epoch", None) == 0:
            trainer_box[0].request_stop_after_epoch()

    trainer = Trainer(mlp(), blobs(), TrainingConfig(epochs=20), on_event)
    trainer_box.append(trainer)
    result = trainer.run()
    assert result.status == "stopped" and len(result.history["loss"]) == 1


@pytest.mark.parametrize("option", ["mixed_precision", "jit_compile"])
def test_mixed_precision_and_xla_train(option: str) -> None:
    keras = import_keras()
    config = TrainingConfig(epochs=1, **{option: True})
    result, _ = run(config)
    assert result.status == "completed", result.message
    assert keras.config.dtype_policy().name == "float32"  # restored for the next run
    if option == "mixed_precision":
        assert result.model.layers[1].compute_dtype == "float16"


def test_two_heads_each_with_loss_weight_and_metrics() -> None:
    g = LayerGraph()
    a = g.add_node("Input", {"shape": [4]})
    h = g.add_node("Dense", {"units": 8, "activation": "relu"})
    cls = g.add_node("Dense", {"units": 3, "activation": "softmax"}, name="cls")
    reg = g.add_node("Dense", {"units": 1}, name="reg")
    g.connect(a.id, h.id)
    g.connect(h.id, cls.id)
    g.connect(h.id, reg.id)
    g.set_outputs([cls.id, reg.id])
    data = blobs()
    two = Dataset(
        "two",
        "classification",
        data.x_train,
        [data.y_train, data.x_train.sum(axis=1, keepdims=True)],
        data.x_val,
        [data.y_val, data.x_val.sum(axis=1, keepdims=True)],
        data.x_test,
        [data.y_test, data.x_test.sum(axis=1, keepdims=True)],
        data.class_names,
    )
    config = TrainingConfig(
        epochs=2,
        heads={
            "cls": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
            "reg": {"loss": "mean_squared_error", "weight": 0.5, "metrics": ["mae"]},
        },
    )
    result, _ = run(config, g, two)
    assert result.status == "completed", result.message
    for key in ("cls_loss", "reg_loss", "cls_accuracy", "reg_mae", "val_cls_accuracy"):
        assert key in result.history, sorted(result.history)


def test_real_probe_finds_dead_relus_and_alerts_during_training() -> None:
    g = mlp()
    hidden = next(n for n in g.nodes.values() if n.params.get("units") == 16)
    g.set_params(hidden.id, {"bias_initializer": "zeros"})
    _, events = run(TrainingConfig(epochs=1, histograms=True), g)
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert set(epoch.histograms["weights"]) >= {"dense", "dense_1"}
    counts, edges = epoch.histograms["gradients"]["dense"]
    assert len(edges) == len(counts) + 1
    # a ReLU layer whose inputs are all negative is dead from the start
    g2 = mlp()
    first = next(n for n in g2.nodes.values() if n.params.get("units") == 16)
    g2.set_params(first.id, {"bias_initializer": "zeros", "kernel_initializer": "zeros"})
    data = blobs()
    data.x_train = -np.abs(data.x_train)
    _, events = run(TrainingConfig(epochs=1), g2, data)
    alerts = [e.alert for e in events if isinstance(e, TrainAlert)]
    assert any(a.kind == "dead_relu" and a.layer == "dense" for a in alerts), alerts


def test_tensorboard_logs_are_written(tmp_path: Path) -> None:
    result, _ = run(TrainingConfig(epochs=1, tensorboard_dir=str(tmp_path / "tb")))
    assert result.status == "completed", result.message
    assert list((tmp_path / "tb").rglob("events.out.tfevents*"))
