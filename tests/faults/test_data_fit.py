"""A model whose outputs do not fit the dataset trained to "completed" with a meaningless loss
(10 classes into one sigmoid unit: loss -118,000; a 3-unit regression head broadcast against
one target) and `validate` said "ok". Now `validate` and `train` refuse it, naming the output
layer and the dataset, with the one-click fix where there is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.analysis.data_fit import check_data_fit
from backend.data import Dataset, load_dataset
from backend.document.graph import LayerGraph
from backend.document.project import load_project
from backend.document.training_config import TrainingConfig
from backend.training.tf_errors import error_reason
from backend.training.trainer import Trainer
from tests.faults.conftest import fingerprint, run_cli, write_project
from tests.graphs import chain

DIGITS_INTO_ONE_SIGMOID = (
    ("Input", {"shape": [8, 8, 1]}),
    ("Flatten", {}),
    ("Dense", {"units": 1, "activation": "sigmoid"}),
)
DIABETES_THREE_UNITS = (("Input", {"shape": [10]}), ("Dense", {"units": 3}))


def refused(project: Path, *needles: str) -> None:
    """`validate` and `train` both exit 1 naming `needles`; the data and the graph stay as they
    were (train may only keep the refused attempt in the run history)."""
    before = fingerprint(project)
    settings = {k: v for k, v in json.loads(project.read_text()).items() if k != "runs"}
    for command in ("validate", "train"):
        result = run_cli(command, project)
        assert result.code == 1, (command, result.out, result.err)
        text = result.err
        assert all(n in text for n in needles), (command, text)
        assert "completed" not in result.out
        if command == "validate":
            assert fingerprint(project) == before
    after = json.loads(project.read_text())
    assert {k: v for k, v in after.items() if k != "runs"} == settings


def test_ten_classes_into_one_sigmoid_unit_is_refused_with_its_fix(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json", DIGITS_INTO_ONE_SIGMOID, "digits")
    refused(path, "Dense 'dense'", "1 value", "'digits' has 10 classes")
    project = load_project(path)
    dataset = load_dataset("digits")
    (problem,) = [p for p in check_data_fit(project.graph, dataset, project.training)]
    assert problem.severity == "error" and problem.kind == "output_size"
    (fix,) = problem.fixes
    assert fix.label == "Set units of 'dense' to 10 and activation to softmax"
    fix.command().do(project.graph)
    assert check_data_fit(project.graph, dataset, project.training) == []


def test_a_regression_head_wider_than_the_target_is_refused(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json", DIABETES_THREE_UNITS, "diabetes")
    refused(path, "Dense 'dense'", "3 values", "'diabetes' has 1 target")
    project = load_project(path)
    (problem,) = check_data_fit(project.graph, load_dataset("diabetes"), project.training)
    assert [f.label for f in problem.fixes] == ["Set units of 'dense' to 1"]


@pytest.mark.parametrize(
    ("dataset", "units", "activation", "loss", "needle"),
    [
        ("iris", 3, "softmax", "binary_crossentropy", "binary cross-entropy"),
        ("iris", 3, "softmax", "mean_squared_error", "mean squared error"),
        ("diabetes", 1, None, "sparse_categorical_crossentropy", "numeric targets"),
        ("iris", 3, "softmax", "categorical_crossentropy", "one-hot"),
        ("moons", 2, "softmax", "binary_crossentropy", "2 values"),
    ],
)
def test_a_loss_that_does_not_fit_the_labels_is_an_error(
    dataset: str, units: int, activation: str | None, loss: str, needle: str
) -> None:
    width = {"iris": 4, "diabetes": 10, "moons": 2}[dataset]
    dense: dict[str, Any] = {"units": units}
    if activation:
        dense["activation"] = activation
    graph = chain(("Input", {"shape": [width]}), ("Dense", dense))
    problems = check_data_fit(graph, load_dataset(dataset), TrainingConfig(loss=loss))
    errors = [p for p in problems if p.severity == "error"]
    assert errors and needle in errors[0].message, [p.message for p in problems]


def test_what_fits_passes() -> None:
    config = TrainingConfig()
    fits = [
        ("digits", (("Input", {"shape": [8, 8, 1]}), ("Flatten", {}), ("Dense", {"units": 10}))),
        ("moons", (("Input", {"shape": [2]}), ("Dense", {"units": 1, "activation": "sigmoid"}))),
        ("moons", (("Input", {"shape": [2]}), ("Dense", {"units": 2, "activation": "softmax"}))),
        ("diabetes", (("Input", {"shape": [10]}), ("Dense", {"units": 1}))),
    ]
    for name, specs in fits:
        assert check_data_fit(chain(*specs), load_dataset(name), config) == [], name


def test_labels_outside_the_output_say_so_not_graph_execution_error() -> None:
    """Bypassing every check (a Trainer on its own): TensorFlow's error is read for its
    reason instead of its first line, "Graph execution error"."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = np.arange(64) % 10
    empty = x[:0]
    data = Dataset("ten", "classification", x, y, empty, y[:0], empty, y[:0], list("0123456789"))
    graph: LayerGraph = chain(("Input", {"shape": [3]}), ("Dense", {"units": 4}))
    config = TrainingConfig(epochs=1, loss="sparse_categorical_crossentropy")
    result = Trainer(graph, data, config).run()
    assert result.status == "failed"
    assert "Graph execution error" not in result.message, result.message
    assert "{{function_node" not in result.message and "Label values" not in result.message
    assert "label value of 9" in result.message and "[0, 4)" in result.message, result.message
    assert "as many units as there are classes" in result.message, result.message


def test_graph_mode_errors_are_read_for_their_reason() -> None:
    import tensorflow as tf

    step = tf.function(
        lambda labels, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits
        )
    )
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        step(tf.constant([9, 1]), tf.zeros((2, 4)))
    reason = error_reason(info.value)
    assert reason.startswith("Received a label value of 9"), reason
    assert "[[{{node" not in reason and "Op:" not in reason
    # Keras' fit in graph mode: what the fault sweep saw as the whole message
    graph_mode = RuntimeError(
        "Graph execution error:\n\nDetected at node compile_loss/sparse_categorical_crossentropy"
        "/SparseSoftmaxCrossEntropyWithLogits defined at (most recent call last):\n"
        '  File "train.py", line 9, in <module>\n\n'
        "Received a label value of 9 which is outside the valid range of [0, 4).  Label "
        "values: 9 1\n\t [[{{node compile_loss/SparseSoftmax}}]] [Op:__inference_step_61]"
    )
    assert error_reason(graph_mode).startswith("Received a label value of 9 which is outside")
