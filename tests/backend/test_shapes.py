"""Shape inference: Keras' own shape rules, errors that name the node, incremental updates."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.document.graph import LayerGraph
from backend.keras_bridge.shapes import (
    NodeShape,
    ShapeInference,
    first_error,
    format_shape,
    plain_spec_message,
)
from backend.templates.examples import digits_cnn

ChainBuilder = Callable[..., list[str]]


def shapes_by_name(graph: LayerGraph, results: dict[str, NodeShape]) -> dict[str, object]:
    return {graph.nodes[nid].name: r.shape for nid, r in results.items()}


def test_the_digits_example_has_exact_shapes() -> None:
    graph = digits_cnn().graph
    results = ShapeInference().infer(graph)
    assert all(r.ok and r.error is None for r in results.values())
    assert shapes_by_name(graph, results) == {
        "input": (None, 8, 8, 1),
        "conv2d": (None, 8, 8, 16),
        "max_pooling2d": (None, 4, 4, 16),
        "flatten": (None, 256),
        "dense": (None, 64),
        "dropout": (None, 64),
        "dense_1": (None, 10),
    }
    assert {r.dtype for r in results.values()} == {"float32"}


@pytest.mark.parametrize(
    ("shape", "text"),
    [((None,), "(None,)"), ((None, 8), "(None, 8)"), ((None, 8, 8, 16), "(None, 8, 8, 16)")],
)
def test_format_shape(shape: tuple[int | None, ...], text: str) -> None:
    assert format_shape(shape) == text


def test_format_shape_of_nothing() -> None:
    assert format_shape(None) == "?"


def test_conv2d_fed_a_vector_names_itself_and_what_it_got(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [16]}), ("Conv2D", {}), ("Flatten", {}))
    graph.rename_node(ids[1], "edge_detector")
    results = ShapeInference().infer(graph)
    error = results[ids[1]].error
    assert error is not None
    assert "edge_detector" in error
    assert "(None, 16)" in error
    assert "Reshape" in error  # the hint for an image layer fed a vector
    assert "it needs at least 4 axes, the batch's included; this input has 2" in error
    assert "with name 'None'" not in error and "ndim" not in error  # not Keras' raw words
    assert results[ids[2]] == NodeShape(blocked=True)  # downstream: blocked, not blamed
    assert first_error(results) == (ids[1], error)


def test_an_image_into_a_recurrent_layer_is_said_in_plain_words(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [4, 4, 3]}), ("LSTM", {"units": 4}))
    error = ShapeInference().infer(graph)[ids[-1]].error
    assert error is not None and error.endswith(  # a Reshape to a sequence, not a Flatten
        "it needs 3 axes, the batch's included; this input has 4. Recurrent layers need a "
        "sequence (timesteps, features): add a Reshape?"
    ), error


@pytest.mark.parametrize(
    ("spec", "shape", "said"),
    [
        (
            {"axes": {-1: 64}},
            (None, 32),
            "axis -1 of input 2 must be 64 (the size it was built for).",
        ),
        ({"dtype": "float32"}, (None, 32), "it needs float32 values; input 2 holds int32."),
        (
            {"max_ndim": 3},
            (None, 2, 2, 2),
            "it needs at most 3 axes, the batch's included; input 2 has 4.",
        ),
    ],
)
def test_keras_own_refusals_are_said_in_plain_words(
    spec: dict[str, object], shape: tuple[int | None, ...], said: str
) -> None:
    import keras
    from keras.src.layers.input_spec import assert_input_compatibility

    specs = [keras.InputSpec(), keras.InputSpec(**spec)]  # type: ignore[arg-type]
    tensors = [keras.KerasTensor((None, 32)), keras.KerasTensor(shape, dtype="int32")]
    with pytest.raises(ValueError) as refused:
        assert_input_compatibility(specs, tensors, "layer")
    assert plain_spec_message(str(refused.value)) == said
    assert plain_spec_message("another message") == "another message"


def test_add_of_different_shapes_names_itself_and_both_shapes() -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [4]})
    b = graph.add_node("Input", {"shape": [5]})
    join = graph.add_node("Add", name="skip_join")
    graph.connect(a.id, join.id)
    graph.connect(b.id, join.id)
    error = ShapeInference().infer(graph)[join.id].error
    assert error is not None
    assert "skip_join" in error
    assert "(None, 4)" in error and "(None, 5)" in error


def test_a_merge_with_one_input_says_how_many_it_needs(chain: ChainBuilder) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [4]}), ("Concatenate", {}))
    error = ShapeInference().infer(graph)[ids[1]].error
    assert error == "Concatenate 'concatenate' needs at least 2 inputs; 1 connected"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"units": 8, "unit": 3}, "has no parameter 'unit'"),
        ({"units": 0}, "Dense 'dense'"),
        ({"units": 8, "activation": "no_such_activation"}, "no_such_activation"),
    ],
)
def test_parameters_keras_refuses_are_reported_on_the_node(
    chain: ChainBuilder, params: dict[str, object], expected: str
) -> None:
    graph = LayerGraph()
    ids = chain(graph, ("Input", {"shape": [4]}), ("Dense", params))
    result = ShapeInference().infer(graph)[ids[1]]
    assert not result.ok
    assert result.error is not None and expected in result.error


@pytest.mark.parametrize("shape", [[], [0], [8, -1], "eight", [2.5]])
def test_an_input_needs_a_positive_shape(shape: object) -> None:
    graph = LayerGraph()
    node = graph.add_node("Input", {"shape": shape}, name="pixels")
    error = ShapeInference().infer(graph)[node.id].error
    assert error is not None and "Input 'pixels'" in error


def test_an_input_shape_may_leave_a_dimension_open() -> None:
    graph = LayerGraph()
    node = graph.add_node("Input", {"shape": [None, 4]})
    assert ShapeInference().infer(graph)[node.id].shape == (None, None, 4)


# ----------------------------------------------------------------- incremental
def test_a_parameter_edit_recomputes_only_the_node_and_its_descendants() -> None:
    graph = digits_cnn().graph
    by_name = {n.name: nid for nid, n in graph.nodes.items()}
    inference = ShapeInference()
    inference.infer(graph)
    assert sorted(inference.recomputed) == sorted(graph.nodes)  # first pass: everything

    inference.infer(graph)
    assert inference.recomputed == []  # nothing changed: all cache hits

    dense = by_name["dense"]
    graph.set_params(dense, {"units": 32})
    results = inference.infer(graph)
    assert set(inference.recomputed) == {dense} | graph.descendants(dense)
    assert set(inference.recomputed) == {by_name[n] for n in ("dense", "dropout", "dense_1")}
    assert results[dense].shape == (None, 32)
    assert results[by_name["dense_1"]].shape == (None, 10)


def test_an_edit_that_keeps_the_shape_stops_at_the_node() -> None:
    graph = digits_cnn().graph
    conv = graph.node_by_name("conv2d").id
    inference = ShapeInference()
    inference.infer(graph)
    graph.set_params(conv, {"activation": "tanh"})
    inference.infer(graph)
    assert inference.recomputed == [conv]  # same output shape: descendants are cache hits
    graph.set_params(conv, {"filters": 4})
    results = inference.infer(graph)
    assert set(inference.recomputed) <= {conv} | graph.descendants(conv)
    # the change travels down to `dense`, whose output keeps its shape: it stops there
    names = [graph.nodes[nid].name for nid in inference.recomputed]
    assert names == ["conv2d", "max_pooling2d", "flatten", "dense"]
    assert results[graph.node_by_name("flatten").id].shape == (None, 64)


def test_a_removed_node_leaves_the_cache() -> None:
    graph = digits_cnn().graph
    inference = ShapeInference()
    inference.infer(graph)
    head = graph.node_by_name("dense_1").id
    graph.remove_node(head)
    results = inference.infer(graph)
    assert head not in results
    assert inference.recomputed == []


# ----------------------------------------------------------------- several outputs
def recurrent_states(**lstm: object) -> tuple[LayerGraph, dict[str, str]]:
    graph = LayerGraph()
    ids = {
        "seq": graph.add_node("Input", {"shape": [6, 3]}, name="seq").id,
        "enc": graph.add_node("LSTM", {"units": 4, **lstm}, name="enc").id,
        "dec_in": graph.add_node("Input", {"shape": [5, 2]}, name="dec_in").id,
        "dec": graph.add_node("GRU", {"units": 4, "return_state": True}, name="dec").id,
        "head": graph.add_node("Dense", {"units": 3}, name="head").id,
    }
    graph.connect(ids["seq"], ids["enc"])
    graph.connect(ids["dec_in"], ids["dec"], 0)
    graph.connect(ids["enc"], ids["dec"], 1, src_port=2)  # the LSTM's c starts the GRU
    graph.connect(ids["dec"], ids["head"], src_port=1)  # the GRU's final state
    return graph, ids


def test_a_layer_returning_several_tensors_has_an_output_per_tensor() -> None:
    graph, ids = recurrent_states(return_state=True, return_sequences=True)
    results = ShapeInference().infer(graph)

    enc = results[ids["enc"]]
    assert enc.output_count == 3
    assert [enc.port(i) for i in range(4)] == [
        NodeShape((None, 6, 4)),
        NodeShape((None, 4)),
        NodeShape((None, 4)),
        None,
    ]
    assert enc.shape == (None, 6, 4)  # output 0 is the node's shape, as for any layer
    assert results[ids["dec"]].output_count == 2
    assert results[ids["head"]] == NodeShape((None, 3))


def test_how_many_outputs_follows_the_configuration_and_a_missing_one_is_named() -> None:
    graph, ids = recurrent_states(return_state=True)
    inference = ShapeInference()
    assert inference.infer(graph)[ids["dec"]].ok

    graph.set_params(ids["enc"], {"return_state": False})
    results = inference.infer(graph)

    assert results[ids["enc"]].output_count == 1
    assert results[ids["dec"]].error == (
        "GRU 'dec' reads output 2 of LSTM 'enc', which has one output"
    )
    assert results[ids["head"]] == NodeShape(blocked=True)


def test_initial_states_that_do_not_fit_the_layer_are_named() -> None:
    graph, ids = recurrent_states(return_state=True, units=7)
    results = ShapeInference().infer(graph)
    assert results[ids["dec"]].error == (
        "GRU 'dec': initial state 1 must have the shape (None, 4), got (None, 7)"
    )
    graph.set_params(ids["enc"], {"units": 4})
    lstm = graph.add_node("LSTM", {"units": 4}, name="second").id
    graph.connect(ids["dec_in"], lstm, 0)
    graph.connect(ids["enc"], lstm, 1, src_port=1)  # h without c
    results = ShapeInference().infer(graph)
    assert results[lstm].error == "LSTM 'second': it takes 2 initial state(s), 1 connected"
    graph.connect(ids["enc"], lstm, 2, src_port=2)
    assert ShapeInference().infer(graph)[lstm] == NodeShape((None, 4))


def test_attention_with_its_scores_and_a_bidirectional_lstm_with_its_states() -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [5, 8]}, name="x").id
    mha = graph.add_node(
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4, "call_kwargs": {"return_attention_scores": True}},
        name="mha",
    ).id
    bi = graph.add_node(
        "Bidirectional",
        {"layer": {"type": "LSTM", "params": {"units": 3, "return_state": True}}},
        name="bi",
    ).id
    graph.connect(x, mha, 0)
    graph.connect(x, mha, 1)
    graph.connect(x, bi)

    results = ShapeInference().infer(graph)

    assert [results[mha].port(i) for i in range(2)] == [
        NodeShape((None, 5, 8)),
        NodeShape((None, 2, 5, 5)),
    ]
    assert results[bi].output_count == 5
    assert results[bi].port(0) == NodeShape((None, 6))
    assert {results[bi].port(i) for i in range(1, 5)} == {NodeShape((None, 3))}
    graph.set_params(mha, {"call_kwargs": {}})
    assert ShapeInference().infer(graph)[mha].output_count == 1
