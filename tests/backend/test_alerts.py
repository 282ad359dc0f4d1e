"""Alerts a teacher would sign: each kind raised on a history or probe that shows it, not on
one that only looks like it, and on real short trainings (the cases of issue #17; learning
rates 1 and 1e-5 are trained from their template in test_teaching_templates)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from backend.data import Dataset, load_dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.templates.gallery import load_template
from backend.training.diagnostics import BEFORE_TRAINING, Alert, Diagnostics, ProbeStats
from backend.training.trainer import TrainAlert, Trainer
from tests.graphs import chain


def kinds_from(
    losses: list[float], vals: list[float] | None = None, start: float | None = None
) -> list[Alert]:
    diagnostics = Diagnostics()
    diagnostics.begin(start)
    alerts: list[Alert] = []
    for epoch, loss in enumerate(losses):
        logs = {"loss": loss, **({"val_loss": vals[epoch]} if vals else {})}
        alerts += diagnostics.on_epoch(epoch, logs, None)
    return alerts


# ----------------------------------------------------------------- history rules
def test_overfitting_needs_a_sustained_relative_rise_while_training_improves() -> None:
    train = [0.60, 0.45, 0.35, 0.28, 0.22, 0.17, 0.13, 0.10]
    val = [0.62, 0.50, 0.44, 0.46, 0.52, 0.58, 0.66, 0.75]
    (alert,) = kinds_from(train, val, start=0.69)
    assert alert.kind == "overfitting" and alert.epoch == 6  # 0.46 is within 10% of 0.44
    assert alert.evidence["best_val_loss"] == 0.44 and alert.evidence["best_epoch"] == 2
    assert "above its best, 0.44 at epoch 3" in alert.message and "0.35 to 0.13" in alert.message


def test_a_flat_stretch_oscillation_or_a_tiny_level_is_not_overfitting() -> None:
    # the healthy tanh MLP on moons: validation loss flat then falling, +1.4% for two epochs
    train = [0.438, 0.311, 0.293, 0.290, 0.288, 0.287, 0.286, 0.285, 0.283, 0.280]
    val = [0.327, 0.278, 0.262, 0.263, 0.266, 0.264, 0.263, 0.261, 0.258, 0.253]
    assert kinds_from(train, val, start=0.66) == []
    # learning rate 1: both losses jump about, the training loss does not fall steadily
    train = [1.19, 0.55, 1.11, 0.78, 0.53, 0.55, 0.55, 0.53, 1.08, 0.99, 1.01]
    val = [0.51, 1.24, 1.06, 0.68, 0.56, 0.55, 0.44, 0.37, 0.61, 0.67, 0.69]
    assert "overfitting" not in [a.kind for a in kinds_from(train, val, start=0.7)]
    # a GRU that solved its task: validation loss 40x its best, at 1e-3 of the start
    train = [0.052, 3.4e-4, 1.2e-4, 2.3e-4, 1.8e-3, 1.4e-3, 7e-4, 3.1e-4, 1.7e-4, 1.17e-4]
    val = [1.1e-3, 9e-5, 5.3e-5, 2.1e-3, 2.2e-3, 1.8e-3, 7.9e-4, 3.8e-4, 2.2e-4, 1.4e-4]
    assert kinds_from(train, val, start=0.69) == []


def test_divergence_is_growth_against_the_starting_loss_never_a_tiny_absolute_rise() -> None:
    (alert,) = kinds_from([3.9, 0.32, 0.32], start=0.7)
    assert alert.kind == "divergence" and alert.epoch == 0
    assert alert.evidence == {"loss": 3.9, "start_loss": 0.7}
    assert "5.6x its starting value 0.7" in alert.message
    # the GRU at 1e-4: the loss grows 15-fold three epochs running, still 400x below the start
    assert kinds_from([0.052, 3.4e-4, 1.2e-4, 2.3e-4, 1.8e-3], start=0.69) == []


def test_jumps_of_the_loss_are_unstable_small_wobbles_are_not() -> None:
    (alert,) = kinds_from([1.19, 0.55, 1.11, 0.78, 0.53, 1.08], start=1.3)
    assert alert.kind == "unstable" and alert.epoch == 5
    assert "0.55 -> 1.11 at epoch 3" in alert.message and "0.53 -> 1.08 at epoch 6" in alert.message
    # with validation: it must jump too (lr 1); a Dropout network's training loss jumps alone
    train = [1.19, 0.55, 1.11, 0.78, 0.53, 1.08]
    assert [a.kind for a in kinds_from(train, [0.51, 1.24, 1.06, 0.68, 0.56, 0.9], 1.3)] == [
        "unstable"
    ]
    dropout = [0.66, 0.52, 0.46, 0.41, 0.42, 0.44, 0.46, 0.39, 0.40, 0.42, 0.36, 0.45, 0.43, 0.50]
    val = [0.63, 0.47, 0.41, 0.38, 0.37, 0.38, 0.36, 0.34, 0.34, 0.35, 0.35, 0.35, 0.35, 0.34]
    assert kinds_from(dropout, val, start=0.695) == []
    # the digits CNN: its loss rises a little twice while it learns well
    assert kinds_from([1.9, 0.86, 0.44, 0.28, 0.23, 0.18, 0.155, 0.134, 0.125, 0.0916, 0.0906,
                       0.078, 0.0829, 0.0644, 0.0662], start=2.3) == []  # fmt: skip


def test_a_steady_crawl_near_the_start_is_too_slow_a_converged_crawl_is_not() -> None:
    crawl = [0.6973, 0.6969, 0.6966, 0.6962, 0.6959, 0.6955]
    (alert,) = kinds_from(crawl, start=0.70)
    assert alert.kind == "slow" and alert.epoch == 4
    assert alert.evidence["per_epoch"] == pytest.approx(0.0005, abs=1e-4)
    assert "learning too slowly" in alert.message and "10x higher" in alert.advice
    done = [2.7e-4, 2.55e-4, 2.4e-4, 2.27e-4, 2.15e-4, 2.04e-4]  # wine at epoch 25: solved
    assert kinds_from(done, start=1.1) == []


def test_a_flat_loss_far_from_converged_is_a_plateau_a_flat_solved_one_is_not() -> None:
    stuck = [0.7152, 0.6945, 0.6959, 0.6948, 0.6952, 0.6951, 0.6951]
    (alert,) = kinds_from(stuck, start=0.76)
    assert alert.kind == "plateau" and "not learning" in alert.message
    assert kinds_from([1e-4, 1.0001e-4, 1e-4, 0.9999e-4, 1e-4, 1e-4], start=0.7) == []


def test_side_by_side_heads_are_judged_each_on_its_own_loss_and_named() -> None:
    diagnostics = Diagnostics(heads=("wide", "drop"))
    diagnostics.begin(2.2, ProbeStats(loss=2.2, head_losses={"wide": 0.7, "drop": 0.69}))
    wide = [0.60, 0.45, 0.35, 0.28, 0.22, 0.17, 0.13, 0.10]  # overfits
    wide_val = [0.62, 0.50, 0.44, 0.46, 0.52, 0.58, 0.66, 0.75]
    drop = [0.62, 0.50, 0.42, 0.37, 0.33, 0.30, 0.28, 0.27]  # healthy
    drop_val = [0.60, 0.49, 0.42, 0.38, 0.35, 0.33, 0.32, 0.31]
    alerts: list[Alert] = []
    for epoch in range(8):
        heads = {"wide": (wide, wide_val), "drop": (drop, drop_val)}
        logs = {f"{h}_loss": t[epoch] for h, (t, _) in heads.items()}
        logs |= {f"val_{h}_loss": v[epoch] for h, (_, v) in heads.items()}
        logs |= {"loss": logs["wide_loss"] + logs["drop_loss"]}
        logs |= {"val_loss": logs["val_wide_loss"] + logs["val_drop_loss"]}
        alerts += diagnostics.on_epoch(epoch, logs, None)
    (alert,) = alerts  # the total (its validation loss falls until epoch 4) says nothing
    assert (alert.kind, alert.head, alert.epoch) == ("overfitting", "wide", 6)
    assert alert.text().startswith("Epoch 7, output 'wide': validation loss 0.66")
    # each head has its own starting loss (the probe's), not the total's 2.2
    diagnostics.on_epoch(8, {"wide_loss": 1.5, "drop_loss": 1.5, "loss": 3.0}, None)
    assert {(a.kind, a.head) for a in diagnostics.alerts} == {
        ("overfitting", "wide"),
        ("divergence", "wide"),
        ("divergence", "drop"),
    }
    assert diagnostics.alerts[-1].evidence["start_loss"] == 0.69


def test_a_stuck_loss_is_not_called_slow_after_it_was_called_a_plateau() -> None:
    stuck = [0.7009, 0.6951, 0.6999, 0.6962, 0.6984, 0.6975, 0.6960, 0.6950, 0.6940, 0.6937]
    assert [a.kind for a in kinds_from(stuck, start=0.6929)] == ["plateau"]
    crawl = [0.6973, 0.6969, 0.6966, 0.6962, 0.6959, 0.6955, 0.6952, 0.6948, 0.6945, 0.6941]
    assert [a.kind for a in kinds_from(crawl, start=0.70)] == ["slow"]


def test_validation_stuck_at_chance_while_training_learns_is_not_generalising() -> None:
    """MobileNetV2 from scratch on 48 photos (3 classes): training reaches accuracy 1.0, the
    validation loss stays at ln 3 every epoch; its BatchNormalization (momentum 0.999) ran 3
    steps an epoch."""
    train = [1.05, 0.62, 0.31, 0.12, 0.05]
    val = [1.0986, 1.0986, 1.0986, 1.0987, 1.0986]
    diagnostics = Diagnostics(batch_norm_momentum=0.999, steps_per_epoch=3)
    diagnostics.begin(1.0986)
    accuracy = [0.4, 0.8, 0.95, 1.0, 1.0]
    for epoch, (loss, v, acc) in enumerate(zip(train, val, accuracy, strict=True)):
        logs = {"loss": loss, "val_loss": v, "accuracy": acc, "val_accuracy": 0.333}
        diagnostics.on_epoch(epoch, logs, None)
    (alert,) = diagnostics.alerts
    assert (alert.kind, alert.epoch) == ("not_generalising", 2)  # 0.31 < half of ln 3
    assert "fell from 1.099 to 0.31" in alert.message and "between 1.099 and 1.099" in alert.message
    assert "accuracy 0.95 on training, 0.333 on validation" in alert.message
    assert "nothing carries over to new ones" in alert.message
    assert "After 9 steps the BatchNormalization moving statistics" in alert.advice
    assert "99% of their starting values" in alert.advice
    assert alert.evidence["steps"] == 9 and alert.evidence["val_accuracy"] == 0.333
    # the same history without BatchNormalization, or once its statistics settled: no BN advice
    (plain,) = kinds_from(train, val, start=1.0986)
    assert plain.kind == "not_generalising" and "BatchNormalization" not in plain.advice
    settled = Diagnostics(batch_norm_momentum=0.99, steps_per_epoch=200)
    settled.begin(1.0986)
    for epoch, (loss, v) in enumerate(zip(train, val, strict=True)):
        settled.on_epoch(epoch, {"loss": loss, "val_loss": v}, None)
    assert [a.kind for a in settled.alerts] == ["not_generalising"]
    assert "BatchNormalization" not in settled.alerts[0].advice


def test_overfitting_says_when_batch_norm_statistics_have_not_settled() -> None:
    train = [0.60, 0.45, 0.35, 0.28, 0.22, 0.17, 0.13, 0.10]
    val = [0.62, 0.50, 0.44, 0.46, 0.52, 0.58, 0.66, 0.75]
    diagnostics = Diagnostics(batch_norm_momentum=0.99, steps_per_epoch=10)
    diagnostics.begin(0.69)
    for epoch, (loss, v) in enumerate(zip(train, val, strict=True)):
        diagnostics.on_epoch(epoch, {"loss": loss, "val_loss": v}, None)
    (alert,) = diagnostics.alerts
    assert alert.kind == "overfitting" and alert.advice.startswith("Dropout")
    assert "After 70 steps the BatchNormalization moving statistics (momentum 0.99)" in alert.advice
    assert "still hold 49% of their starting values" in alert.advice  # 0.99 ** 70
    (plain,) = kinds_from(train, val, start=0.69)
    assert "BatchNormalization" not in plain.advice


def test_validation_that_learns_or_settles_after_learning_is_generalising() -> None:
    # healthy: validation falls with training
    train = [0.9, 0.5, 0.3, 0.2, 0.15, 0.12]
    assert kinds_from(train, [0.95, 0.6, 0.4, 0.3, 0.27, 0.26], start=1.1) == []
    # validation learnt in the first epoch, then stayed flat while training kept falling
    assert kinds_from(train, [0.45, 0.44, 0.45, 0.44, 0.45, 0.44], start=1.1) == []
    # both stuck at the start: the network learns nothing at all (a plateau, not this)
    stuck = [1.09, 1.085, 1.087, 1.086, 1.086, 1.086]
    assert [a.kind for a in kinds_from(stuck, stuck, start=1.0986)] == ["plateau"]
    # training learns a little (to 70% of the start): too early to say
    assert kinds_from([1.0, 0.9, 0.8, 0.77], [1.1, 1.1, 1.1, 1.1], start=1.1) == []


# ----------------------------------------------------------------- probe rules
def probe(grads: dict[str, float], weights: dict[str, float], **kw: Any) -> ProbeStats:
    sizes = {layer: 1000 for layer in grads}
    return ProbeStats(grad_norms=grads, weight_norms=weights, sizes=sizes, **kw)


def test_gradients_are_judged_against_the_layers_own_weights() -> None:
    weights = {"first": 2.0, "middle": 3.0, "out": 1.5}
    # a 1e-7 gradient: vanishing beside the output layer's 0.3, not when all are that small
    (alert,) = Diagnostics().begin(0.7, probe({"first": 1e-7, "middle": 1e-3, "out": 0.3}, weights))
    assert (alert.kind, alert.layer, alert.epoch) == ("vanishing", "first", BEFORE_TRAINING)
    assert alert.evidence["ratio"] == pytest.approx(5e-8)
    assert (
        Diagnostics().begin(0.7, probe({"first": 1e-7, "middle": 2e-7, "out": 1e-7}, weights)) == []
    )
    # a gradient of 4000 explodes on weights of norm 2, not on weights of norm 100
    (alert,) = Diagnostics().begin(0.7, probe({"first": 4000.0, "out": 0.3}, weights))
    assert (alert.kind, alert.layer) == ("exploding", "first") and "2e+03x" in alert.message
    big = {"first": 100.0, "out": 1.5}
    assert Diagnostics().begin(0.7, probe({"first": 4000.0, "out": 0.3}, big)) == []


def test_dead_units_are_one_alert_naming_the_layers_and_explain_zero_gradients() -> None:
    stats = probe(
        {"a": 0.0, "b": 0.0, "out": 0.2},
        {"a": 2.0, "b": 2.0, "out": 1.0},
        dead_fraction={"a": 1.0, "b": 0.75, "c": 0.1},
        units={"a": 32, "b": 16, "c": 8},
    )
    (alert,) = Diagnostics().on_epoch(0, {"loss": 0.7}, stats)
    assert (alert.kind, alert.layer) == ("dead_relu", "a")
    assert "2 layers ('a', 'b')" in alert.message and "32 of its 32 units" in alert.message


# ----------------------------------------------------------------- real trainings
def mlp(activation: str, depth: int = 2, units: int = 16, **dense: Any) -> LayerGraph:
    hidden = ("Dense", {"units": units, "activation": activation, **dense})
    out = ("Dense", {"units": 1, "activation": "sigmoid"})
    return chain(("Input", {"shape": [2]}), *[hidden] * depth, out)


def alerts_of(graph: LayerGraph, data: Dataset, **config: Any) -> list[Alert]:
    events: list[Any] = []
    result = Trainer(graph, data, TrainingConfig(**config), events.append).run()
    assert result.status == "completed", result.message
    alerts = [e.alert for e in events if isinstance(e, TrainAlert)]
    assert alerts == result.alerts
    return alerts


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return load_dataset("moons")


def test_a_healthy_tanh_mlp_on_moons_raises_nothing(moons: Dataset) -> None:
    # epochs 3 to 10 are a flat stretch where validation loss rises by 1%: no overfitting
    assert alerts_of(mlp("tanh"), moons, epochs=15, learning_rate=1e-2) == []


def test_a_deep_sigmoid_network_is_stuck_with_vanishing_gradients(moons: Dataset) -> None:
    alerts = alerts_of(mlp("sigmoid", depth=10), moons, epochs=6, learning_rate=1e-2)
    assert [a.kind for a in alerts] == ["vanishing", "plateau"]
    assert alerts[0].epoch == BEFORE_TRAINING and alerts[0].layer == "dense"


def test_a_big_network_on_few_noisy_points_overfits() -> None:
    few = load_dataset("moons", {"samples": 150, "noise": 0.35})
    alerts = alerts_of(mlp("relu", 3, 128), few, epochs=6, learning_rate=1e-2, batch_size=16)
    assert [a.kind for a in alerts] == ["overfitting"]


def test_weights_initialised_far_too_large_explode_before_training(moons: Dataset) -> None:
    graph = mlp("relu", depth=4, units=32, kernel_initializer="ones")
    alerts = alerts_of(graph, moons, epochs=1, optimizer="sgd", learning_rate=1e-3)
    assert alerts[0].kind == "exploding" and alerts[0].epoch == BEFORE_TRAINING
    assert alerts[0].evidence["ratio"] > 1e3


def test_the_head_that_cannot_learn_is_named_in_a_real_side_by_side_run() -> None:
    """Four networks on circles: the total loss falls (ReLU learns), but the one without an
    activation is a straight line and stays at chance; its own loss says so."""
    project = load_template("activations_compared")
    project.training.epochs = 6
    alerts = alerts_of(project.graph, project.load_data(), **project.training.to_dict())
    (alert,) = alerts
    assert (alert.kind, alert.head) == ("plateau", "linear") and "not learning" in alert.message
    assert alert.evidence["start_loss"] == pytest.approx(0.693, abs=0.03)  # its own: ln 2


def bn_cnn(momentum: float) -> LayerGraph:
    block = [
        ("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"}),
        ("BatchNormalization", {"momentum": momentum}),
        ("Activation", {"activation": "relu"}),
    ]
    out = ("Dense", {"units": 10, "activation": "softmax"})
    return chain(("Input", {"shape": [8, 8, 1]}), *block * 3, ("Flatten", {}), out)


def test_batch_norm_that_has_not_settled_does_not_generalise_a_faster_one_does() -> None:
    """Three Conv-BatchNorm blocks on 48 digits, 3 steps an epoch: with MobileNetV2's momentum
    (0.999) validation normalises with statistics that have barely moved and stays at chance
    (ln 10) while training learns; the same run with momentum 0.8 generalises."""
    digits = load_dataset("digits")
    few = replace(digits, x_train=digits.x_train[:48], y_train=digits.y_train[:48])
    few = replace(few, x_val=digits.x_val[:100], y_val=digits.y_val[:100])
    (alert,) = alerts_of(bn_cnn(0.999), few, epochs=3, learning_rate=1e-2, batch_size=16)
    assert (alert.kind, alert.epoch) == ("not_generalising", 2)
    assert alert.evidence["val_loss"] > 0.9 * alert.evidence["start_loss"] > 2.0  # ~ln 10
    assert alert.evidence["accuracy"] > 0.8 and alert.evidence["val_accuracy"] < 0.4
    assert "After 9 steps the BatchNormalization" in alert.advice
    assert alerts_of(bn_cnn(0.8), few, epochs=3, learning_rate=1e-2, batch_size=16) == []
