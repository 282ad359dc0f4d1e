"""Train, then evaluate and export with no flags: the trained weights are used everywhere, the
exported model scores like the app on the test split, and a reopened project is still trained.
Each journey goes through the CLI (main.py commands, in-process) or the workflow layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.document.project import load_project
from backend.exchange.keras_file import load_keras
from backend.workflow.session import Workflow
from tests.journeys.conftest import Cli


def accuracy(probabilities: Any, labels: Any) -> float:
    """Binary accuracy as Keras counts it (threshold 0.5)."""
    predicted = (np.asarray(probabilities).reshape(-1) > 0.5).astype(int)
    return float(np.mean(predicted == np.asarray(labels).reshape(-1)))


def test_cli_train_then_evaluate_and_export_use_the_trained_weights(
    cli: Cli, tmp_path: Path
) -> None:
    project = tmp_path / "moons.dcproj.json"
    assert cli("new", "-o", project, "--example", "moons_mlp").code == 0
    untrained = cli("evaluate", project, "--json").json()
    assert untrained["weights_source"] == "untrained"

    trained = cli("train", project, "--epochs", "3")
    assert trained.code == 0, trained.err
    run_id = load_project(project).weights.run
    assert run_id is not None and f"recorded run {run_id}" in trained.out

    evaluated = cli("evaluate", project, "--json").json()  # no flags: the run's weights
    assert evaluated["weights_source"] == "run" and evaluated["run"] == run_id
    assert evaluated["metrics"]["accuracy"] > untrained["metrics"]["accuracy"] + 0.1
    text = cli("evaluate", project).out
    assert "weights: run " in text and "(completed, 3 epochs)" in text

    data = load_project(project).load_data()
    for fmt, name in (("keras", "moons.keras"), ("onnx", "moons.onnx")):
        exported = cli("export", project, "--format", fmt, "-o", tmp_path / name)
        assert exported.code == 0, exported.err
        assert "test samples of moons" in exported.out and "weights: run " in exported.out
    app_accuracy = pytest.approx(evaluated["metrics"]["accuracy"], abs=1e-6)  # float32
    keras_model = load_keras(tmp_path / "moons.keras")
    assert accuracy(keras_model.predict(data.x_test, verbose=0), data.y_test) == app_accuracy
    assert accuracy(onnx_predict(tmp_path / "moons.onnx", data.x_test), data.y_test) == (
        app_accuracy
    )
    script = cli("export", project, "--format", "python", "-o", tmp_path / "moons.py")
    assert script.code == 0 and f"{run_id}.weights.npz" in (tmp_path / "moons.py").read_text()

    more = cli("train", project, "--continue", "last", "--epochs", "1")  # on from those weights
    assert more.code == 0, more.err
    first, second = load_project(project).runs
    assert second.parent_id == first.id == run_id
    assert cli("evaluate", project, "--json").json()["run"] == second.id


def onnx_predict(path: Path, x: Any) -> Any:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.astype("float32")})[0]


def test_train_save_reopen_and_evaluate_at_once(tmp_path: Path) -> None:
    app = Workflow.from_template("digits_cnn")
    result, run = app.train(epochs=3)
    before = app.evaluate()
    assert result.status == "completed" and before.built.weights.run == run
    path = app.save(tmp_path / "digits.dcproj.json")
    del app  # quit

    reopened = Workflow.open(path)
    assert reopened.weights.run is not None and reopened.weights.run.id == run.id
    assert reopened.weights.fits and reopened.weights.describe().startswith("run ")
    after = reopened.evaluate()

    assert after.report.metrics == before.report.metrics
    assert after.report.heads[0].classification.accuracy == (
        before.report.heads[0].classification.accuracy
    )
    # Insight and predictions read the same model: its outputs are the trained ones.
    x = after.dataset.x_test[:5]
    np.testing.assert_allclose(reopened.predict(x)[0], result.model.predict(x, verbose=0))


def test_a_project_trained_before_current_weights_existed_reopens_trained(
    cli: Cli, tmp_path: Path
) -> None:
    """Files written by the old `train` have runs but no `current_weights`: the newest run with
    a checkpoint is taken, as it was what `train` left there."""
    import json

    project = tmp_path / "old.dcproj.json"
    assert cli("new", "-o", project, "--example", "moons_mlp").code == 0
    assert cli("train", project, "--epochs", "2").code == 0
    data = json.loads(project.read_text())
    del data["current_weights"]
    project.write_text(json.dumps(data, indent=2))

    evaluated = cli("evaluate", project, "--json").json()
    assert evaluated["weights_source"] == "run" and evaluated["run"] == data["runs"][-1]["id"]


def test_a_two_input_template_trains_evaluates_and_exports(tmp_path: Path) -> None:
    """Evaluation took single-input models only: the gallery's two-input model could be trained
    but not evaluated."""
    app = Workflow.from_template("two_input_model")
    app.train(epochs=2)
    evaluation = app.evaluate()
    assert evaluation.report.size == len(evaluation.dataset.x_test[0])
    assert evaluation.report.heads[0].classification is not None
    exported = app.export("onnx", tmp_path / "two.onnx")
    assert exported.report.sample_source.startswith("test samples of ")
