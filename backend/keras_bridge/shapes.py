"""Shape inference with Keras' own rules, without creating any weights.

Each node's layer is instantiated from its parameters and asked for
`compute_output_spec` on symbolic `KerasTensor`s (with the node's constant call arguments,
such as `return_attention_scores`), after Keras' input-spec check. Results are cached per node
by (type, parameters, input shapes), so after one edit only the nodes whose inputs or
parameters changed are recomputed: everything upstream is a cache hit.

A call that returns several tensors (`LSTM(return_state=True)`, attention with its scores, a
nested model with several outputs) gives a node with several outputs: `NodeShape.shape` is
output 0 and `more` the others, so the number of output ports follows the layer's
configuration as Keras computes it. An edge reads the output its `src_port` names
(`port_shape`); an edge from an output the node does not have is an error of the node it
feeds, naming both.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.document.graph import CycleError, Edge, GraphError, LayerGraph, Node
from backend.document.layer_table import LayerInfo, UnknownLayerError, layer_info
from backend.keras_bridge.catalog import LayerConfigError, make_layer
from backend.keras_bridge.operations import call_arguments, input_count, make_operation
from backend.keras_env import import_keras

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
    more: tuple[NodeShape, ...] = ()
    """Outputs 1, 2... of a layer whose call returns several tensors (`shape` is output 0)."""

    @property
    def ok(self) -> bool:
        return self.shape is not None

    @property
    def output_count(self) -> int:
        """How many output ports the node has (0 while its shape is unknown)."""
        return 1 + len(self.more) if self.ok else 0

    def port(self, index: int) -> NodeShape | None:
        """Output `index` alone; None when the node has no such output."""
        if index == 0:
            return self if not self.more else NodeShape(self.shape, self.dtype)
        return self.more[index - 1] if 0 < index <= len(self.more) else None


def port_shape(results: dict[str, NodeShape], edge: Edge) -> NodeShape | None:
    """What `edge` carries: the output `edge.src_port` of its source (None when not inferred,
    or when the source has no such output; the source's own result when it has none)."""
    result = results.get(edge.src)
    if result is None or not result.ok:
        return result
    return result.port(edge.src_port)


def format_shape(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "?"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    if len(shape) == 1:
        inner += ","
    return f"({inner})"


def call_layer(
    info: LayerInfo, fn: Callable[..., Any], inputs: list[Any], kwargs: dict[str, Any] | None = None
) -> Any:
    """Call `fn` (a layer or its compute_output_spec) the way this layer type takes inputs."""
    kwargs = kwargs or {}
    if info.positional_inputs:  # query, value[, key]
        return fn(*inputs, **kwargs)
    if info.state_inputs:  # the sequence, then any starting states
        if len(inputs) > 1:
            kwargs = {**kwargs, "initial_state": list(inputs[1:])}
        return fn(inputs[0], **kwargs)
    if info.is_variadic or info.max_inputs > 1:
        return fn(list(inputs), **kwargs)
    return fn(inputs[0], **kwargs)


def output_list(result: Any) -> list[Any]:
    """A call's result as a list of its outputs: one tensor, or the tensors it returns."""
    if isinstance(result, dict):
        return list(result.values())
    if isinstance(result, (list, tuple)):
        return [t for item in result for t in output_list(item)]
    return [result]


def spec_kwargs(layer: Any, call_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call arguments `compute_output_spec` takes: those of the layer's `call`
    (`training` is left to Keras, which drops it for layers that do not take it)."""
    try:
        accepted = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):  # pragma: no cover - a call without a signature
        return {}
    return {k: v for k, v in call_kwargs.items() if k in accepted and k != "training"}


_SPEC_REFUSAL = re.compile(
    r"Input (?P<index>\d+) with name '[^']*' of layer '[^']*' is incompatible with the layer: "
    r"expected (?P<what>.*?)(?:\. Full shape received: .*)?$"
)
_RANK = re.compile(r"(?P<bound>min_|max_)?ndim=(?P<want>\d+), found ndim=(?P<found>\d+)")
_AXIS = re.compile(r"axis (?P<axis>-?\d+) of input shape to have value (?P<value>\d+)")
_DTYPE = re.compile(r"dtype=(?P<want>\w+), found dtype=(?P<found>\w+)")


def plain_spec_message(message: str) -> str:
    """Keras' input-spec refusal ("Input 0 with name 'None' of layer 'conv2d' is incompatible
    with the layer: expected min_ndim=4, found ndim=2. Full shape received: (None, 64)") in a
    student's words ("it needs at least 4 axes, the batch's included; this input has 2");
    any other message as it is."""
    refusal = _SPEC_REFUSAL.match(message)
    if refusal is None:
        return message
    index = int(refusal["index"])
    which = "this input" if index == 0 else f"input {index + 1}"
    what = refusal["what"]
    if rank := _RANK.match(what):
        bound = {"min_": "at least ", "max_": "at most ", None: ""}[rank["bound"]]
        return (
            f"it needs {bound}{rank['want']} axes, the batch's included; "
            f"{which} has {rank['found']}."
        )
    if axis := _AXIS.match(what):
        size = axis["value"]
        return f"axis {axis['axis']} of {which} must be {size} (the size it was built for)."
    if dtype := _DTYPE.match(what):
        return f"it needs {dtype['want']} values; {which} holds {dtype['found']}."
    return message


def _hint(info: LayerInfo, shapes: list[Shape], message: str) -> str:
    rank = len(shapes[0]) if shapes else 0
    image_like = info.type_name.endswith("2D")
    if image_like and rank == 2:
        return " Add a Reshape to make an image (height, width, channels)?"
    if info.category == "Recurrent" and rank != 3:
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
        self._blocks: dict[str, ShapeInference] = {}
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
            layer_node = shared_owner(graph, node)
            in_edges = graph.in_edges(nid)
            upstream = [_edge_input(graph, results, e) for e in in_edges]
            key = self._key(node, layer_node, upstream)
            cached = self._cache.get(nid)
            if cached is not None and cached[0] == key:
                results[nid] = cached[1]
                continue
            if layer_node is None:
                owner = graph.nodes.get(str(node.params.get("shares")))
                what = f"'{owner.name}', which" if owner is not None else "a layer that"
                result = NodeShape(
                    error=f"{node.layer_type} '{node.name}' shares {what} no longer exists "
                    "or is not a layer of the same kind"
                )
            else:
                ports = [e.dst_port for e in in_edges]
                result = self._infer_node(node, layer_node, ports, upstream)
            self._cache[nid] = (key, result)
            self.recomputed.append(nid)
            results[nid] = result
        for stale in set(self._cache) - set(graph.nodes):
            del self._cache[stale]
            self._blocks.pop(stale, None)
        return results

    @staticmethod
    def _key(node: Node, layer_node: Node | None, upstream: list[NodeShape]) -> str:
        source = layer_node or node
        try:
            params = json.dumps(source.params, sort_keys=True, default=str)
        except (TypeError, ValueError):
            params = repr(source.params)
        ups = [(u.shape, u.dtype, u.ok, u.error) for u in upstream]
        call = json.dumps(node.params.get("call_kwargs"), sort_keys=True, default=str)
        return f"{node.layer_type}|{node.name}|{source.id}|{params}|{call}|{ups}"

    def _infer_node(
        self, node: Node, layer_node: Node, ports: list[int], upstream: list[NodeShape]
    ) -> NodeShape:
        info = layer_info(layer_node.layer_type)
        label = f"{info.type_name} '{node.name}'"
        if info.is_input:
            return _input_shape(node, label)
        if len(ports) < info.min_inputs:
            needed = ", ".join(info.input_names[: info.min_inputs]) if not info.is_variadic else ""
            what = f"inputs ({needed})" if needed else f"at least {info.min_inputs} inputs"
            return NodeShape(error=f"{label} needs {what}; {len(ports)} connected")
        if not info.is_variadic and ports != list(range(len(ports))):
            return NodeShape(error=f"{label}: connect its inputs in order, without gaps")
        missing = next((u.error for u in upstream if u.error), None)
        if missing:  # an edge from an output its source does not have
            return NodeShape(error=f"{label} reads {missing}")
        if any(not u.ok for u in upstream):
            return NodeShape(blocked=True)
        if info.is_block:
            inference = self._blocks.setdefault(layer_node.id, ShapeInference())
            return inference.infer_block(layer_node.params, upstream, label)
        keras = import_keras()
        shapes = [u.shape for u in upstream if u.shape is not None]
        tensors = [
            keras.KerasTensor(u.shape, dtype=u.dtype) for u in upstream if u.shape is not None
        ]
        got = ", ".join(format_shape(s) for s in shapes)
        if info.is_operation:
            return _infer_operation(layer_node, node.name, ports, tensors, got)
        try:
            layer = make_layer(layer_node.layer_type, layer_node.params, node.name)
        except LayerConfigError as exc:
            return NodeShape(error=str(exc))
        kwargs = spec_kwargs(layer, dict(node.params.get("call_kwargs") or {}))
        try:
            checked = tensors if len(tensors) > 1 and not info.state_inputs else tensors[0]
            _check_input_spec(layer, checked)
            if info.state_inputs and len(tensors) > 1:
                problem = _initial_state_problem(layer_node, node.name, tensors)
                if problem:
                    return NodeShape(error=f"{label}: {problem}")
            if info.keras_module:  # application code without compute_output_shape
                layer.build(shapes[0] if len(shapes) == 1 else shapes)
            out = call_layer(info, layer.compute_output_spec, tensors, kwargs)
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = _hint(info, shapes, message)
            return NodeShape(
                error=f"{label} cannot take input {got}: {plain_spec_message(message)}{hint}"
            )
        return outputs_shape([NodeShape(tuple(t.shape), str(t.dtype)) for t in output_list(out)])

    def infer_block(
        self, params: dict[str, Any], upstream: list[NodeShape], label: str
    ) -> NodeShape:
        """A block's output shape: its subgraph inferred on the incoming shapes."""
        try:
            inner = block_graph(params, label)
        except GraphError as exc:
            return NodeShape(error=str(exc))
        inputs = inner.input_nodes()
        if len(inputs) != len(upstream):
            names = ", ".join(f"'{n.name}'" for n in inputs)
            return NodeShape(
                error=f"{label} takes {len(inputs)} input(s) ({names}); {len(upstream)} connected"
            )
        for node, up in zip(inputs, upstream, strict=True):
            node.params = {**node.params, "shape": list((up.shape or ())[1:]), "dtype": up.dtype}
        results = self.infer(inner)
        for result in results.values():
            if result.error:
                return NodeShape(error=f"{label}: inside, {result.error}")
        refs = inner.output_ports
        if not refs:
            return NodeShape(error=f"{label} has no output")
        outputs = []
        for nid, port in refs:
            out = results[nid].port(port) if results[nid].ok else None
            if out is None:
                name = inner.nodes[nid].name
                return NodeShape(error=f"{label}: inside, '{name}' has no output {port}")
            outputs.append(out)
        return outputs_shape(outputs)


def _infer_operation(
    owner: Node, name: str, ports: list[int], tensors: list[Any], got: str
) -> NodeShape:
    """A keras.ops operation's outputs, from its own `compute_output_spec`."""
    label = f"Operation '{name}'"
    try:
        op = make_operation(owner.params, name)
        needed = input_count(owner.params)
        if ports != list(range(needed)):
            what = f"{needed} input{'s' if needed != 1 else ''}"
            return NodeShape(
                error=f"{label} ({type(op).__name__}) takes {what}; {len(ports)} connected"
            )
        args, kwargs = call_arguments(owner.params, tensors, label)
        out = op.compute_output_spec(*args, **kwargs)
    except LayerConfigError as exc:
        return NodeShape(error=str(exc))
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return NodeShape(error=f"{label} cannot take input {got}: {message}")
    return outputs_shape([NodeShape(tuple(t.shape), str(t.dtype)) for t in output_list(out)])


def outputs_shape(outputs: list[NodeShape]) -> NodeShape:
    """One node's result from its outputs' shapes, in order (at least one)."""
    first = outputs[0]
    return NodeShape(first.shape, first.dtype, more=tuple(outputs[1:]))


def output_labels(graph: LayerGraph, node: Node, count: int) -> list[str]:
    """A short name per output of a node with `count` outputs, for ports and variables:
    `output, h, c` (an LSTM's states), `output, scores` (attention), the inner layers' names
    (a block), else `output, output_1...`. The count itself comes from inference."""
    if count <= 1:
        return ["output"][:count]
    owner = shared_owner(graph, node) or node
    info = layer_info(owner.layer_type)
    if info.is_block:
        try:
            inner = block_graph(owner.params, node.name)
            names = [
                inner.nodes[nid].name + (f"_{port}" if port else "")
                for nid, port in inner.output_ports
            ]
        except GraphError:
            names = []
        if len(names) == count and len(set(names)) == count:
            return names
    elif info.category == "Attention" and count == 2:
        return ["output", "scores"]
    elif info.state_inputs:
        if info.is_wrapper and (count - 1) % 2 == 0:
            per_side = _state_names((count - 1) // 2)
            return [
                "output",
                *(f"{side}_{n}" for side in ("forward", "backward") for n in per_side),
            ]
        return ["output", *_state_names(count - 1)]
    return ["output", *(f"output_{i}" for i in range(1, count))]


def _state_names(count: int) -> list[str]:
    if count == 1:
        return ["state"]
    if count == 2:
        return ["h", "c"]
    return [f"state_{i}" for i in range(count)]


def _edge_input(graph: LayerGraph, results: dict[str, NodeShape], edge: Edge) -> NodeShape:
    """The input an edge brings: its source's output `src_port`, or as an error (in the words
    of the node it feeds) which output it asks for of a source that lacks it."""
    source = results[edge.src]
    if not source.ok:
        return NodeShape(blocked=True)
    out = source.port(edge.src_port)
    if out is not None:
        return out
    node = graph.nodes[edge.src]
    count = source.output_count
    has = "one output" if count == 1 else f"{count} outputs (0 to {count - 1})"
    what = f"{layer_info(node.layer_type).type_name} '{node.name}'"
    return NodeShape(error=f"output {edge.src_port} of {what}, which has {has}")


def shared_owner(graph: LayerGraph, node: Node) -> Node | None:
    """The node whose layer `node` applies: itself, or the one its `shares` parameter names.

    None when the shared node is gone or is of another kind.
    """
    owner_id = node.params.get("shares")
    if owner_id is None:
        return node
    owner = graph.nodes.get(str(owner_id))
    if owner is None or owner.layer_type != node.layer_type or "shares" in owner.params:
        return None
    return owner


def block_graph(params: dict[str, Any], label: str) -> LayerGraph:
    """A block node's subgraph as a graph; GraphError names the block when it is malformed."""
    raw = params.get("graph")
    try:
        return LayerGraph.from_dict(raw if isinstance(raw, dict) else {})
    except (GraphError, UnknownLayerError) as exc:
        raise GraphError(f"{label}: its subgraph is malformed: {exc}") from exc


def _initial_state_problem(layer_node: Node, name: str, tensors: list[Any]) -> str | None:
    """Why the starting states connected to a recurrent layer do not fit it, or None.

    Keras does not check them before building the layer, so compare them with the states the
    same layer returns with `return_state=True` (which knows its cell: h and c for an LSTM,
    both directions for a Bidirectional)."""
    params = dict(layer_node.params)
    inner = params.get("layer")
    if isinstance(inner, dict):
        params["layer"] = {**inner, "params": {**(inner.get("params") or {}), "return_state": True}}
    else:
        params["return_state"] = True
    reference = make_layer(layer_node.layer_type, params, name)
    expected = output_list(reference.compute_output_spec(tensors[0]))[1:]
    given = tensors[1:]
    if len(given) != len(expected):
        return f"it takes {len(expected)} initial state(s), {len(given)} connected"
    for i, (got, want) in enumerate(zip(given, expected, strict=True)):
        if tuple(got.shape[1:]) != tuple(want.shape[1:]):
            return (
                f"initial state {i + 1} must have the shape {format_shape(want.shape)}, "
                f"got {format_shape(got.shape)}"
            )
    return None


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
