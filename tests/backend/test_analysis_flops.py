"""FLOPs per sample: equal to TensorFlow's profiler where it sees the ops, by hand elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backend.analysis.flops import estimate_flops
from backend.analysis.summary import Analysis, Summary
from backend.document.graph import LayerGraph
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference

ChainBuilder = Callable[..., list[str]]


def summarize(graph: LayerGraph) -> Summary:
    return Analysis().summarize(graph, ShapeInference().infer(graph))


def profiled_flops(model: Any) -> int:
    """TensorFlow's own count of one sample's forward pass (the graph of a concrete call)."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(
        graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
    )
    return int(profile.total_float_ops)


def flops_of(graph: LayerGraph, node_id: str) -> int | None:
    row = summarize(graph).row(node_id)
    assert row is not None and row.stats is not None
    return row.stats.flops


def test_a_cnn_counts_what_tensorflow_profiles(chain: ChainBuilder, keras: Any) -> None:
    graph = LayerGraph()
    chain(
        graph,
        ("Input", {"shape": [12, 12, 3]}),
        ("Conv2D", {"filters": 8, "kernel_size": [3, 3], "padding": "same"}),
        ("MaxPooling2D", {"pool_size": [2, 2]}),
        ("DepthwiseConv2D", {"kernel_size": [3, 3]}),
        ("SeparableConv2D", {"filters": 6, "kernel_size": [3, 3], "padding": "same"}),
        ("AveragePooling2D", {"pool_size": [2, 2]}),
        ("Conv2D", {"filters": 4, "kernel_size": [1, 1], "use_bias": False}),
        ("Flatten", {}),
        ("Dense", {"units": 10}),
    )
    summary = summarize(graph)
    assert summary.totals.complete
    assert summary.totals.flops == profiled_flops(compile_graph(graph))


def test_dense_and_merge_counts_match_the_profiler(keras: Any) -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [20]}).id
    a = graph.add_node("Dense", {"units": 8}).id
    b = graph.add_node("Dense", {"units": 8, "use_bias": False}).id
    add = graph.add_node("Add").id
    for src, dst in ((x, a), (x, b), (a, add), (b, add)):
        graph.connect(src, dst)
    summary = summarize(graph)
    assert summary.totals.flops == 2 * 20 * 8 + 8 + 2 * 20 * 8 + 8
    assert summary.totals.flops == profiled_flops(compile_graph(graph))


def test_an_lstm_counts_its_kernels_once_per_timestep(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [7, 5]}), ("LSTM", {"units": 6}))
    per_step = 2 * (5 * 24 + 6 * 24) + 24  # kernel, recurrent kernel, bias of four gates
    assert flops_of(graph, ids[1]) == 7 * per_step


def test_multi_head_attention_counts_projections_scores_and_context() -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [6, 4]}).id
    mha = graph.add_node("MultiHeadAttention", {"num_heads": 2, "key_dim": 8}).id
    graph.connect(x, mha, 0)
    graph.connect(x, mha, 1)
    heads, tokens, width, key_dim = 2, 6, 4, 8
    projections = 3 * tokens * (2 * width * heads * key_dim + heads * key_dim)
    output = tokens * (2 * heads * key_dim * width + width)
    attention = 2 * (2 * heads * tokens * tokens * key_dim) + 5 * heads * tokens * tokens
    assert flops_of(graph, mha) == projections + output + attention


def test_pooling_and_normalization_are_small_per_element_costs(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(
        graph,
        ("Input", {"shape": [8, 8, 2]}),
        ("MaxPooling2D", {"pool_size": [2, 2]}),
        ("BatchNormalization", {}),
        ("GlobalAveragePooling2D", {}),
        ("Softmax", {}),
    )
    assert [flops_of(graph, n) for n in ids] == [0, 128, 2 * 32, 32, 5 * 2]


def test_a_type_without_a_rule_has_no_estimate() -> None:
    assert estimate_flops("SomeFutureLayer", object(), [(4,)], (4,)) is None


@pytest.mark.parametrize("layer_type", ["Flatten", "Dropout", "Reshape", "Concatenate"])
def test_reshaping_layers_cost_nothing(layer_type: str) -> None:
    assert estimate_flops(layer_type, object(), [(4, 4)], (16,)) == 0


def test_an_einsum_dense_costs_what_the_same_dense_costs() -> None:
    einsum, dense = LayerGraph(), LayerGraph()
    x = einsum.add_node("Input", {"shape": [16]}).id
    params = {"equation": "ab,bc->ac", "output_shape": 8, "bias_axes": "c"}
    e = einsum.add_node("EinsumDense", params).id
    einsum.connect(x, e)
    y = dense.add_node("Input", {"shape": [16]}).id
    d = dense.add_node("Dense", {"units": 8}).id
    dense.connect(y, d)
    assert flops_of(einsum, e) == flops_of(dense, d) == 2 * 16 * 8 + 8


def test_time_distributed_runs_its_layer_once_per_step() -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [10, 4]}).id
    inner = {"type": "Dense", "params": {"units": 8}}
    wrapped = graph.add_node("TimeDistributed", {"layer": inner}).id
    graph.connect(x, wrapped)
    assert flops_of(graph, wrapped) == 10 * (2 * 4 * 8 + 8)
