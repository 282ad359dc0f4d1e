"""Graph to `keras.Model`: validate, sort, build, with errors that name the node.

Beyond one layer per node, the builder knows three things a graph can say:
  * a node whose `shares` parameter names another node applies that node's layer again
    (one Keras layer, several calls, one set of weights);
  * a block node (`params['graph']`) compiles inline to its layers, named `block.layer`, or,
    when its `model` parameter says so, to a nested `keras.Model` (how imported models nest);
  * `call_kwargs` are constant keyword arguments of a node's call (`training=False`);
  * an Operation node is a `keras.ops` call (`backend.keras_bridge.operations`), made and called as
  Keras recorded it;
  * a call that returns several tensors is a node with several outputs: the builder keeps
    them all (`output_list`) and each edge, and each graph output, takes the one its port
    names. A block with several outputs (a nested model) returns them the same way.
"""

from __future__ import annotations

import contextlib
import heapq
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend.document.graph import CycleError, GraphError, LayerGraph, Node, used_nodes
from backend.document.layer_table import layer_info
from backend.keras_bridge.catalog import LayerConfigError, make_layer
from backend.keras_bridge.operations import call_arguments, make_operation
from backend.keras_bridge.shapes import (
    NodeShape,
    ShapeInference,
    block_graph,
    call_layer,
    output_list,
    shared_owner,
)
from backend.keras_bridge.weight_budget import weight_memory_problem
from backend.keras_env import import_keras


