"""Data into the graph: the Input's shape, the output's units, augmentation after the Input."""

from __future__ import annotations

import pytest

from backend.data import load_dataset
from backend.document.graph import LayerGraph
from backend.editing.commands import UndoStack
from backend.editing.data_wiring import (
    DataTarget,
    augmentation_macro,
    fit_graph_to_data,
    output_mismatch,
)
from backend.keras_bridge.shapes import ShapeInference


def mlp(units: int = 1, activation: str = "sigmoid") -> tuple[LayerGraph, list[str]]:
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [2]}).id,
        graph.add_node("Dense", {"units": 16, "activation": "relu"}).id,
        graph.add_node("Dense", {"units": units, "activation": activation}).id,
    ]
    graph.connect(ids[0], ids[1])
    graph.connect(ids[1], ids[2])
    return graph, ids


def test_fitting_sets_input_shape_and_output_units_in_one_undo_step() -> None:
    graph, (inp, _hidden, out) = mlp()
    undo = UndoStack(graph)
    target = DataTarget.of(load_dataset("iris"))
    fit = fit_graph_to_data(graph, target)
    assert fit.command is not None
    undo.push(fit.command)
    assert graph.nodes[inp].params["shape"] == [4]
    assert graph.nodes[out].params["units"] == 3
    assert graph.nodes[out].params["activation"] == "softmax"
    assert "3 classes" in fit.messages
    assert undo.labels() == ["Fit the model to the data"]
    undo.undo()
    assert graph.nodes[inp].params["shape"] == [2] and graph.nodes[out].params["units"] == 1
    assert fit_graph_to_data(graph, DataTarget((2,), "classification", 2)).command is None


def test_regression_targets_get_linear_outputs_of_their_width() -> None:
    graph, (_inp, _hidden, out) = mlp(units=3, activation="softmax")
    target = DataTarget((2,), "regression", 0, (2,))
    fit = fit_graph_to_data(graph, target)
    assert fit.command is not None
    UndoStack(graph).push(fit.command)
    assert graph.nodes[out].params["units"] == 2
    assert graph.nodes[out].params["activation"] == "linear"


def test_a_graph_with_two_inputs_is_left_to_the_user() -> None:
    graph, _ids = mlp()
    graph.add_node("Input", {"shape": [3]})
    fit = fit_graph_to_data(graph, DataTarget((4,), "classification", 2))
    assert fit.command is None  # the output already fits two classes; the inputs are left
    assert any("2 Input layers" in m for m in fit.messages)


def test_output_mismatch_names_the_layer_and_the_fix() -> None:
    graph, (_inp, _hidden, out) = mlp(units=4, activation="softmax")
    shapes = ShapeInference().infer(graph)
    name = graph.nodes[out].name
    message = output_mismatch(graph, shapes, DataTarget((2,), "classification", 3))
    assert message == (
        f"Dense '{name}' gives 4 value(s) per sample but the data has 3 classes: "
        "set its units to 3 (softmax)"
    )
    assert output_mismatch(graph, shapes, DataTarget((2,), "classification", 4)) is None
    assert "target has 1" in str(output_mismatch(graph, shapes, DataTarget((2,), "regression")))


def test_output_mismatch_reads_the_output_the_model_returns() -> None:
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [6, 3]}).id
    layer = {"type": "LSTM", "params": {"units": 5, "return_state": True}}
    bi = graph.add_node("Bidirectional", {"layer": layer}).id
    graph.connect(seq, bi)
    graph.set_outputs([f"{bi}:1"])  # the forward h: (None, 5); output 0 is (None, 10)
    shapes = ShapeInference().infer(graph)
    assert output_mismatch(graph, shapes, DataTarget((6, 3), "regression", 0, (5,))) is None
    message = output_mismatch(graph, shapes, DataTarget((6, 3), "regression", 0, (2,)))
    assert message is not None and "gives 5 value(s) per sample" in message


def test_augmentation_goes_between_the_input_and_its_consumers() -> None:
    graph, (inp, hidden, _out) = mlp()
    undo = UndoStack(graph)
    macro = augmentation_macro(graph, [("GaussianNoise", {"stddev": 0.1})])
    undo.push(macro)
    noise = next(n for n in graph.nodes.values() if n.layer_type == "GaussianNoise")
    assert [e.dst for e in graph.out_edges(inp)] == [noise.id]
    assert [e.dst for e in graph.out_edges(noise.id)] == [hidden]
    assert ShapeInference().infer(graph)[noise.id].shape == (None, 2)
    undo.undo()
    assert noise.id not in graph.nodes
    assert [e.dst for e in graph.out_edges(inp)] == [hidden]


def test_augmentation_needs_one_input_and_known_layers() -> None:
    graph, _ids = mlp()
    with pytest.raises(ValueError, match="not available"):
        augmentation_macro(graph, [("NoSuchLayer", {})])
    graph.add_node("Input", {"shape": [3]})
    with pytest.raises(ValueError, match="exactly one Input"):
        augmentation_macro(graph, [("GaussianNoise", {"stddev": 0.1})])
