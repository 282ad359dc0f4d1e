"""Graph to keras.Model: residual joins, several inputs and outputs, errors naming the node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backend.document.graph import LayerGraph, used_nodes
from backend.keras_bridge.compiler import CompileError, compile_graph, validate

ChainBuilder = Callable[..., list[str]]


def inbound(model: Any, layer_name: str) -> list[str]:
    """Names of the layers feeding `layer_name`, in call order, from the model's own config."""
    names: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            config = value.get("config")
            if isinstance(config, dict) and config.get("keras_history"):
                names.append(config["keras_history"][0])
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    layer = next(c for c in model.get_config()["layers"] if c["name"] == layer_name)
    walk(layer["inbound_nodes"])
    return names


def test_a_residual_add_compiles_with_its_skip_connection() -> None:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [16]}, name="features")
    d1 = graph.add_node("Dense", {"units": 16, "activation": "relu"}, name="d1")
    d2 = graph.add_node("Dense", {"units": 16}, name="d2")
    join = graph.add_node("Add", name="residual")
    head = graph.add_node("Dense", {"units": 1}, name="head")
    graph.connect(source.id, d1.id)
    graph.connect(d1.id, d2.id)
    graph.connect(d2.id, join.id, 0)
    graph.connect(d1.id, join.id, 1)  # the skip
    graph.connect(join.id, head.id)

    model = compile_graph(graph)

    assert [layer.name for layer in model.layers] == ["features", "d1", "d2", "residual", "head"]
    assert inbound(model, "residual") == ["d2", "d1"]
    assert model.count_params() == (16 * 16 + 16) * 2 + (16 + 1)
    assert tuple(model.outputs[0].shape) == (None, 1)
    assert model.predict(np.ones((3, 16), "float32"), verbose=0).shape == (3, 1)


def test_two_inputs_compile_into_a_two_input_model() -> None:
    graph = LayerGraph()
    image = graph.add_node("Input", {"shape": [4]}, name="left")
    meta = graph.add_node("Input", {"shape": [3]}, name="right")
    both = graph.add_node("Concatenate", name="both")
    head = graph.add_node("Dense", {"units": 2}, name="head")
    graph.connect(image.id, both.id)
    graph.connect(meta.id, both.id)
    graph.connect(both.id, head.id)

    model = compile_graph(graph)

    assert len(model.inputs) == 2
    assert [tuple(t.shape) for t in model.inputs] == [(None, 4), (None, 3)]
    assert len(model.outputs) == 1
    assert inbound(model, "both") == ["left", "right"]
    out = model.predict([np.ones((2, 4), "float32"), np.ones((2, 3), "float32")], verbose=0)
    assert out.shape == (2, 2)


def test_two_heads_compile_into_a_two_output_model() -> None:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [8]})
    trunk = graph.add_node("Dense", {"units": 8}, name="trunk")
    classes = graph.add_node("Dense", {"units": 3, "activation": "softmax"}, name="classes")
    score = graph.add_node("Dense", {"units": 1}, name="score")
    graph.connect(source.id, trunk.id)
    graph.connect(trunk.id, classes.id)
    graph.connect(trunk.id, score.id)

    # Two unmarked ends: neither becomes a second output silently; both are named.
    problems = [p for p in validate(graph) if p.severity == "error"]
    assert [p.node_id for p in problems] == [classes.id, score.id]
    assert "layer 'classes' (Dense) is not connected to an output" in problems[0].message

    graph.set_outputs([score.id, classes.id])  # marked outputs: a two-output model, in order
    model = compile_graph(graph)
    assert len(model.inputs) == 1
    assert [tuple(t.shape) for t in model.outputs] == [(None, 1), (None, 3)]


def test_a_shape_error_stops_compiling_and_names_the_node(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [16]}), ("Conv2D", {}), ("Dense", {"units": 2}))
    with pytest.raises(CompileError) as info:
        compile_graph(graph)
    assert info.value.node_id == ids[1]
    assert "Conv2D 'conv2d'" in str(info.value)
    assert "(None, 16)" in str(info.value)


def test_an_add_of_mismatched_shapes_is_a_compile_error_on_the_add() -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [4]})
    b = graph.add_node("Input", {"shape": [5]})
    join = graph.add_node("Add", name="join")
    graph.connect(a.id, join.id)
    graph.connect(b.id, join.id)
    problems = validate(graph)
    assert [(p.severity, p.node_id) for p in problems] == [("error", join.id)]
    assert "join" in problems[0].message
    assert "(None, 4)" in problems[0].message and "(None, 5)" in problems[0].message
    with pytest.raises(CompileError) as info:
        compile_graph(graph)
    assert info.value.node_id == join.id


