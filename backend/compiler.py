"""Graph to `keras.Model`: validate, sort, build, with errors that name the node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.catalog import LayerConfigError, make_layer
from backend.graph import CycleError, LayerGraph
from backend.keras_env import import_keras
from backend.layer_table import layer_info
from backend.shapes import NodeShape, ShapeInference, call_layer


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


def used_nodes(graph: LayerGraph) -> set[str]:
    """Nodes that feed at least one graph output (outputs included)."""
    used: set[str] = set()
    stack = list(graph.outputs)
    while stack:
        nid = stack.pop()
        if nid in used:
            continue
        used.add(nid)
        stack.extend(e.src for e in graph.in_edges(nid))
    return used


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
    shapes = shapes if shapes is not None else ShapeInference().infer(graph)
    for nid in graph.topological_order():
        result = shapes.get(nid)
        if result is not None and result.error and nid in used:
            problems.append(Problem(result.error, nid))
    for nid, node in graph.nodes.items():
        if nid not in used and not layer_info(node.layer_type).is_input:
            problems.append(
                Problem(
                    f"{node.layer_type} '{node.name}' does not reach any output and is ignored",
                    nid,
                    "warning",
                )
            )
    return problems


def compile_graph(
    graph: LayerGraph, shapes: dict[str, NodeShape] | None = None, name: str = "deepcanvas"
) -> Any:
    """Build the functional `keras.Model` of the graph. Raises CompileError on the first error.

    Call it in the thread that will use the model: Keras naming state is per thread.
    """
    errors = [p for p in validate(graph, shapes) if p.severity == "error"]
    if errors:
        raise CompileError(errors[0].message, errors[0].node_id)
    keras = import_keras()
    used = used_nodes(graph)
    tensors: dict[str, Any] = {}
    model_inputs: list[Any] = []
    for nid in graph.topological_order():
        if nid not in used:
            continue
        node = graph.nodes[nid]
        info = layer_info(node.layer_type)
        if info.is_input:
            shape = node.params["shape"]
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            tensor = keras.Input(
                shape=shape, dtype=node.params.get("dtype", "float32"), name=node.name
            )
            model_inputs.append(tensor)
            tensors[nid] = tensor
            continue
        try:
            layer = make_layer(node.layer_type, node.params, node.name)
            args = [tensors[e.src] for e in graph.in_edges(nid)]
            tensors[nid] = call_layer(info, layer, args)
        except LayerConfigError as exc:
            raise CompileError(str(exc), nid) from exc
        except Exception as exc:
            raise CompileError(f"{info.type_name} '{node.name}': {exc}", nid) from exc
    outputs = [tensors[nid] for nid in graph.outputs]
    return keras.Model(
        inputs=model_inputs[0] if len(model_inputs) == 1 else model_inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=name,
    )
