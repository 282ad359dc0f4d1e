"""One-click fixes: each builds an undo command (one step) that repairs a found problem.

A `Fix` builds a fresh command each time it is applied, against the graph as it is then, so a
fix shown a moment ago can never replay stale state; the GUI pushes it on the undo stack.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.document.graph import Edge, LayerGraph, Node, new_node_id, output_entry, snake_case
from backend.editing.commands import (
    AddNode,
    Command,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    RemoveNodes,
    SetOutputs,
    SetParams,
)
from backend.editing.room import splice_room


@dataclass(frozen=True)
class Fix:
    label: str
    """What the button does, e.g. "Insert Flatten before 'dense'"."""
    build: Callable[[], Command]

    def command(self) -> Command:
        return self.build()


def insert_on_edge(
    graph: LayerGraph,
    edge: Edge,
    layer_type: str,
    params: dict[str, Any],
    label: str = "",
) -> Macro:
    """`src -> dst` becomes `src -> new layer -> dst`, on the same input port of dst.

    The new layer goes one row after src, in line with it, and the rows from dst on move to
    make room for it (`backend.editing.layout.splice_room`), all in one undo step."""
    dst = graph.node(edge.dst)
    spot, room = splice_room(graph, edge.src, edge.dst)
    node_id = new_node_id()
    commands: list[Any] = [MoveNodes(room, "Make room")] if room else []
    return Macro(
        label or f"Insert {layer_type} before '{dst.name}'",
        [
            *commands,
            Disconnect([edge]),
            AddNode(layer_type, dict(params), spot, node_id=node_id),
            Connect(edge.src, node_id, 0, src_port=edge.src_port),
            Connect(node_id, edge.dst, edge.dst_port),
        ],
    )


def insert_before(
    graph: LayerGraph, node_id: str, port: int, layer_type: str, params: dict[str, Any]
) -> Macro:
    """Insert a layer on the edge feeding input `port` of a node."""
    edge = next(e for e in graph.in_edges(node_id) if e.dst_port == port)
    return insert_on_edge(graph, edge, layer_type, params)


def change_layer_type(
    graph: LayerGraph, node_id: str, layer_type: str, params: dict[str, Any], label: str = ""
) -> Macro:
    """Replace a node by a layer of another type with the same id, position and edges.

    The node keeps its name unless that name is the old type's default (`add`, `add_1`):
    then it takes the new type's default (`concatenate`).
    """
    node = graph.node(node_id)
    default = snake_case(node.layer_type)
    keeps_name = not (node.name == default or node.name.startswith(default + "_"))
    edges = [e for e in graph.edges if node_id in (e.src, e.dst)]
    commands: list[Any] = [
        RemoveNodes([node_id]),
        AddNode(
            layer_type,
            dict(params),
            node.position,
            name=node.name if keeps_name else None,
            node_id=node_id,
        ),
    ]
    commands += [Connect(e.src, e.dst, e.dst_port, src_port=e.src_port) for e in edges]
    if any(graph.split_output(o)[0] == node_id for o in graph.explicit_outputs):
        commands.append(SetOutputs(graph.explicit_outputs))
    return Macro(label or f"Turn '{node.name}' into {layer_type}", commands)


def set_params(graph: LayerGraph, node_id: str, updates: dict[str, Any], label: str) -> SetParams:
    graph.node(node_id)
    return SetParams(node_id, dict(updates), label=label)


def move_before(graph: LayerGraph, first: str, second: str, label: str) -> Macro:
    """`a -> first -> second -> rest` becomes `a -> second -> first -> rest`.

    `first` must feed only `second` through one input (checked by the caller).
    """
    feed = graph.in_edges(first)
    link = graph.out_edges(first)
    onward = graph.out_edges(second)
    commands: list[Any] = [Disconnect([*feed, *link, *onward])]
    commands += [Connect(e.src, second, e.dst_port, src_port=e.src_port) for e in feed]
    commands.append(Connect(second, first, 0))
    commands += [Connect(first, e.dst, e.dst_port, src_port=e.src_port) for e in onward]
    marked = [graph.split_output(o) for o in graph.explicit_outputs]
    if any(n == second for n, _p in marked):
        outputs = [output_entry(first if n == second else n, p) for n, p in marked]
        commands.append(SetOutputs(outputs))
    return Macro(label, commands)


def reshape_target(shape: tuple[int | None, ...], rank: int) -> tuple[int, ...] | None:
    """A Reshape target of `rank` dims (batch excluded) for a sample `shape`, if a natural one.

    One missing axis becomes a channel axis of 1: (16,) -> (16, 1), (8, 8) -> (8, 8, 1);
    a flat vector of a square length becomes a one-channel image: (64,) -> (8, 8, 1).
    """
    if any(d is None for d in shape) or rank <= len(shape):
        return None
    dims = tuple(int(d) for d in shape if d is not None)
    if rank == len(dims) + 1:
        return (*dims, 1)
    if len(dims) == 1 and rank == 3:
        side = math.isqrt(dims[0])
        if side * side == dims[0] and side > 1:
            return (side, side, 1)
    return None


def projection_layer(rank: int, width: int) -> tuple[str, dict[str, Any]] | None:
    """A learned 1x1 projection to `width` channels for a tensor of `rank` (batch included)."""
    if rank == 2:
        return "Dense", {"units": width}
    if rank == 3:
        return "Conv1D", {"filters": width, "kernel_size": 1}
    if rank == 4:
        return "Conv2D", {"filters": width, "kernel_size": [1, 1]}
    if rank == 5:
        return "Conv3D", {"filters": width, "kernel_size": [1, 1, 1]}
    return None


# ----------------------------------------------------------------- fixes bound to their arguments
def insert_fix(graph: LayerGraph, node: Node, layer_type: str, params: dict[str, Any]) -> Fix:
    return Fix(
        f"Insert {layer_type} before '{node.name}'",
        lambda: insert_before(graph, node.id, 0, layer_type, params),
    )


def change_type_fix(graph: LayerGraph, node: Node, layer_type: str) -> Fix:
    return Fix(
        f"Turn '{node.name}' into {layer_type}",
        lambda: change_layer_type(graph, node.id, layer_type, {}),
    )


def set_params_fix(graph: LayerGraph, node_id: str, updates: dict[str, Any], label: str) -> Fix:
    return Fix(label, lambda: set_params(graph, node_id, updates, label))


def move_fix(graph: LayerGraph, first: Node, second: Node) -> Fix:
    label = f"Move '{first.name}' after '{second.name}'"
    return Fix(label, lambda: move_before(graph, first.id, second.id, label))
