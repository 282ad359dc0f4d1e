"""Import: a Keras model file becomes a project whose compiled model is the same model.

Same architecture config (names included; only the names Keras draws for `keras.ops` nodes may
differ, see `tests.keras_models.architecture`), same parameter count and, with the weights kept
beside the project, the same outputs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.cli.main import main as cli_main
from backend.document.graph import LayerGraph
from backend.document.layer_table import BLOCK_TYPE
from backend.document.project import Project, load_project, save_project
from backend.editing.geometry import graph_sizes
from backend.editing.routing import crosses_a_box, port_points, route_edges
from backend.exchange.importer import import_model
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import NodeShape, ShapeInference
from backend.keras_bridge.weights import (
    apply_weights,
    compile_project,
    load_weights,
    resolve,
    resolved_training,
    weights_path_for,
)
from backend.training.trainer import Trainer
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


@pytest.mark.parametrize(
    "name", ["siamese_nested", "lstm_text", "seq2seq_states", "nested_two_outputs", "keras_ops"]
)
def test_the_saved_project_reloads_to_the_same_model(
    name: str, imported: dict[str, Imported]
) -> None:
    original, project = imported[name]
    assert project.path is not None and project.path.exists()
    reloaded = load_project(project.path)
    assert reloaded.training.initial_weights == weights_path_for(project.path).name
    assert reloaded.graph.to_dict() == project.graph.to_dict()
    model = compile_project(reloaded)
    assert keras_models.architecture(model) == keras_models.architecture(original)
    inputs = keras_models.sample_inputs(original, seed=1)
    for ours, theirs in zip(
        keras_models.predict(model, inputs), keras_models.predict(original, inputs), strict=True
    ):
        np.testing.assert_allclose(ours, theirs, 1e-5)


def test_each_tensor_a_layer_returns_is_an_output_port(imported: dict[str, Imported]) -> None:
    _original, project = imported["seq2seq_states"]
    graph = project.graph
    node = {n.name: n.id for n in graph.nodes.values()}
    name = {nid: n.name for nid, n in graph.nodes.items()}

    def feeds(target: str) -> list[tuple[str, int, int]]:
        return [(name[e.src], e.src_port, e.dst_port) for e in graph.in_edges(node[target])]

    # the encoder's states h, c (outputs 1, 2) start the decoder: its input ports 1, 2
    assert feeds("decoder") == [("target", 0, 0), ("encoder", 1, 1), ("encoder", 2, 2)]
    # a bidirectional LSTM's five outputs: forward h, c are 1, 2; backward h, c are 3, 4
    assert feeds("state_h") == [("bi_encoder", 1, 0), ("bi_encoder", 3, 1)]
    assert feeds("state_c") == [("bi_encoder", 2, 0), ("bi_encoder", 4, 1)]
    # a model output may be any output of a layer: here the GRU's final state
    assert graph.output_ports == [(node["steps"], 0), (node["summary"], 1)]
    assert graph.explicit_outputs == [node["steps"], f"{node['summary']}:1"]
    shapes = ShapeInference().infer(graph)
    assert [s.shape for s in (shapes[node["encoder"]].port(i) for i in range(3)) if s] == [
        (None, 8),
        (None, 8),
        (None, 8),
    ]
    assert shapes[node["bi_encoder"]].output_count == 5
    assert shapes[node["summary"]].port(1) == NodeShape((None, 4))
    saved = json.loads(project.path.read_text()) if project.path else {}
    edges = saved["graph"]["edges"]
    assert {"src": node["encoder"], "dst": node["decoder"], "dst_port": 1, "src_port": 1} in edges
    assert {"src": node["source"], "dst": node["encoder"], "dst_port": 0} in edges


def test_a_nested_model_with_two_outputs_is_a_block_with_two_output_ports(
    imported: dict[str, Imported],
) -> None:
    _original, project = imported["nested_two_outputs"]
    graph = project.graph
    trunk = graph.node_by_name("trunk")
    assert trunk.layer_type == BLOCK_TYPE and trunk.params["model"] == "functional"
    inner = LayerGraph.from_dict(trunk.params["graph"])
    assert [inner.nodes[nid].name for nid in inner.outputs] == ["wide", "narrow"]
    join = graph.node_by_name("join")
    assert [(e.src, e.src_port) for e in graph.in_edges(join.id)] == [(trunk.id, 0), (trunk.id, 1)]
    assert graph.output_ports[1] == (trunk.id, 1)
    shapes = ShapeInference().infer(graph)
    assert shapes[trunk.id].output_count == 2
    assert [shapes[trunk.id].port(i) for i in range(2)] == [
        NodeShape((None, 5)),
        NodeShape((None, 2)),
    ]


def test_keras_ops_calls_become_operation_nodes_and_masks_are_left_to_keras(
    imported: dict[str, Imported],
) -> None:
    _original, project = imported["keras_ops"]
    graph = project.graph
    ops = [n for n in graph.nodes.values() if n.layer_type == "Operation"]
    kinds = sorted(n.params["op"]["class_name"] for n in ops)  # names are Keras' own, numbered
    assert kinds == ["Add", "Concatenate", "GetItem", "Mean", "Multiply", "Multiply", "Split"]
    by_kind = {n.params["op"]["class_name"]: n for n in ops}
    assert by_kind["Mean"].params == {
        "op": {
            "module": "keras.src.ops.numpy",
            "class_name": "Mean",
            "config": {"axis": 1, "keepdims": False},
        },
        "args": [{"__input__": 0}],
        "kwargs": {},
    }
    doubled, product = sorted(
        (n for n in ops if n.params["op"]["class_name"] == "Multiply"),
        key=lambda n: len(graph.in_edges(n.id)),
    )
    assert doubled.params["args"] == [{"__input__": 0}, 2]  # x * 2
    split = by_kind["Split"].id
    assert [(e.src, e.src_port) for e in graph.in_edges(product.id)] == [(split, 0), (split, 1)]
    _text, text_project = imported["lstm_text"]  # the Embedding's mask is Keras' own business
    assert not [n for n in text_project.graph.nodes.values() if n.layer_type == "Operation"]


def test_attention_scores_are_the_second_output_of_the_attention_node(
    imported: dict[str, Imported],
) -> None:
    _original, project = imported["attention_scores"]
    graph = project.graph
    mha, attend = graph.node_by_name("mha"), graph.node_by_name("attend")
    assert mha.params["call_kwargs"] == {"return_attention_scores": True}
    assert graph.output_ports[1] == (mha.id, 1)
    flat = graph.node_by_name("weights_flat")
    assert [(e.src, e.src_port) for e in graph.in_edges(flat.id)] == [(attend.id, 1)]
    shapes = ShapeInference().infer(graph)
    assert shapes[mha.id].port(1) == NodeShape((None, 2, 7, 7))
    assert shapes[attend.id].port(1) == NodeShape((None, 7, 7))


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


def test_the_layout_reads_top_to_bottom_without_overlaps(imported: dict[str, Imported]) -> None:
    _original, project = imported["resnet_style"]
    graph = project.graph
    positions = {nid: node.position for nid, node in graph.nodes.items()}
    assert len(set(positions.values())) == len(positions), "two nodes on the same spot"
    assert all(positions[e.src][1] < positions[e.dst][1] for e in graph.edges)
    sizes = graph_sizes(graph)
    boxes = {nid: (*positions[nid], *sizes[nid]) for nid in graph.nodes}
    routes = route_edges(graph.edges, boxes, port_points(graph, boxes))
    assert len(routes) == len(graph.edges)
    hidden = [e for e, route in routes.items() if crosses_a_box(route, boxes.values())]
    assert hidden == [], "an edge runs behind a layer it does not connect"


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


@pytest.mark.parametrize("name", ["two_in_two_out", "seq2seq_states"])
def test_the_cli_imports_and_exports_with_the_weights(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = keras_models.VARIED[name]()
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
    ours, theirs = keras_models.architecture(again), keras_models.architecture(original)
    for key in ("layers", "input_layers", "output_layers"):
        assert ours[key] == theirs[key], key
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
