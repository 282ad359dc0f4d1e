"""The live summary: parameters equal Keras' own count, memory and FLOPs per sample, caching."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from backend.analysis.summary import Analysis, Summary, format_bytes, format_count
from backend.document.graph import LayerGraph
from backend.document.layer_table import example_inputs, layer_info
from backend.keras_bridge.catalog import palette_types
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.templates.examples import digits_cnn

ChainBuilder = Callable[..., list[str]]


def summarize(graph: LayerGraph) -> Summary:
    return Analysis().summarize(graph, ShapeInference().infer(graph))


def keras_counts(model: Any) -> tuple[int, int]:
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return trainable, model.count_params() - trainable


def recurrent_graph(chain: ChainBuilder) -> LayerGraph:
    graph = LayerGraph()
    chain(
        graph,
        ("Input", {"shape": [12]}),
        ("Embedding", {"input_dim": 50, "output_dim": 8}),
        ("LSTM", {"units": 16, "return_sequences": True}),
        ("GRU", {"units": 8, "return_sequences": True}),
        ("SimpleRNN", {"units": 4}),
        ("BatchNormalization", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    )
    return graph


def attention_graph() -> LayerGraph:
    """A Transformer encoder block: attention, residual Adds, LayerNormalization, Conv1D."""
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [10, 16]}).id
    mha = graph.add_node("MultiHeadAttention", {"num_heads": 2, "key_dim": 8}).id
    graph.connect(x, mha, 0)
    graph.connect(x, mha, 1)
    add = graph.add_node("Add").id
    graph.connect(x, add)
    graph.connect(mha, add)
    norm = graph.add_node("LayerNormalization").id
    graph.connect(add, norm)
    conv = graph.add_node("Conv1D", {"filters": 16, "kernel_size": 3, "padding": "same"}).id
    graph.connect(norm, conv)
    att = graph.add_node("Attention").id
    graph.connect(conv, att, 0)
    graph.connect(norm, att, 1)
    pool = graph.add_node("GlobalAveragePooling1D").id
    graph.connect(att, pool)
    graph.connect(pool, graph.add_node("Dense", {"units": 2}).id)
    return graph


def convolution_graph(chain: ChainBuilder) -> LayerGraph:
    graph = LayerGraph()
    chain(
        graph,
        ("Input", {"shape": [4, 12, 12, 2]}),
        ("Conv3D", {"filters": 3, "kernel_size": [2, 3, 3]}),
        ("Reshape", {"target_shape": [30, 10, 3]}),
        ("SeparableConv2D", {"filters": 6, "kernel_size": [3, 3], "depth_multiplier": 2}),
        ("DepthwiseConv2D", {"kernel_size": [3, 3], "use_bias": False}),
        ("Conv2DTranspose", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2]}),
        ("BatchNormalization", {"center": False}),
        ("GlobalMaxPooling2D", {}),
        ("Dense", {"units": 5}),
    )
    return graph


def test_digits_example_matches_keras_count_and_its_summary(keras: Any) -> None:
    graph = digits_cnn().graph
    summary = summarize(graph)
    model = compile_graph(graph)
    assert summary.totals.params == model.count_params()
    by_name = {row.name: row for row in summary.rows}
    conv = by_name["conv2d"]
    assert conv.shape == (None, 8, 8, 16)
    assert conv.stats is not None and conv.stats.trainable == 3 * 3 * 1 * 16 + 16
    assert conv.stats.activation_bytes == 8 * 8 * 16 * 4
    dense = by_name["dense"].stats
    assert dense is not None and dense.flops == 2 * 256 * 64 + 64
    assert summary.totals.weight_bytes == model.count_params() * 4
    assert summary.totals.complete


@pytest.mark.parametrize("build", ["recurrent", "attention", "convolution"])
def test_counts_match_keras_exactly(build: str, chain: ChainBuilder, keras: Any) -> None:
    graph = {
        "recurrent": lambda: recurrent_graph(chain),
        "attention": attention_graph,
        "convolution": lambda: convolution_graph(chain),
    }[build]()
    summary = summarize(graph)
    assert all(row.stats is not None for row in summary.rows), summary.rows
    model = compile_graph(graph)
    trainable, frozen = keras_counts(model)
    assert (summary.totals.trainable, summary.totals.non_trainable) == (trainable, frozen)
    assert summary.totals.params == model.count_params()
    for row in summary.rows:
        if row.layer_type != "Input":
            layer = model.get_layer(row.name)
            assert row.stats is not None and row.stats.params == layer.count_params(), row.name


def test_batch_normalization_statistics_are_non_trainable(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [8, 8, 3]}), ("BatchNormalization", {}))
    stats = Analysis().summarize(graph, ShapeInference().infer(graph)).row(ids[1])
    assert stats is not None and stats.stats is not None
    assert (stats.stats.trainable, stats.stats.non_trainable) == (6, 6)
    assert stats.stats.trainable_bytes == 24 and stats.stats.weight_bytes == 48


def test_unused_branches_are_listed_but_left_out_of_the_totals(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [4]}), ("Dense", {"units": 3}))
    graph.set_outputs([ids[1]])
    dead = graph.add_node("Dense", {"units": 100})
    graph.connect(ids[0], dead.id)
    summary = summarize(graph)
    row = summary.row(dead.id)
    assert row is not None and not row.used and row.stats is not None
    assert row.stats.params == 500
    assert summary.totals.params == compile_graph(graph).count_params() == 15


def test_a_huge_layer_is_counted_without_allocating_its_weights(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [200_000]}), ("Dense", {"units": 8192}))
    shapes = ShapeInference().infer(graph)
    start = time.perf_counter()
    summary = Analysis().summarize(graph, shapes)
    elapsed = time.perf_counter() - start
    assert summary.totals.params == 200_000 * 8192 + 8192  # 6.1 GiB of float32 if allocated
    assert elapsed < 2.0
    row = summary.row(ids[1])
    assert row is not None and row.stats is not None
    assert row.stats.weight_bytes == summary.totals.params * 4


def test_a_node_with_a_shape_error_has_no_stats_and_makes_totals_partial(
    chain: ChainBuilder,
) -> None:
    graph = LayerGraph()
    ids = chain(
        graph,
        ("Input", {"shape": [16]}),
        ("Conv2D", {"filters": 4, "kernel_size": [3, 3]}),
        ("Dense", {"units": 2}),
    )
    summary = summarize(graph)
    assert [summary.row(n).stats is None for n in ids] == [False, True, True]  # type: ignore[union-attr]
    assert not summary.totals.complete


def test_an_edit_rebuilds_only_the_changed_node_and_what_its_shape_reaches(
    chain: ChainBuilder,
) -> None:
    graph = LayerGraph()
    ids = chain(
        graph,
        ("Input", {"shape": [8]}),
        ("Dense", {"units": 16}),
        ("Dense", {"units": 4}),
        ("Dropout", {"rate": 0.5}),
        ("Dense", {"units": 2}),
    )
    inference, analysis = ShapeInference(), Analysis()
    analysis.summarize(graph, inference.infer(graph))
    assert sorted(analysis.recomputed) == sorted(ids)
    graph.set_params(ids[3], {"rate": 0.1})  # same shapes: only the Dropout
    analysis.summarize(graph, inference.infer(graph))
    assert analysis.recomputed == [ids[3]]
    graph.set_params(ids[1], {"units": 32})  # its own count and the next Dense's input
    analysis.summarize(graph, inference.infer(graph))
    assert analysis.recomputed == [ids[1], ids[2]]
    assert analysis.params_of(ids[1]) == 8 * 32 + 32
    assert analysis.params_of(ids[2]) == 32 * 4 + 4
    graph.rename_node(ids[4], "head")  # a new name changes no count
    analysis.summarize(graph, inference.infer(graph))
    assert analysis.recomputed == []
    graph.remove_node(ids[4])
    analysis.summarize(graph, inference.infer(graph))
    assert analysis.params_of(ids[4]) is None


def test_activation_memory_counts_every_used_output_per_sample(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    chain(graph, ("Input", {"shape": [10]}), ("Dense", {"units": 6}), ("Dense", {"units": 2}))
    assert summarize(graph).totals.activation_bytes == (10 + 6 + 2) * 4


def test_deferred_weights_leave_no_variables_to_initialise_later(
    chain: ChainBuilder, keras: Any
) -> None:
    from keras.src.backend.common import global_state

    graph = LayerGraph()
    chain(graph, ("Input", {"shape": [64]}), ("Dense", {"units": 64}))
    summarize(graph)
    pending = global_state.get_global_attribute("uninitialized_variables") or []
    assert not pending


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (999, "999"), (9_999, "9,999"), (12_345, "12.3 K"), (4_500_000, "4.5 M")],
)
def test_format_count(value: int | None, text: str) -> None:
    assert format_count(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (512, "512 B"),
        (3 * 1024, "3.0 KiB"),
        (3 << 30, "3.0 GiB"),
        (5 << 40, "5120.0 GiB"),
    ],
)
def test_format_bytes(value: int | None, text: str) -> None:
    assert format_bytes(value) == text


def single_layer_graph(layer_type: str, params: dict[str, Any] | None = None) -> LayerGraph:
    """Inputs of the layer's example shapes and dtypes feeding one node of `layer_type`."""
    info = layer_info(layer_type)
    graph = LayerGraph()
    inputs = [graph.add_node("Input", params).id for params in example_inputs(info)]
    node = graph.add_node(layer_type, {**info.required, **(params or {})})
    for port, src in enumerate(inputs):
        graph.connect(src, node.id, port)
    return graph


