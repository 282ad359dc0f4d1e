"""Blocks: group a selection into one node and back, infer and compile through it, built-ins."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.document.graph import GraphError, LayerGraph
from backend.document.layer_table import BLOCK_TYPE, layers_by_category
from backend.editing.blocks import block_summary, group, ungroup
from backend.editing.commands import UndoStack
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference


def residual_graph() -> tuple[LayerGraph, dict[str, str]]:
    """x -> d1 -> d2 -> add(d2, d1) -> head: d2 and add form a residual unit."""
    graph = LayerGraph()
    ids = {}
    for name, layer_type, params in [
        ("x", "Input", {"shape": [8]}),
        ("d1", "Dense", {"units": 8, "activation": "relu"}),
        ("d2", "Dense", {"units": 8}),
        ("add", "Add", {}),
        ("head", "Dense", {"units": 2}),
    ]:
        ids[name] = graph.add_node(layer_type, params, name=name).id
    graph.connect(ids["x"], ids["d1"])
    graph.connect(ids["d1"], ids["d2"])
    graph.connect(ids["d2"], ids["add"], 0)
    graph.connect(ids["d1"], ids["add"], 1)
    graph.connect(ids["add"], ids["head"])
    return graph, ids


def outputs(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False))


def test_group_makes_one_node_with_the_same_model_inside() -> None:
    graph, ids = residual_graph()
    before = compile_graph(graph)
    weights = {layer.name: layer.get_weights() for layer in before.layers}
    undo = UndoStack(graph)

    undo.push(group(graph, [ids["d2"], ids["add"]], "res", ShapeInference().infer(graph)))

    (block,) = [n for n in graph.nodes.values() if n.layer_type == BLOCK_TYPE]
    assert block.name == "res" and set(graph.nodes) == {ids["x"], ids["d1"], ids["head"], block.id}
    assert [e.src for e in graph.in_edges(block.id)] == [ids["d1"]]
    assert [e.dst for e in graph.out_edges(block.id)] == [ids["head"]]
    assert block_summary(block) == "1 input → d2, add (2 layers)"
    shapes = ShapeInference().infer(graph)
    assert shapes[block.id].shape == (None, 8)

    after = compile_graph(graph)
    assert [layer.name for layer in after.layers] == ["x", "d1", "res.d2", "res.add", "head"]
    for layer in after.layers:
        layer.set_weights(weights[layer.name.removeprefix("res.")])
    x = np.random.default_rng(0).random((4, 8)).astype("float32")
    np.testing.assert_allclose(outputs(after, x), outputs(before, x), rtol=1e-6)


def test_group_and_ungroup_undo_and_redo_exactly() -> None:
    graph, ids = residual_graph()
    original = graph.to_dict()
    undo = UndoStack(graph)

    undo.push(group(graph, [ids["d2"], ids["add"]], "res"))
    grouped = graph.to_dict()
    undo.undo()
    assert graph.to_dict() == original
    undo.redo()
    assert graph.to_dict() == grouped

    block_id = next(n for n in graph.nodes if graph.nodes[n].layer_type == BLOCK_TYPE)
    undo.push(ungroup(graph, block_id))
    assert {n.name for n in graph.nodes.values()} == {"x", "d1", "d2", "add", "head"}
    assert set(graph.nodes) == set(ids.values()), "ungroup gives the layers their ids back"
    assert sorted((e.src, e.dst, e.dst_port) for e in graph.edges) == sorted(
        (e["src"], e["dst"], e["dst_port"]) for e in original["edges"]
    )
    undo.undo()
    assert graph.to_dict() == grouped


def test_an_output_node_grouped_keeps_the_block_as_output() -> None:
    graph, ids = residual_graph()
    graph.set_outputs([ids["head"]])
    group(graph, [ids["add"], ids["head"]], "tail").do(graph)
    (block,) = [n for n in graph.nodes.values() if n.layer_type == BLOCK_TYPE]
    assert graph.explicit_outputs == [block.id]
    assert [e.src for e in graph.in_edges(block.id)] == [ids["d2"], ids["d1"]]
    assert compile_graph(graph).output_shape == (None, 2)


def test_a_selection_read_from_two_places_cannot_be_a_block() -> None:
    graph, ids = residual_graph()
    with pytest.raises(GraphError, match=r"one output.*'d1', 'd2'"):
        group(graph, [ids["d1"], ids["d2"]], "bad")
    with pytest.raises(GraphError, match="Input 'x' cannot go into a block"):
        group(graph, [ids["x"], ids["d1"]], "bad")
    with pytest.raises(GraphError, match="select the layers"):
        group(graph, [], "bad")


def test_sharing_across_the_selection_is_refused() -> None:
    graph, ids = residual_graph()
    again = graph.add_node("Dense", name="d2_again")
    again.params = {"shares": ids["d2"]}
    graph.connect(ids["head"], again.id)
    with pytest.raises(GraphError, match="'d2_again' shares the layer of 'd2'"):
        group(graph, [ids["d2"], ids["add"]], "res")


@pytest.mark.parametrize(
    "block_type",
    [info.type_name for info in layers_by_category()["Blocks"]],
)
def test_built_in_blocks_compile_to_plain_layers_and_ungroup(block_type: str) -> None:
    from backend.document.layer_table import layer_info

    (shape,) = layer_info(block_type).example_input
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": list(shape)}, name="x")
    block = graph.add_node(block_type, name="blk")
    graph.connect(x.id, block.id)
    shapes = ShapeInference().infer(graph)
    assert shapes[block.id].ok, shapes[block.id].error
    model = compile_graph(graph)
    assert all(layer.name.startswith("blk.") for layer in model.layers[1:])
    assert tuple(model.output.shape) == shapes[block.id].shape

    ungroup(graph, block.id).do(graph)
    again = compile_graph(graph)
    assert again.count_params() == model.count_params()
    assert tuple(again.output.shape) == shapes[block.id].shape


def test_a_block_inside_a_block_and_a_block_applied_twice() -> None:
    graph, ids = residual_graph()
    group(graph, [ids["d2"], ids["add"]], "inner").do(graph)
    inner = graph.node_by_name("inner")
    group(graph, [ids["d1"], inner.id], "outer").do(graph)
    outer = graph.node_by_name("outer")
    model = compile_graph(graph)
    assert [layer.name for layer in model.layers][1:4] == [
        "outer.d1",
        "outer.inner.d2",
        "outer.inner.add",
    ]
    again = graph.add_node(BLOCK_TYPE, name="outer_again")
    again.params = {"shares": outer.id}
    graph.connect(graph.node_by_name("x").id, again.id)
    join = graph.add_node("Add", name="join")
    graph.connect(outer.id, join.id, 0)
    graph.connect(again.id, join.id, 1)
    graph.remove_node(ids["head"])
    shared = compile_graph(graph)
    assert shared.count_params() == model.count_params() - (8 * 2 + 2), "no new weights"
    assert len(shared.get_layer("outer.d1")._inbound_nodes) == 2
    with pytest.raises(GraphError, match="applied again by 'outer_again'"):
        ungroup(graph, outer.id)


def test_a_block_with_the_wrong_number_of_inputs_says_so() -> None:
    graph, ids = residual_graph()
    group(graph, [ids["d2"], ids["add"]], "res").do(graph)
    block = graph.node_by_name("res")
    graph.connect(graph.node_by_name("x").id, block.id, 1)
    error = ShapeInference().infer(graph)[block.id].error
    assert error == "Block 'res' takes 1 input(s) ('input'); 2 connected"


def test_grouping_keeps_which_output_each_edge_reads() -> None:
    """enc (an LSTM's h and c) -> [dec: LSTM started from h, c; proj] -> out, proj's c too."""
    graph = LayerGraph()
    ids = {}
    for name, layer_type, params in [
        ("seq", "Input", {"shape": [6, 3]}),
        ("enc", "LSTM", {"units": 4, "return_state": True}),
        ("dec", "LSTM", {"units": 4, "return_sequences": True, "return_state": True}),
        ("out", "Dense", {"units": 2}),
    ]:
        ids[name] = graph.add_node(layer_type, params, name=name).id
    graph.connect(ids["seq"], ids["enc"])
    graph.connect(ids["seq"], ids["dec"], 0)
    graph.connect(ids["enc"], ids["dec"], 1, src_port=1)
    graph.connect(ids["enc"], ids["dec"], 2, src_port=2)
    graph.connect(ids["dec"], ids["out"], src_port=0)
    graph.set_outputs([ids["out"], f"{ids['dec']}:2"])
    before = compile_graph(graph)
    weights = {layer.name: layer.get_weights() for layer in before.layers}
    original = graph.to_dict()
    undo = UndoStack(graph)

    undo.push(group(graph, [ids["dec"]], "decode", ShapeInference().infer(graph)))

    (block,) = [n for n in graph.nodes.values() if n.layer_type == BLOCK_TYPE]
    feeds = [(e.src, e.src_port, e.dst_port) for e in graph.in_edges(block.id)]
    assert feeds == [(ids["seq"], 0, 0), (ids["enc"], 1, 1), (ids["enc"], 2, 2)]
    assert [(e.dst, e.src_port) for e in graph.out_edges(block.id)] == [(ids["out"], 0)]
    assert graph.explicit_outputs == [ids["out"], f"{block.id}:1"]
    shapes = ShapeInference().infer(graph)
    assert shapes[block.id].output_count == 2
    assert shapes[block.id].port(1) is not None and shapes[block.id].port(1).shape == (None, 4)
    after = compile_graph(graph)
    for layer in after.layers:
        layer.set_weights(weights[layer.name.removeprefix("decode.")])
    x = np.random.default_rng(0).random((2, 6, 3)).astype("float32")
    for ours, theirs in zip(after(x), before(x), strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6)

    undo.push(ungroup(graph, block.id))
    assert sorted(graph.to_dict()["edges"], key=str) == sorted(original["edges"], key=str)
    assert graph.explicit_outputs == original["outputs"]