class CompileError(ValueError):
    """The graph cannot become a model; `node_id` names the offending node when there is one."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


@dataclass(frozen=True)
class Problem:
    message: str
    node_id: str | None = None
    severity: str = "error"  # or "warning"


def validate(graph: LayerGraph, shapes: dict[str, NodeShape] | None = None) -> list[Problem]:
    """Everything that stops the graph from compiling (errors) or looks wrong (warnings)."""
    if not graph.nodes:
        return [Problem("the graph is empty: drag an Input and some layers onto the canvas")]
    try:
        graph.topological_order()
    except CycleError as exc:
        return [Problem(str(exc), exc.node_ids[0] if exc.node_ids else None)]
    problems: list[Problem] = []
    inputs = graph.input_nodes()
    if not inputs:
        problems.append(Problem("the graph has no Input layer: add one and connect it"))
    outputs = graph.outputs
    if not outputs:
        problems.append(Problem("the graph has no output: every layer feeds another one"))
    used = used_nodes(graph)
    for node in inputs:
        if node.id not in used:
            problems.append(Problem(f"Input '{node.name}' does not reach any output", node.id))
    dangling = unconnected_layers(graph)
    problems += [Problem(_unconnected(graph, nid), nid) for nid in dangling]
    shapes = shapes if shapes is not None else ShapeInference().infer(graph)
    for nid in graph.topological_order():
        result = shapes.get(nid)
        if result is not None and result.error and nid in used:
            problems.append(Problem(result.error, nid))
    for nid, port in graph.output_ports:
        result = shapes.get(nid)
        if result is not None and result.ok and result.port(port) is None:
            node = graph.nodes[nid]
            count = result.output_count
            problems.append(
                Problem(
                    f"the model output {node.layer_type} '{node.name}' output {port} does not "
                    f"exist: it has {count} output{'s' if count != 1 else ''}",
                    nid,
                )
            )
    if not any(p.severity == "error" for p in problems):
        too_big = weight_memory_problem(graph, shapes)  # what building it would crash on
        if too_big is not None:
            problems.append(Problem(*too_big))
    return problems + _ignored(graph, used, dangling)


def _ignored(graph: LayerGraph, used: set[str], dangling: list[str]) -> list[Problem]:
    """Warnings for layers that feed no output (marked outputs leave them out)."""
    return [
        Problem(
            f"{node.layer_type} '{node.name}' does not reach any output and is ignored",
            nid,
            "warning",
        )
        for nid, node in graph.nodes.items()
        if nid not in used and nid not in dangling and not layer_info(node.layer_type).is_input
    ]


def unconnected_layers(graph: LayerGraph) -> list[str]:
    """Layers left dangling that would otherwise become a model output silently.

    With outputs marked (the Inspector's "model output"), the model is exactly those: a layer
    whose output goes nowhere is left out, and `validate` warns that it is ignored. With none
    marked, the model's output is the graph's end (a layer whose output goes nowhere); when the
    graph has several ends, none becomes a second output silently: the end farthest from an
    Input (the network's main line) is the output and the others are dangling, and when several
    ends are equally far, all of them are (mark the outputs of a multi-output model).
    """
    has_out = {e.src for e in graph.edges}
    ends = [
        nid
        for nid, node in graph.nodes.items()
        if nid not in has_out and not layer_info(node.layer_type).is_input
    ]
    if graph.explicit_outputs or len(ends) < 2:
        return []
    depth = _depths(graph)
    deepest = max(depth[nid] for nid in ends)
    main = [nid for nid in ends if depth[nid] == deepest]
    return [nid for nid in ends if nid not in main or len(main) > 1 or deepest < 0]


def _depths(graph: LayerGraph) -> dict[str, int]:
    """The longest path (in edges) from an Input to each node; -1 when no Input reaches it."""
    depth = {
        nid: 0 if layer_info(node.layer_type).is_input else -1 for nid, node in graph.nodes.items()
    }
    for nid in graph.topological_order():
        for edge in graph.out_edges(nid):
            if depth[nid] >= 0:
                depth[edge.dst] = max(depth[edge.dst], depth[nid] + 1)
    return depth


def _unconnected(graph: LayerGraph, node_id: str) -> str:
    node = graph.nodes[node_id]
    return (
        f"layer '{node.name}' ({node.layer_type}) is not connected to an output: connect it "
        "onward or delete it; a model with several outputs marks each one (Inspector: model "
        "output)"
    )


def compile_order(graph: LayerGraph) -> list[str]:
    """A topological order that also calls each shared layer in the order of its nodes.

    Keras numbers the calls of a shared layer; keeping the node order keeps that numbering
    (and so the model's config) as it was when the graph was imported. Among ready nodes the
    earliest in node order goes first.
    """
    index = {nid: i for i, nid in enumerate(graph.nodes)}
    after: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    indegree = dict.fromkeys(graph.nodes, 0)
    for e in graph.edges:
        after[e.src].append(e.dst)
        indegree[e.dst] += 1
    last_call: dict[str, str] = {}
    for nid, node in graph.nodes.items():
        owner = str(node.params["shares"]) if "shares" in node.params else nid
        if owner in last_call and owner in graph.nodes:
            after[last_call[owner]].append(nid)
            indegree[nid] += 1
        last_call[owner] = nid
    ready = [(index[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, nid = heapq.heappop(ready)
        order.append(nid)
        for nxt in after[nid]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (index[nxt], nxt))
    if len(order) != len(graph.nodes):  # sharing against the data flow: plain order will do
        return graph.topological_order()
    return order


def model_name(project_name: str) -> str:
    """A Keras model name from a project's name (`Digits CNN` -> `Digits_CNN`); an imported
    project is named after its model, so the name comes back unchanged."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", project_name).strip("_.") or "deepcanvas"


def compile_graph(
    graph: LayerGraph, shapes: dict[str, NodeShape] | None = None, name: str = "deepcanvas"
) -> Any:
    """Build the functional `keras.Model` of the graph. Raises CompileError on the first error.

    Call it in the thread that will use the model: Keras naming state is per thread.
    """
    shapes = shapes if shapes is not None else ShapeInference().infer(graph)
    errors = [p for p in validate(graph, shapes) if p.severity == "error"]
    if errors:  # weights too big for memory among them: refused before TensorFlow crashes
        raise CompileError(errors[0].message, errors[0].node_id)
    keras = import_keras()
    with deep_graph_recursion(len(graph.nodes)):
        inputs, outputs = _Builder(keras).build(graph)
        return keras.Model(
            inputs=inputs[0] if len(inputs) == 1 else inputs,
            outputs=outputs[0] if len(outputs) == 1 else outputs,
            name=name,
        )


@contextlib.contextmanager
def deep_graph_recursion(node_count: int) -> Iterator[None]:
    """Keras walks a functional graph recursively (`map_graph`): a 1,000-layer chain needs
    more than Python's default 1,000 frames. Raise the limit for the build, then restore it."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, 2000 + 30 * node_count))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


class _Builder:
    """Builds the tensors of one graph; layers are created once per node (or shared owner)."""

    def __init__(self, keras: Any, prefix: str = "", frozen: bool = False) -> None:
        self.keras = keras
        self.prefix = prefix
        self.frozen = frozen
        self.layers: dict[str, Any] = {}

    def build(
        self, graph: LayerGraph, feed: list[Any] | None = None, node_id: str | None = None
    ) -> tuple[list[Any], list[Any]]:
        """(inputs, outputs) tensors; `feed` replaces the Input nodes (an inline block)."""
        used = used_nodes(graph)
        tensors: dict[str, list[Any]] = {}  # node id -> its outputs, by port
        inputs: list[Any] = []
        for nid in compile_order(graph):
            if nid not in used:
                continue
            node = graph.nodes[nid]
            where = node_id or nid
            if layer_info(node.layer_type).is_input:
                tensor = feed[len(inputs)] if feed is not None else self._input(node)
                inputs.append(tensor)
                tensors[nid] = [tensor]
                continue
            try:
                args = [_port(graph, tensors, e.src, e.src_port) for e in graph.in_edges(nid)]
                tensors[nid] = output_list(self._call(graph, node, args))
            except CompileError as exc:
                raise CompileError(str(exc), where) from exc
            except LayerConfigError as exc:
                raise CompileError(str(exc), where) from exc
            except Exception as exc:
                raise CompileError(f"{node.layer_type} '{node.name}': {exc}", where) from exc
        try:
            outputs = [_port(graph, tensors, nid, port) for nid, port in graph.output_ports]
        except CompileError as exc:
            raise CompileError(str(exc), node_id or exc.node_id) from exc
        return inputs, outputs

    def _input(self, node: Node) -> Any:
        shape = node.params["shape"]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return self.keras.Input(
            shape=shape,
            dtype=node.params.get("dtype", "float32"),
            batch_size=node.params.get("batch_size"),
            name=self.prefix + node.name,
        )

    def _call(self, graph: LayerGraph, node: Node, args: list[Any]) -> Any:
        owner = shared_owner(graph, node)
        if owner is None:
            raise CompileError(f"{node.layer_type} '{node.name}' shares a missing layer")
        info = layer_info(owner.layer_type)
        call_kwargs = dict(node.params.get("call_kwargs") or {})
        if info.is_block and not owner.params.get("model"):
            return self._inline_block(owner, args)
        layer = self.layers.get(owner.id)
        if layer is None:
            layer = self._make(owner)
            self.layers[owner.id] = layer
        if info.is_block:
            return layer(args[0] if len(args) == 1 else args, **call_kwargs)
        if info.is_operation:
            op_args, op_kwargs = call_arguments(owner.params, args, f"Operation '{node.name}'")
            return layer(*op_args, **op_kwargs)
        return call_layer(info, layer, args, call_kwargs)

    def _make(self, node: Node) -> Any:
        if layer_info(node.layer_type).is_block:
            return self._nested_model(node)
        if layer_info(node.layer_type).is_operation:
            return make_operation(node.params, self.prefix + node.name)
        layer = make_layer(node.layer_type, node.params, self.prefix + node.name)
        if self.frozen:
            layer.trainable = False
        return layer

    def _inline_block(self, node: Node, args: list[Any]) -> Any:
        """The block's layers applied to `args`, named `block.layer`, created once per block."""
        label = f"{node.layer_type} '{node.name}'"
        inner = block_graph(node.params, label)
        builder = self.layers.get(node.id)
        if builder is None:
            frozen = self.frozen or node.params.get("trainable") is False
            builder = _Builder(self.keras, f"{self.prefix}{node.name}.", frozen)
            self.layers[node.id] = builder
        _inputs, outputs = builder.build(inner, feed=args)
        return outputs[0] if len(outputs) == 1 else outputs

    def _nested_model(self, node: Node) -> Any:
        label = f"{node.layer_type} '{node.name}'"
        try:
            inner = block_graph(node.params, label)
        except GraphError as exc:
            raise CompileError(str(exc)) from exc
        builder = _Builder(self.keras)
        inputs, outputs = builder.build(inner)
        if node.params.get("model") == "sequential":
            model = self.keras.Sequential(
                [*inputs, *_chain_layers(inner, builder)], name=self.prefix + node.name
            )
        else:
            model = self.keras.Model(
                inputs=inputs[0] if len(inputs) == 1 else inputs,
                outputs=outputs[0] if len(outputs) == 1 else outputs,
                name=self.prefix + node.name,
            )
        if node.params.get("trainable") is False or self.frozen:
            model.trainable = False
        return model


def _port(graph: LayerGraph, tensors: dict[str, list[Any]], node_id: str, port: int) -> Any:
    outputs = tensors[node_id]
    if port >= len(outputs):
        node = graph.nodes[node_id]
        raise CompileError(
            f"{node.layer_type} '{node.name}' has {len(outputs)} output(s), not output {port}",
            node_id,
        )
    return outputs[port]


def _chain_layers(graph: LayerGraph, builder: _Builder) -> list[Any]:
    """The layers of a chain subgraph in order (a nested Sequential model)."""
    layers = []
    for nid in graph.topological_order():
        node = graph.nodes[nid]
        if layer_info(node.layer_type).is_input:
            continue
        layers.append(builder.layers[nid])
    return layers
