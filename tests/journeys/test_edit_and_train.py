"""From a template, edit, train and undo; leave a layer unconnected and be told before training.
Through the workflow layer (what the app calls) and the CLI (main.py, in-process)."""

from __future__ import annotations

from pathlib import Path

from backend.document.project import load_project
from backend.editing.commands import AddNode, Connect, SetOutputs, SetParams
from backend.workflow.session import Workflow, WorkflowError
from tests.journeys.conftest import Cli


def test_template_edit_train_then_undo_a_settings_change() -> None:
    app = Workflow.from_template("moons_mlp")
    graph = app.project.graph
    app.undo.push(SetParams(graph.node_by_name("dense").id, {"units": 24}))
    app.set_training(epochs=2)
    app.set_training(learning_rate=0.05)
    _result, first = app.train()
    assert first.training["learning_rate"] == 0.05 and first.training["epochs"] == 2

    assert app.undo.undo() == "Set Learning rate to 0.05"

    assert app.project.training.learning_rate == 0.01  # the template's
    assert graph.node_by_name("dense").params["units"] == 24  # the graph edit stays
    assert app.weights.run == first and app.weights.fits  # settings do not touch the weights
    _result, second = app.train()
    assert second.training["learning_rate"] == 0.01 and app.weights.run == second
    assert app.undo.labels()[:2] == ["Set units of 'dense'", "Set Epochs to 2"]


def test_an_unconnected_layer_is_named_before_training(cli: Cli, tmp_path: Path) -> None:
    app = Workflow.from_template("digits_cnn")
    graph = app.project.graph
    flatten = graph.node_by_name("flatten").id
    add = AddNode("Dense", {"units": 5}, name="dense_3")
    app.undo.push(add)
    assert add.node_id is not None
    app.undo.push(Connect(flatten, add.node_id))  # fed, but feeding nothing

    [problem] = app.problems()
    assert problem.node_id == add.node_id
    assert problem.message.startswith("layer 'dense_3' (Dense) is not connected to an output")
    try:
        app.prepare_training()
    except WorkflowError as exc:
        assert "dense_3" in str(exc) and exc.node_id == add.node_id
    else:
        raise AssertionError("training started with an unconnected layer")

    path = app.save(tmp_path / "dangling.dcproj.json")
    validated = cli("validate", path)
    assert validated.code == 1 and "layer 'dense_3' (Dense) is not connected" in validated.err
    trained = cli("train", path)
    assert trained.code == 1 and "epoch" not in trained.out
    assert "cannot train: layer 'dense_3' (Dense) is not connected to an output" in trained.err
    assert load_project(path).runs == []  # nothing started, nothing recorded

    # Meant as a second output: marking both outputs makes it a two-output model.
    outputs = [graph.node_by_name("dense_1").id, add.node_id]
    app.undo.push(SetOutputs(outputs))
    assert app.problems() == []
    assert len(app.build_model().model.outputs) == 2
