"""Composite blocks: group a selection into one node, and ungroup it back, as undoable commands.

A block node holds its subgraph in `params['graph']` (the `LayerGraph.to_dict()` form): the
subgraph's Input nodes are the block's input ports, in node order, and its outputs are the
block's output ports, in order (a nested model may have several). Shape inference infers
through the subgraph and the compiler builds its layers inline (named `block.layer`), so a
block is purely a way of seeing the graph.

Grouping keeps which output each edge reads: an outside tensor (a node's output port) becomes
one inner Input, and each output of the one node read from outside becomes a block output.
"""

from __future__ import annotations

import copy
from typing import Any

from backend.document.graph import Edge, GraphError, LayerGraph, Node, new_node_id, output_entry
from backend.document.layer_table import BLOCK_TYPE, INPUT_TYPE, layer_info
from backend.editing.commands import AddNode, Connect, Macro, RemoveNodes, SetOutputs
from backend.keras_bridge.shapes import NodeShape, block_graph

DEFAULT_BLOCK_NAME = "block"


def is_block(node: Node) -> bool:
    return layer_info(node.layer_type).is_block


def block_summary(node: Node) -> str:
    """`3 inputs -> conv_a, bn_a, ... (9 layers)`: what a block holds, in one line."""
    inner = block_graph(node.params, f"{node.layer_type} '{node.name}'")
    layers = [n.name for n in inner.nodes.values() if not layer_info(n.layer_type).is_input]
    shown = ", ".join(layers[:6]) + (", ..." if len(layers) > 6 else "")
    inputs = len(inner.input_nodes())
    return f"{inputs} input{'s' if inputs != 1 else ''} → {shown} ({len(layers)} layers)"


def group(
    graph: LayerGraph,
    node_ids: list[str],
    name: str = DEFAULT_BLOCK_NAME,
    shapes: dict[str, NodeShape] | None = None,
) -> Macro:
    """The command that replaces the selected nodes by one block node (not yet done).

    Edges entering the selection become the block's inputs (one per distinct source output),
    the one node the rest of the graph reads from becomes its output (one block output per
    output of it that is read). Raises GraphError, naming the node, when the selection cannot
    be a block.
    """
    chosen = [nid for nid in graph.topological_order() if nid in set(node_ids)]
    if not chosen:
        raise GraphError("select the layers to group first")
    inside = set(chosen)
    for nid in chosen:
        node = graph.nodes[nid]
        if layer_info(node.layer_type).is_input:
            raise GraphError(f"Input '{node.name}' cannot go into a block: it feeds the model")
    _check_sharing(graph, inside)
    sources = list(
        dict.fromkeys(
            (e.src, e.src_port)
            for nid in chosen
            for e in graph.in_edges(nid)
            if e.src not in inside
        )
    )
    exit_id = _exit_node(graph, chosen, inside)
    leaving = [e for e in graph.out_edges(exit_id) if e.dst not in inside]
    marked = [graph.split_output(o) for o in graph.explicit_outputs]
    exit_ports = sorted({e.src_port for e in leaving} | {p for n, p in marked if n == exit_id})
    exit_ports = exit_ports or [0]
    sub = _subgraph(graph, chosen, sources, [(exit_id, p) for p in exit_ports], shapes or {})
    block_id = new_node_id()
    xs = [graph.nodes[n].position for n in chosen]
    position = (min(p[0] for p in xs), sum(p[1] for p in xs) / len(xs))
    commands: list[Any] = [
        RemoveNodes(list(chosen)),
        AddNode(BLOCK_TYPE, {"graph": sub}, position, graph.unique_name(name), block_id),
    ]
    commands += [
        Connect(src, block_id, port, src_port=src_port)
        for port, (src, src_port) in enumerate(sources)
    ]
    commands += [
        Connect(block_id, e.dst, e.dst_port, src_port=exit_ports.index(e.src_port)) for e in leaving
    ]
    if any(n == exit_id for n, _p in marked):
        outputs = [
            output_entry(block_id, exit_ports.index(p)) if n == exit_id else output_entry(n, p)
            for n, p in marked
            if n not in inside or n == exit_id
        ]
        commands.append(SetOutputs(outputs))
    return Macro(f"Group {len(chosen)} layers into '{name}'", commands)


