"""The layer catalog, and every palette layer through add, connect, infer, compile, save, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.catalog import LayerConfigError, layer_kwargs, layer_spec, palette_types
from backend.compiler import compile_graph
from backend.graph import LayerGraph
from backend.layer_table import CATEGORIES, LAYERS, layer_info, layers_by_category
from backend.project import Project, load_project, save_project
from backend.shapes import ShapeInference

UNDER_TEST = "under_test"


def test_palette_lists_every_table_layer_once_by_category() -> None:
    assert palette_types() == list(LAYERS)
    grouped = layers_by_category()
    assert list(grouped) == list(CATEGORIES)
    assert sorted(i.type_name for infos in grouped.values() for i in infos) == sorted(LAYERS)
    assert all(grouped[c] for c in CATEGORIES), "an empty palette category"


@pytest.mark.parametrize("type_name", list(LAYERS))
def test_every_table_layer_has_a_keras_spec(type_name: str) -> None:
    spec = layer_spec(type_name)
    info = layer_info(type_name)
    names = [p.name for p in spec.params]
    assert spec.type_name == type_name
    assert len(names) == len(set(names))
    assert set(info.required) <= set(names), "the table sets a parameter Keras does not have"
    assert set(info.key_params) <= set(names), "a key parameter Keras does not have"
    for param in spec.params:
        if param.required:
            assert param.default is not None, f"{type_name}.{param.name}: no value in the table"
        if param.kind == "choice":
            assert param.default in param.choices, f"{type_name}.{param.name}"


def test_dense_parameters_come_from_keras() -> None:
    spec = layer_spec("Dense")
    units = spec.param("units")
    assert (units.required, units.kind, units.default) == (True, "int", 32)
    activation = spec.param("activation")
    assert activation.kind == "choice"
    assert {"relu", "softmax", "sigmoid", None} <= set(activation.choices)
    assert spec.param("use_bias").kind == "bool"
    assert spec.param("kernel_initializer").advanced
    assert not spec.has_param("name")  # the node's name, not a parameter
    with pytest.raises(KeyError):
        spec.param("no_such_param")


def test_one_dimensional_convolutions_offer_causal_padding() -> None:
    assert "causal" in layer_spec("Conv1D").param("padding").choices
    assert "causal" not in layer_spec("Conv2D").param("padding").choices


def test_layer_kwargs_refuses_unknown_and_missing_parameters_by_name() -> None:
    with pytest.raises(LayerConfigError, match=r"Dense 'fc' has no parameter 'unit'.*units"):
        layer_kwargs("Dense", {"unit": 3}, "fc")
    with pytest.raises(LayerConfigError, match="Dense 'fc' needs units"):
        layer_kwargs("Dense", {}, "fc")
    assert layer_kwargs("Conv2D", {"filters": 2, "kernel_size": [3, 3]}, "c") == {
        "filters": 2,
        "kernel_size": (3, 3),
    }


# ----------------------------------------------------------------- every palette layer
def palette_graph(type_name: str) -> tuple[LayerGraph, str]:
    """The layer fed by Inputs of its example shapes (an Input feeds a ReLU)."""
    graph = LayerGraph()
    info = layer_info(type_name)
    if info.is_input:
        node = graph.add_node(type_name, name=UNDER_TEST)
        graph.connect(node.id, graph.add_node("ReLU").id)
        return graph, node.id
    sources = [
        graph.add_node("Input", {"shape": list(shape)}, name=f"in_{port}")
        for port, shape in enumerate(info.example_input)
    ]
    node = graph.add_node(type_name, name=UNDER_TEST)
    for port, source in enumerate(sources):
        graph.connect(source.id, node.id, port)
    return graph, node.id


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """A layer config as plain data (dtype policies serialise to dicts already)."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


@pytest.mark.parametrize("type_name", palette_types())
def test_every_palette_layer_round_trips(type_name: str, tmp_path: Path) -> None:
    graph, node_id = palette_graph(type_name)

    shapes = ShapeInference().infer(graph)
    result = shapes[node_id]
    assert result.error is None, result.error
    assert result.ok and not result.blocked

    model = compile_graph(graph, shapes)
    layer = model.get_layer(UNDER_TEST)
    assert tuple(layer.output.shape) == result.shape, "inference and the model disagree"

    path = save_project(Project(graph, name=type_name), tmp_path / "palette.dcproj.json")
    reloaded = load_project(path)
    assert reloaded.graph.to_dict() == graph.to_dict()

    model_again = compile_graph(reloaded.graph)
    assert comparable(model_again.get_layer(UNDER_TEST).get_config()) == comparable(
        layer.get_config()
    )
    assert model_again.count_params() == model.count_params()
