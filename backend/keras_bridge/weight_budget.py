"""Will the model's weights fit in memory? Counted before anything is built.

Creating a Keras model allocates and initialises every weight at once; a layer too big for the
machine (`Dense(units=10**9)`) then kills the process inside TensorFlow (SIGSEGV, or the
kernel's OOM killer) before any Python error can say why. `graph_weight_bytes` builds each
layer on symbolic inputs inside a `keras.StatelessScope` that creates the variables' shapes only
(`deferred_weights`: no memory, no initialiser), so a 400-million-parameter layer costs a
millisecond; `weight_memory_problem` compares the total with the free RAM. The compiler refuses
what cannot fit, so every path that builds a model (validate, summary, train, evaluate, export,
the app's Train) stops with the figure instead of crashing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backend.document.graph import Edge, LayerGraph, Node, used_nodes
from backend.document.layer_table import layer_info
from backend.keras_bridge.catalog import make_layer
from backend.keras_bridge.device_memory import ram_memory
from backend.keras_bridge.shapes import (
    NodeShape,
    ShapeInference,
    block_graph,
    call_layer,
    port_shape,
)
from backend.keras_env import import_keras

BUILD_PEAK = 2.2
"""Memory while creating weights, per byte of weights: Keras' initialisers make each value
once more before the variable holds it (2.1 measured for a Dense of 300 million weights)."""
MAX_CACHED = 5_000
_ITEMSIZE = {"bfloat16": 2, "float16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1}
_cache: dict[str, int] = {}
_built: dict[str, tuple[int, int] | None] = {}

Biggest = tuple[str, int, int]
"""(node id, bytes, weight count) of the layer holding the most weights."""


def itemsize(dtype: str) -> int:
    """Bytes per element of a Keras dtype name."""
    if dtype in _ITEMSIZE:
        return _ITEMSIZE[dtype]
    import numpy as np

    try:
        return int(np.dtype(dtype).itemsize)
    except TypeError:
        return 4


@contextmanager
def deferred_weights(keras: Any) -> Iterator[None]:
    """Create Keras variables with their shapes only: no memory, no initialiser run.

    Keras registers such variables to be initialised when the outermost stateless scope ends;
    the registry is swapped for a private list so these orphan variables never are.
    """
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - a Keras without the private module: build for real
        yield
        return
    saved = global_state.get_global_attribute("uninitialized_variables")
    global_state.set_global_attribute("uninitialized_variables", [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", saved)


def memory_problem(total: int, biggest: tuple[str, int, int]) -> str | None:
    """The refusal when creating `total` bytes of weights would not fit in the free RAM;
    `biggest` is (a label such as "Dense 'fc'", its bytes, its weight count)."""
    memory = ram_memory()
    if memory is None or total * BUILD_PEAK <= memory.available:
        return None
    label, size, count = biggest
    return (
        f"{label} holds {count:,} weights ({_size(size)}): the model's weights take "
        f"{_size(total)} and creating them needs about {_size(int(total * BUILD_PEAK))} of "
        f"memory, more than the {_size(memory.available)} free of {_size(memory.total)} RAM. "
        "Make it smaller (fewer units or filters, or a smaller input to it)"
    )


def built_weights(
    type_name: str, params: dict[str, Any], build_config: dict[str, Any] | None
) -> tuple[int, int] | None:
    """(bytes, count) of a layer's weights once built as a saved model says (its
    `build_config`), created as shapes only; None when that cannot be known (no build
    config for a layer whose `build` makes weights). Remembered per layer type, parameters
    (a node's: no name) and build config: DenseNet121's 428 layers have 197 of them."""
    try:
        key = json.dumps([type_name, params, build_config], sort_keys=True)
    except (TypeError, ValueError):  # a value JSON cannot hold: measured each time
        return _built_weights(type_name, params, build_config)
    if key not in _built:
        if len(_built) > MAX_CACHED:
            _built.clear()
        _built[key] = _built_weights(type_name, params, build_config)
    return _built[key]


def _built_weights(
    type_name: str, params: dict[str, Any], build_config: dict[str, Any] | None
) -> tuple[int, int] | None:
    keras = import_keras()
    layer = make_layer(type_name, params, "reference")
    if not build_config:
        return (0, 0) if type(layer).build is keras.layers.Layer.build else None
    with deferred_weights(keras):
        layer.build_from_config(build_config)
    return _sizes(layer)


def weight_memory_problem(
    graph: LayerGraph, shapes: dict[str, NodeShape] | None = None
) -> tuple[str, str | None] | None:
    """(message naming the biggest layer, its node id) when creating the model's weights
    would not fit in the free RAM; None when it fits or nothing can be measured."""
    total, biggest = graph_weight_bytes(graph, shapes)
    if biggest is None:
        return None
    node_id, size, count = biggest
    node = graph.nodes[node_id]
    message = memory_problem(total, (f"{node.layer_type} '{node.name}'", size, count))
    return None if message is None else (message, node_id)


def graph_weight_bytes(
    graph: LayerGraph,
    shapes: dict[str, NodeShape] | None = None,
    used: set[str] | None = None,
) -> tuple[int, Biggest | None]:
    """(bytes of every weight the model holds, its biggest layer), nothing allocated. Layers
    that cannot be measured alone count as 0 (their real build will say what is wrong)."""
    size, _count, biggest = _graph_weights(graph, shapes, used)
    return size, biggest


def _graph_weights(
    graph: LayerGraph, shapes: dict[str, NodeShape] | None, used: set[str] | None
) -> tuple[int, int, Biggest | None]:
    if used is None:
        used = used_nodes(graph)
    shapes = shapes if shapes is not None else ShapeInference().infer(graph)
    keras = import_keras()
    total = count = 0
    biggest: Biggest | None = None
    for node_id in used:
        node = graph.nodes[node_id]
        info = layer_info(node.layer_type)
        if info.is_input or info.is_operation or "shares" in node.params:
            continue  # no weights of its own (a shared layer's are counted on its owner)
        upstream = [port_shape(shapes, e) for e in _inputs(graph, node_id)]
        if any(u is None or u.shape is None for u in upstream):
            continue
        size, weights = _node_weights(keras, node, [u for u in upstream if u is not None])
        total, count = total + size, count + weights
        if biggest is None or size > biggest[1]:
            biggest = (node_id, size, weights)
    return total, count, biggest


def _inputs(graph: LayerGraph, node_id: str) -> list[Edge]:
    return sorted(graph.in_edges(node_id), key=lambda e: e.dst_port)


def _node_weights(keras: Any, node: Node, upstream: list[NodeShape]) -> tuple[int, int]:
    """(bytes, count) of one node's weights; a block's are its inner layers'."""
    key = _key(node, upstream)
    if key in _cache:
        return _cache[key], _cache[key + "#count"]
    try:
        if layer_info(node.layer_type).is_block:
            size, count = _block_weights(node, upstream)
        else:
            size, count = _layer_weights(keras, node, upstream)
    except Exception:  # a layer Keras builds in a model but not alone: its build will say
        size, count = 0, 0
    if len(_cache) > MAX_CACHED:
        _cache.clear()
    _cache[key], _cache[key + "#count"] = size, count
    return size, count


def _layer_weights(keras: Any, node: Node, upstream: list[NodeShape]) -> tuple[int, int]:
    layer = make_layer(node.layer_type, node.params, node.name)
    tensors = [keras.KerasTensor(u.shape, dtype=u.dtype) for u in upstream]
    with deferred_weights(keras):
        call_layer(
            layer_info(node.layer_type), layer, tensors, dict(node.params.get("call_kwargs") or {})
        )
    return _sizes(layer)


def _sizes(layer: Any) -> tuple[int, int]:
    counts = [math.prod(int(d) for d in w.shape) for w in layer.weights]
    sizes = [c * itemsize(str(w.dtype)) for c, w in zip(counts, layer.weights, strict=True)]
    return sum(sizes), sum(counts)


def _block_weights(node: Node, upstream: list[NodeShape]) -> tuple[int, int]:
    inner = block_graph(node.params, f"{node.layer_type} '{node.name}'")
    for inner_input, up in zip(inner.input_nodes(), upstream, strict=False):
        inner_input.params = {**inner_input.params, "shape": list((up.shape or ())[1:])}
        inner_input.params["dtype"] = up.dtype
    size, count, _biggest = _graph_weights(inner, None, None)
    return size, count


def _key(node: Node, upstream: list[NodeShape]) -> str:
    try:
        params = json.dumps(node.params, sort_keys=True, default=str)
    except (TypeError, ValueError):
        params = repr(node.params)
    return f"{node.layer_type}|{params}|{[(u.shape, u.dtype) for u in upstream]}"


def _size(value: int) -> str:
    if value >= 2**30:
        return f"{value / 2**30:,.1f} GiB"
    return f"{value / 2**20:,.1f} MiB"