def ungroup(graph: LayerGraph, node_id: str) -> Macro:
    """The command that replaces a block node by its layers, wired as they were (not yet done)."""
    block = graph.node(node_id)
    label = f"{block.layer_type} '{block.name}'"
    if not is_block(block):
        raise GraphError(f"{label} is not a block")
    users = [n.name for n in graph.nodes.values() if n.params.get("shares") == node_id]
    if users:
        raise GraphError(f"{label} is applied again by '{users[0]}': it cannot be ungrouped")
    inner = block_graph(block.params, label)
    inputs = inner.input_nodes()
    in_edges = graph.in_edges(node_id)
    if len(in_edges) != len(inputs):
        raise GraphError(f"{label}: connect its {len(inputs)} input(s) before ungrouping it")
    if not inner.output_ports:
        raise GraphError(f"{label} has no output to be ungrouped")
    feeds = {inp.id: (e.src, e.src_port) for inp, e in zip(inputs, in_edges, strict=True)}
    outer = {inp: src for inp, (src, _port) in feeds.items()}
    taken = set(graph.nodes)
    for nid in inner.nodes:
        if nid not in outer:
            fresh = nid if nid not in taken else new_node_id()
            taken.add(fresh)
            outer[nid] = fresh

    def source(nid: str, port: int) -> tuple[str, int]:
        """Where an inner (node, output) is once ungrouped: an Input is what fed the block."""
        return feeds[nid] if nid in feeds else (outer[nid], port)

    exits = [source(nid, port) for nid, port in inner.output_ports]
    commands: list[Any] = [RemoveNodes([node_id])]
    origin = _origin(inner)
    for nid, node in inner.nodes.items():
        if node.layer_type == INPUT_TYPE:
            continue
        params = copy.deepcopy(node.params)
        if params.get("shares") in outer:
            params["shares"] = outer[params["shares"]]
        x = block.position[0] + node.position[0] - origin[0]
        y = block.position[1] + node.position[1] - origin[1]
        commands.append(AddNode(node.layer_type, params, (x, y), node.name, outer[nid]))
    commands += [_reconnect(e, *source(e.src, e.src_port), outer[e.dst]) for e in inner.edges]
    commands += [_reconnect(e, *exits[e.src_port], e.dst) for e in graph.out_edges(node_id)]
    marked = [graph.split_output(o) for o in graph.explicit_outputs]
    if any(n == node_id for n, _p in marked):
        commands.append(
            SetOutputs([output_entry(*(exits[p] if n == node_id else (n, p))) for n, p in marked])
        )
    return Macro(f"Ungroup '{block.name}'", commands)


def _reconnect(edge: Edge, src: str, src_port: int, dst: str) -> Connect:
    return Connect(src, dst, edge.dst_port, src_port=src_port)


def _check_sharing(graph: LayerGraph, inside: set[str]) -> None:
    for node in graph.nodes.values():
        owner = node.params.get("shares")
        if owner is None or (node.id in inside) == (owner in inside):
            continue
        a, b = node.name, graph.nodes[owner].name if owner in graph.nodes else owner
        raise GraphError(f"'{a}' shares the layer of '{b}': select both or neither to make a block")


def _exit_node(graph: LayerGraph, chosen: list[str], inside: set[str]) -> str:
    leaving = {e.src for nid in chosen for e in graph.out_edges(nid) if e.dst not in inside}
    marked = {graph.split_output(o)[0] for o in graph.explicit_outputs}
    leaving |= {o for o in marked if o in inside}
    if not leaving:
        leaving = {nid for nid in chosen if not graph.out_edges(nid)}
    if len(leaving) != 1:
        names = ", ".join(sorted(f"'{graph.nodes[n].name}'" for n in leaving)) or "none"
        raise GraphError(
            f"a block has one output, but the selection is read from {len(leaving)} "
            f"layers ({names}): select up to the layer where the branches join"
        )
    return leaving.pop()


def _subgraph(
    graph: LayerGraph,
    chosen: list[str],
    sources: list[tuple[str, int]],
    exits: list[tuple[str, int]],
    shapes: dict[str, NodeShape],
) -> dict[str, Any]:
    """The selection as a standalone graph document with one Input per outside source
    output, and the `exits` (node, output port) as its outputs."""
    sub = LayerGraph()
    origin = (
        min(graph.nodes[n].position[0] for n in chosen) - 260.0,
        min(graph.nodes[n].position[1] for n in chosen),
    )
    names = {graph.nodes[n].name for n in chosen}
    input_ids: dict[tuple[str, int], str] = {}
    for i, (src, port) in enumerate(sources):
        name = "input" if len(sources) == 1 else f"input_{i + 1}"
        while name in names:
            name += "_"
        shape = _shape_of(graph, src, port, shapes)
        node = sub.add_node(INPUT_TYPE, {"shape": shape}, (0.0, i * 130.0), name)
        input_ids[(src, port)] = node.id
    for nid in chosen:
        node = graph.nodes[nid]
        pos = (node.position[0] - origin[0], node.position[1] - origin[1])
        sub.add_node(node.layer_type, copy.deepcopy(node.params), pos, node.name, nid)
    for nid in chosen:
        for e in graph.in_edges(nid):
            if (e.src, e.src_port) in input_ids:
                sub.connect(input_ids[(e.src, e.src_port)], nid, e.dst_port)
            else:
                sub.connect(e.src, nid, e.dst_port, src_port=e.src_port)
    sub.set_outputs([output_entry(nid, port) for nid, port in exits])
    return sub.to_dict()


def _shape_of(
    graph: LayerGraph, node_id: str, port: int, shapes: dict[str, NodeShape]
) -> list[int | None]:
    found = shapes.get(node_id)
    result = found.port(port) if found is not None and found.ok else None
    if result is not None and result.shape is not None:
        return list(result.shape[1:])
    node = graph.nodes[node_id]
    shape = node.params.get("shape") if node.layer_type == INPUT_TYPE else None
    return list(shape) if isinstance(shape, (list, tuple)) else [None]


def _origin(graph: LayerGraph) -> tuple[float, float]:
    layers = [n for n in graph.nodes.values() if n.layer_type != INPUT_TYPE]
    if not layers:
        return (0.0, 0.0)
    return (min(n.position[0] for n in layers), min(n.position[1] for n in layers))
