"""Shape inference with Keras' own rules, without creating any weights.

Each node's layer is instantiated from its parameters and asked for
`compute_output_spec` on symbolic `KerasTensor`s, after Keras' input-spec check. Results are
cached per node by (type, parameters, input shapes), so after one edit only the nodes whose
inputs or parameters changed are recomputed: everything upstream is a cache hit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.catalog import LayerConfigError, make_layer
from backend.graph import CycleError, LayerGraph, Node
from backend.keras_env import import_keras
from backend.layer_table import LayerInfo, layer_info

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class NodeShape:
    """What inference found for one node: its output shape, or why there is none.

    `blocked` is True when the node has no shape only because something upstream failed,
    so views can mark the cause, not every node after it.
    """

    shape: Shape | None = None
    dtype: str = "float32"
    error: str | None = None
    blocked: bool = False

    @property
    def ok(self) -> bool:
        return self.shape is not None


def format_shape(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "?"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    if len(shape) == 1:
        inner += ","
    return f"({inner})"


def call_layer(info: LayerInfo, fn: Callable[..., Any], inputs: list[Any]) -> Any:
    """Call `fn` (a layer or its compute_output_spec) the way this layer type takes inputs."""
    if info.is_variadic:
        return fn(list(inputs))
    if info.type_name == "MultiHeadAttention":
        key = inputs[2] if len(inputs) > 2 else None
        return fn(inputs[0], inputs[1], key)
    if info.max_inputs > 1:
        return fn(list(inputs))
    return fn(inputs[0])


def _hint(info: LayerInfo, shapes: list[Shape], message: str) -> str:
    rank = len(shapes[0]) if shapes else 0
    image_like = info.type_name.endswith("2D")
    if image_like and rank == 2:
        return " Add a Reshape to make an image (height, width, channels)?"
    if info.category == "Recurrent" and rank == 2:
        return " Recurrent layers need a sequence (timesteps, features): add a Reshape?"
    if info.type_name in ("Add", "Subtract", "Multiply", "Average", "Maximum"):
        return " All inputs must have the same shape: use Concatenate, or a 1x1 convolution."
    if "ndim" in message and rank > 2:
        return " Add Flatten or GlobalAveragePooling first?"
    return ""


class ShapeInference:
    """Infers every node's output shape; reuse one instance to get incremental updates."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, NodeShape]] = {}
        self.recomputed: list[str] = []
        """Node ids computed (not taken from the cache) by the last `infer` call."""

    def infer(self, graph: LayerGraph) -> dict[str, NodeShape]:
        self.recomputed = []
        try:
            order = graph.topological_order()
        except CycleError as exc:
            return {
                nid: NodeShape(error=str(exc)) if nid in exc.node_ids else NodeShape(blocked=True)
                for nid in graph.nodes
            }
        results: dict[str, NodeShape] = {}
        for nid in order:
            node = graph.nodes[nid]
            in_edges = graph.in_edges(nid)
            upstream = [results[e.src] for e in in_edges]
            key = self._key(node, upstream)
            cached = self._cache.get(nid)
            if cached is not None and cached[0] == key:
                results[nid] = cached[1]
                continue
            result = self._infer_node(node, [e.dst_port for e in in_edges], upstream)
            self._cache[nid] = (key, result)
            self.recomputed.append(nid)
            results[nid] = result
        for stale in set(self._cache) - set(graph.nodes):
            del self._cache[stale]
        return results

    @staticmethod
    def _key(node: Node, upstream: list[NodeShape]) -> str:
        try:
            params = json.dumps(node.params, sort_keys=True, default=str)
        except (TypeError, ValueError):
            params = repr(node.params)
        ups = [(u.shape, u.dtype, u.ok) for u in upstream]
        return f"{node.layer_type}|{node.name}|{params}|{ups}"

    def _infer_node(self, node: Node, ports: list[int], upstream: list[NodeShape]) -> NodeShape:
        info = layer_info(node.layer_type)
        label = f"{info.type_name} '{node.name}'"
        if info.is_input:
            return _input_shape(node, label)
        if len(ports) < info.min_inputs:
            needed = ", ".join(info.input_names[: info.min_inputs]) if not info.is_variadic else ""
            what = f"inputs ({needed})" if needed else f"at least {info.min_inputs} inputs"
            return NodeShape(error=f"{label} needs {what}; {len(ports)} connected")
        if not info.is_variadic and ports != list(range(len(ports))):
            return NodeShape(error=f"{label}: connect its inputs in order, without gaps")
        if any(not u.ok for u in upstream):
            return NodeShape(blocked=True)
        keras = import_keras()
        shapes = [u.shape for u in upstream if u.shape is not None]
        tensors = [
            keras.KerasTensor(u.shape, dtype=u.dtype) for u in upstream if u.shape is not None
        ]
        try:
            layer = make_layer(node.layer_type, node.params, node.name)
        except LayerConfigError as exc:
            return NodeShape(error=str(exc))
        got = ", ".join(format_shape(s) for s in shapes)
        try:
            _check_input_spec(layer, tensors if len(tensors) > 1 else tensors[0])
            out = call_layer(info, layer.compute_output_spec, tensors)
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = _hint(info, shapes, message)
            return NodeShape(error=f"{label} cannot take input {got}: {message}{hint}")
        if isinstance(out, (list, tuple)):
            return NodeShape(
                error=f"{label} returns {len(out)} tensors; the canvas takes one output per layer"
            )
        return NodeShape(shape=tuple(out.shape), dtype=str(out.dtype))


def _check_input_spec(layer: Any, inputs: Any) -> None:
    try:
        from keras.src.layers.input_spec import assert_input_compatibility
    except ImportError:  # pragma: no cover - a Keras without the private module
        return
    assert_input_compatibility(layer.input_spec, inputs, layer.name)


def _input_shape(node: Node, label: str) -> NodeShape:
    shape = node.params.get("shape")
    dtype = str(node.params.get("dtype", "float32"))
    if isinstance(shape, int):
        shape = [shape]
    if not isinstance(shape, (list, tuple)) or not shape:
        return NodeShape(error=f"{label} needs a shape such as (28, 28, 1) or (16,)")
    if not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
        return NodeShape(
            error=f"{label}: shape {format_shape(shape)} must hold positive integers or None"
        )
    return NodeShape(shape=(None, *shape), dtype=dtype)


def first_error(results: dict[str, NodeShape]) -> tuple[str, str] | None:
    """The first node with an error of its own, as (node_id, message)."""
    for nid, res in results.items():
        if res.error:
            return nid, res.error
    return None