def test_validate_explains_an_empty_graph_and_a_graph_without_input() -> None:
    graph = LayerGraph()
    [empty] = validate(graph)
    assert "empty" in empty.message and empty.severity == "error"
    graph.add_node("Dense")
    messages = [p.message for p in validate(graph)]
    assert any("no Input" in m for m in messages)


def test_an_input_that_reaches_no_output_is_an_error(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    chain(graph, ("Input", {"shape": [4]}), ("Dense", {"units": 1}))
    stray = graph.add_node("Input", {"shape": [2]}, name="stray")
    errors = [p for p in validate(graph) if p.severity == "error"]
    assert [(p.node_id, p.message) for p in errors] == [
        (stray.id, "Input 'stray' does not reach any output")
    ]


def test_a_dead_end_is_a_warning_and_is_left_out_of_the_model(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [4]}), ("Dense", {"units": 3}), ("Dense", {"units": 1}))
    side = graph.add_node("Dense", {"units": 7}, name="side")
    graph.connect(ids[1], side.id)
    graph.set_outputs([ids[2]])
    problems = validate(graph)
    assert [(p.severity, p.node_id) for p in problems] == [("warning", side.id)]
    assert side.id not in used_nodes(graph)
    model = compile_graph(graph)
    assert "side" not in [layer.name for layer in model.layers]
    assert len(model.outputs) == 1


def test_the_compiled_model_follows_the_parameters(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(
        graph,
        ("Input", {"shape": [8, 8, 3]}),
        ("Conv2D", {"filters": 5, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same"}),
    )
    model = compile_graph(graph)
    config = model.get_layer("conv2d").get_config()
    assert config["filters"] == 5
    assert tuple(config["kernel_size"]) == (3, 3)
    assert tuple(config["strides"]) == (2, 2)
    assert tuple(model.outputs[0].shape) == (None, 4, 4, 5)
    assert graph.nodes[ids[1]].params["kernel_size"] == [3, 3]  # the graph keeps JSON values


def states_graph() -> tuple[LayerGraph, dict[str, str]]:
    """An LSTM whose h and c are read by name: h feeds a Dense, c is a model output."""
    graph = LayerGraph()
    ids = {
        "seq": graph.add_node("Input", {"shape": [6, 3]}, name="seq").id,
        "lstm": graph.add_node("LSTM", {"units": 4, "return_state": True}, name="lstm").id,
        "on_h": graph.add_node("Dense", {"units": 2}, name="on_h").id,
    }
    graph.connect(ids["seq"], ids["lstm"])
    graph.connect(ids["lstm"], ids["on_h"], src_port=1)
    graph.set_outputs([ids["on_h"], f"{ids['lstm']}:2", ids["lstm"], f"{ids['lstm']}:1"])
    return graph, ids


def test_each_edge_and_output_takes_the_output_its_port_names() -> None:
    graph, _ids = states_graph()

    model = compile_graph(graph)

    history = [tuple(t._keras_history)[1:] for t in model.outputs]
    assert [t._keras_history[0].name for t in model.outputs] == ["on_h", "lstm", "lstm", "lstm"]
    assert history == [(0, 0), (0, 2), (0, 0), (0, 1)]
    on_h = next(c for c in model.get_config()["layers"] if c["name"] == "on_h")
    read = on_h["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    assert read == ["lstm", 0, 1]
    x = np.random.default_rng(0).random((2, 6, 3)).astype("float32")
    head, c, last, h = model.predict(x, verbose=0)
    np.testing.assert_allclose(last, h)  # without return_sequences the output is h
    assert not np.allclose(c, h)
    kernel, bias = model.get_layer("on_h").get_weights()
    np.testing.assert_allclose(head, h @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_an_output_the_layer_does_not_have_is_a_problem_naming_it() -> None:
    graph, ids = states_graph()
    graph.set_outputs([f"{ids['lstm']}:3"])
    problems = [p for p in validate(graph) if p.severity == "error"]
    assert [(p.message, p.node_id) for p in problems] == [
        ("the model output LSTM 'lstm' output 3 does not exist: it has 3 outputs", ids["lstm"])
    ]
    with pytest.raises(CompileError, match="output 3 does not exist"):
        compile_graph(graph)
