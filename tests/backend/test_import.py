"""Import: a Keras model file becomes a project whose compiled model is the same model.

Same architecture config (names included; only the names Keras draws for `keras.ops` nodes may
differ, see `tests.keras_models.architecture`), same parameter count and, with the weights kept
beside the project, the same outputs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.cli import main as cli_main
from backend.compiler import compile_graph
from backend.importer import import_model
from backend.layer_table import BLOCK_TYPE
from backend.layout import count_crossings
from backend.project import Project, load_project, save_project
from backend.shapes import ShapeInference
from backend.trainer import Trainer
from backend.weights import (
    apply_weights,
    compile_project,
    load_weights,
    resolve,
    resolved_training,
    weights_path_for,
)
from tests import keras_models
from tests.backend.conftest import regression_dataset

Imported = tuple[Any, Project]


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Imported]:
    """Each varied model, built and saved once, imported with its weights beside the project."""
    folder = tmp_path_factory.mktemp("imported")
    result: dict[str, Imported] = {}
    for name, build in keras_models.VARIED.items():
        model = build()
        model.save(folder / f"{name}.keras")
        project = import_model(folder / f"{name}.keras", folder / f"{name}.dcproj.json")
        result[name] = (model, project)
    return result


@pytest.mark.parametrize("name", list(keras_models.VARIED))
def test_import_then_compile_gives_the_same_model(name: str, imported: dict[str, Imported]) -> None:
    original, project = imported[name]

    shapes = ShapeInference().infer(project.graph)
    assert not [s.error for s in shapes.values() if s.error]
    model = compile_project(project)

    assert keras_models.architecture(model) == keras_models.architecture(original)
    assert model.count_params() == original.count_params()
    inputs = keras_models.sample_inputs(original)
    for ours, theirs in zip(
        keras_models.predict(model, inputs), keras_models.predict(original, inputs), strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["siamese_nested", "lstm_text"])
def test_the_saved_project_reloads_to_the_same_model(
    name: str, imported: dict[str, Imported]
) -> None:
    original, project = imported[name]
    assert project.path is not None and project.path.exists()
    reloaded = load_project(project.path)
    assert reloaded.training.initial_weights == weights_path_for(project.path).name
    model = compile_project(reloaded)
    assert keras_models.architecture(model) == keras_models.architecture(original)
    inputs = keras_models.sample_inputs(original, seed=1)
    np.testing.assert_allclose(
        keras_models.predict(model, inputs)[0], keras_models.predict(original, inputs)[0], 1e-5
    )


def test_nested_models_and_shared_layers_are_kept_as_such(imported: dict[str, Imported]) -> None:
    _original, project = imported["siamese_nested"]
    graph = project.graph
    by_name = {n.name: n for n in graph.nodes.values()}

    encoder = by_name["encoder"]
    assert encoder.layer_type == BLOCK_TYPE and encoder.params["model"] == "functional"
    assert by_name["encoder_call2"].params == {"shares": encoder.id}
    assert by_name["shared_call2"].params == {"shares": by_name["shared"].id}
    head = by_name["head"]
    assert head.params["model"] == "sequential" and head.params["trainable"] is False

    model = compile_project(project)
    shared = model.get_layer("shared")
    assert len(shared._inbound_nodes) == 2, "one Dense applied twice, not two Dense layers"
    assert [layer.name for layer in model.get_layer("encoder").layers] == ["inner_in", "inner_fc"]
    assert not model.get_layer("head").trainable


def test_the_layout_reads_left_to_right_without_overlaps(imported: dict[str, Imported]) -> None:
    _original, project = imported["resnet_style"]
    graph = project.graph
    positions = {nid: node.position for nid, node in graph.nodes.items()}
    assert len(set(positions.values())) == len(positions), "two nodes on the same spot"
    assert all(positions[e.src][0] < positions[e.dst][0] for e in graph.edges)
    assert count_crossings(graph, positions) == 0


def test_training_continues_from_the_imported_weights(
    imported: dict[str, Imported], tmp_path: Path
) -> None:
    original, project = imported["mlp"]
    x = np.random.default_rng(0).random((8, 12)).astype("float32")
    dataset = regression_dataset(x, np.zeros((8, 3), "float32"))
    config = resolved_training(project.training, project.path)

    model = Trainer(project.graph, dataset, config).build_model()

    np.testing.assert_allclose(model.predict(x, verbose=0), original.predict(x, verbose=0), 1e-5)
    fresh = Trainer(project.graph, dataset, replace(config, initial_weights=None)).build_model()
    assert not np.allclose(fresh.predict(x, verbose=0), original.predict(x, verbose=0))


def test_an_edited_layer_keeps_its_fresh_weights_and_the_rest_are_loaded(
    imported: dict[str, Imported],
) -> None:
    original, project = imported["mlp"]
    graph = project.graph.__class__.from_dict(project.graph.to_dict())
    graph.set_params(graph.node_by_name("hidden_2").id, {"units": 7})
    model = compile_graph(graph)

    skipped = apply_weights(model, load_weights(resolve(project.training, project.path) or ""))

    assert skipped == ["hidden_2", "probs"]  # both shapes changed with the edit
    kernel = model.get_layer("hidden").get_weights()[0]
    np.testing.assert_array_equal(kernel, original.get_layer("hidden").get_weights()[0])


def test_a_sequential_model_comes_back_as_the_same_layers(tmp_path: Path) -> None:
    original = keras_models.sequential_mlp()
    original.save(tmp_path / "seq.keras")
    project = import_model(tmp_path / "seq.keras", tmp_path / "seq.dcproj.json")

    model = compile_project(project)

    def layer_configs(m: Any) -> list[Any]:
        return [(type(layer).__name__, layer.get_config()) for layer in m.layers[-2:]]

    assert layer_configs(model) == layer_configs(original)
    x = keras_models.sample_inputs(original)
    np.testing.assert_allclose(
        keras_models.predict(model, x)[0], keras_models.predict(original, x)[0]
    )


def test_import_without_a_project_path_keeps_the_weights_in_the_app_folder(
    tmp_path: Path, private_home: Path
) -> None:
    original = keras_models.mlp()
    original.save(tmp_path / "m.keras")

    project = import_model(tmp_path / "m.keras")

    weights = Path(project.training.initial_weights or "")
    assert weights.is_absolute() and weights.is_relative_to(private_home)
    assert project.path is None and project.dirty
    assert not [p for p in tmp_path.iterdir() if p.name != "m.keras"], "nothing beside the model"
    saved = save_project(project, tmp_path / "later.dcproj.json")
    model = compile_project(load_project(saved))
    x = keras_models.sample_inputs(original)
    np.testing.assert_allclose(
        keras_models.predict(model, x)[0], keras_models.predict(original, x)[0]
    )


def test_the_cli_imports_and_exports_with_the_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = keras_models.two_in_two_out()
    original.save(tmp_path / "model.keras")
    project_file = tmp_path / "out" / "model.dcproj.json"
    project_file.parent.mkdir()

    assert cli_main(["import", str(tmp_path / "model.keras"), "-o", str(project_file)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "out" / "model.weights.npz").exists()

    exported = tmp_path / "again.keras"
    assert cli_main(["export", str(project_file), "--format", "keras", "-o", str(exported)]) == 0
    from backend.keras_env import import_keras

    again = import_keras().models.load_model(exported)
    x = keras_models.sample_inputs(original)
    for a, b in zip(keras_models.predict(again, x), keras_models.predict(original, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_compiled_model_brings_its_training_settings(tmp_path: Path) -> None:
    from backend.keras_env import import_keras

    keras = import_keras()
    model = keras_models.mlp()
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.save(tmp_path / "compiled.keras")
    training = import_model(tmp_path / "compiled.keras").training
    assert (training.optimizer, training.learning_rate, training.momentum) == ("sgd", 0.05, 0.9)
    assert training.loss == "sparse_categorical_crossentropy" and training.metrics == ["accuracy"]
