"""The layer catalog, and every palette layer through add, connect, infer, compile, save, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.document.graph import LayerGraph
from backend.document.layer_table import (
    CATEGORIES,
    LAYERS,
    example_inputs,
    layer_info,
    layers_by_category,
)
from backend.document.project import Project, load_project, save_project
from backend.keras_bridge.catalog import (
    CATEGORY_BY_KERAS_MODULE,
    EXCLUDED,
    LayerConfigError,
    default_inner_layer,
    inner_layer_types,
    layer_kwargs,
    layer_spec,
    palette_types,
    type_for_class_name,
)
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_env import import_keras

UNDER_TEST = "under_test"


def test_palette_lists_every_offered_layer_once_by_category() -> None:
    offered = [name for name, info in LAYERS.items() if info.in_palette]
    assert palette_types() == offered
    grouped = layers_by_category()
    assert list(grouped) == list(CATEGORIES)
    assert sorted(i.type_name for infos in grouped.values() for i in infos) == sorted(offered)
    assert all(grouped[c] for c in CATEGORIES), "an empty palette category"
    assert "Block" in LAYERS and "Block" not in offered  # made by grouping, not dragged


def keras_layer_classes() -> dict[str, type]:
    """Every layer class `keras.layers` exports, by exported name (aliases collapsed to the
    name the palette or EXCLUDED uses, else the class's own name)."""
    keras = import_keras()
    by_class: dict[type, str] = {}
    for name in dir(keras.layers):
        cls = getattr(keras.layers, name)
        if isinstance(cls, type) and (cls not in by_class or name in LAYERS or name in EXCLUDED):
            by_class[cls] = name if name in LAYERS or name in EXCLUDED else cls.__name__
    return {name: cls for cls, name in by_class.items()}


def test_the_palette_covers_every_keras_layer_but_the_excluded_ones() -> None:
    keras_names = set(keras_layer_classes())
    offered = {
        n
        for n, info in LAYERS.items()
        if not (info.is_block or info.is_input or info.is_operation or info.keras_module)
    }  # those are not keras.layers
    missing = keras_names - offered - set(EXCLUDED)
    assert not missing, f"Keras layers neither offered nor excluded: {sorted(missing)}"
    assert offered <= keras_names, "the table offers a layer Keras does not have"
    assert not offered & set(EXCLUDED)
    for needed in ("Bidirectional", "TimeDistributed", "GroupQueryAttention", "ConvLSTM2D"):
        assert needed in offered


def test_a_saved_class_name_finds_its_palette_type() -> None:
    assert type_for_class_name("Dense") == "Dense"
    assert type_for_class_name("GroupedQueryAttention") == "GroupQueryAttention"
    assert type_for_class_name("MyCustomLayer") is None
    assert type_for_class_name("LayerScale") == "LayerScale"  # ConvNeXt's own, from its module


def test_categories_follow_keras_own_grouping() -> None:
    """A layer sits in the category of its `keras.src.layers.<module>`, with the few
    groupings the Keras docs make differently (Activation is a core layer, random image
    augmentation has its own heading)."""
    classes = keras_layer_classes()
    docs = {"Activation": "Core"}
    for name, info in LAYERS.items():
        if info.is_block or info.is_input or info.is_operation or info.keras_module:
            continue
        module = classes[name].__module__.removeprefix("keras.src.layers.").split(".")[0]
        expected = docs.get(name, CATEGORY_BY_KERAS_MODULE[module])
        if info.category == "Augmentation":
            expected = "Augmentation" if module == "preprocessing" else expected
        assert info.category == expected, f"{name} is in {info.category}, Keras says {module}"


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
    """The layer fed by Inputs of its example shapes and dtypes (an Input feeds a ReLU)."""
    graph = LayerGraph()
    info = layer_info(type_name)
    if info.is_input:
        node = graph.add_node(type_name, name=UNDER_TEST)
        graph.connect(node.id, graph.add_node("ReLU").id)
        return graph, node.id
    sources = [
        graph.add_node("Input", params, name=f"in_{port}")
        for port, params in enumerate(example_inputs(info))
    ]
    node = graph.add_node(type_name, name=UNDER_TEST)
    for port, source in enumerate(sources):
        graph.connect(source.id, node.id, port)
    return graph, node.id


def comparable(config: Any) -> Any:
    """A model config as plain data, without the seeds Keras draws when none is given."""
    if isinstance(config, dict):
        return {k: comparable(v) for k, v in config.items() if k != "seed"}
    if isinstance(config, (list, tuple)):
        return [comparable(v) for v in config]
    return config


def layer_names(model: Any) -> list[str]:
    return [layer.name for layer in model.layers]


@pytest.mark.parametrize("type_name", palette_types())
def test_every_palette_layer_round_trips(type_name: str, tmp_path: Path) -> None:
    graph, node_id = palette_graph(type_name)

    shapes = ShapeInference().infer(graph)
    result = shapes[node_id]
    assert result.error is None, result.error
    assert result.ok and not result.blocked

    model = compile_graph(graph, shapes)
    info = layer_info(type_name)
    if info.is_block:  # compiled inline: its layers are named under_test.<layer>
        assert all(name.startswith(f"{UNDER_TEST}.") for name in layer_names(model)[1:])
    elif not info.is_input:
        assert tuple(model.get_layer(UNDER_TEST).output.shape) == result.shape
    assert tuple(model.outputs[0].shape) == result.shape, "inference and the model disagree"

    path = save_project(Project(graph, name=type_name), tmp_path / "palette.dcproj.json")
    reloaded = load_project(path)
    assert reloaded.graph.to_dict() == graph.to_dict()

    model_again = compile_graph(reloaded.graph)
    assert comparable(model_again.get_config()) == comparable(model.get_config())
    assert model_again.count_params() == model.count_params()


# ----------------------------------------------------------------- wrappers
@pytest.mark.parametrize("wrapper", ["Bidirectional", "TimeDistributed", "SpectralNormalization"])
def test_a_wrapper_exposes_its_inner_layer_as_a_typed_choice(wrapper: str) -> None:
    layer = layer_spec(wrapper).param("layer")
    assert layer.kind == "layer" and layer.required
    assert layer.choices == inner_layer_types(wrapper)
    assert layer.default["type"] in layer.choices
    assert default_inner_layer("GRU") == {"type": "GRU", "params": {"units": 16}}


def test_changing_the_inner_layer_changes_the_compiled_wrapper() -> None:
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [6, 3]}, name="seq")
    bi = graph.add_node("Bidirectional", name="bi")
    graph.connect(seq.id, bi.id)
    assert compile_graph(graph).get_layer("bi").forward_layer.__class__.__name__ == "LSTM"

    graph.set_params(bi.id, {"layer": {"type": "GRU", "params": {"units": 5}}, "merge_mode": "sum"})

    assert ShapeInference().infer(graph)[bi.id].shape == (None, 5)
    layer = compile_graph(graph).get_layer("bi")
    assert layer.forward_layer.__class__.__name__ == "GRU" and layer.forward_layer.units == 5


def test_a_bad_inner_layer_is_named_on_the_wrapper() -> None:
    with pytest.raises(LayerConfigError, match="Bidirectional 'bi': unknown layer type 'Nope'"):
        layer_kwargs("Bidirectional", {"layer": {"type": "Nope", "params": {}}}, "bi")
    with pytest.raises(LayerConfigError, match="TimeDistributed 'td' cannot wrap Input"):
        layer_kwargs("TimeDistributed", {"layer": {"type": "Input", "params": {}}}, "td")