@pytest.mark.slow
def test_every_palette_layer_counts_what_keras_counts(keras: Any) -> None:
    wrong: list[str] = []
    no_flops: list[str] = []
    for layer_type in palette_types():
        if layer_info(layer_type).is_input:
            continue
        graph = single_layer_graph(layer_type)
        shapes = ShapeInference().infer(graph)
        summary = Analysis().summarize(graph, shapes)
        row = summary.rows[-1]
        if row.stats is None:
            wrong.append(f"{layer_type}: {row.error}")
            continue
        counted = compile_graph(graph, shapes).count_params()
        if summary.totals.params != counted:
            wrong.append(f"{layer_type}: {summary.totals.params} != Keras {counted}")
        if row.stats.flops is None:
            no_flops.append(layer_type)
    assert not wrong, wrong
    assert set(no_flops) <= {
        "MelSpectrogram",
        "STFTSpectrogram",
        "ContrastLimitedAdaptiveHistogramEqualization",
    }


def test_a_shared_layer_counts_its_weights_once(keras: Any) -> None:
    graph = LayerGraph()
    left = graph.add_node("Input", {"shape": [6]}).id
    right = graph.add_node("Input", {"shape": [6]}).id
    owner = graph.add_node("Dense", {"units": 4}).id
    sharer = graph.add_node("Dense", {"units": 4, "shares": owner}).id
    join = graph.add_node("Concatenate").id
    for src, dst in ((left, owner), (right, sharer), (owner, join), (sharer, join)):
        graph.connect(src, dst)
    summary = summarize(graph)
    assert summary.totals.params == compile_graph(graph).count_params() == 6 * 4 + 4
    shared = summary.row(sharer)
    assert shared is not None and shared.stats is not None
    assert shared.stats.params == 0 and shared.stats.flops == 2 * 6 * 4 + 4


def test_a_block_adds_up_its_subgraph_and_can_be_frozen(keras: Any) -> None:
    graph = single_layer_graph("ResidualBlock")
    block_id = list(graph.nodes)[-1]
    stats = summarize(graph).row(block_id).stats  # type: ignore[union-attr]
    model = compile_graph(graph)
    assert stats is not None and stats.params == model.count_params()
    assert stats.flops is not None and stats.flops > 0
    graph.set_params(block_id, {"trainable": False})
    frozen = summarize(graph).row(block_id).stats  # type: ignore[union-attr]
    model = compile_graph(graph)
    assert frozen is not None and frozen.trainable == 0 == len(model.trainable_weights)
    assert frozen.non_trainable == model.count_params()


def test_bidirectional_costs_both_directions() -> None:
    inner = {"type": "LSTM", "params": {"units": 16}}
    graph = single_layer_graph("Bidirectional", {"layer": inner})
    lstm = single_layer_graph("LSTM", {"units": 16})
    both = summarize(graph).rows[-1].stats
    one = summarize(lstm).rows[-1].stats
    assert both is not None and one is not None and one.flops is not None
    assert both.flops == 2 * one.flops and both.params == 2 * one.params
