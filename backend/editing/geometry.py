"""Node geometry and the direction a drawing flows: shared by the layout, the edge router and
the canvas, so the canvas draws exactly what the layout planned.

A node is a box of `node_size`; its input ports sit on its top edge and its outputs on its
bottom edge when the drawing flows top to bottom (left and right edges when it flows left to
right), as `port_offset` places them. Positions are top-left corners in scene units.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from backend.document.graph import LayerGraph
from backend.document.layer_table import layer_info

Direction = Literal["TB", "LR"]
TOP_TO_BOTTOM: Direction = "TB"
LEFT_TO_RIGHT: Direction = "LR"
DIRECTIONS: tuple[Direction, ...] = (TOP_TO_BOTTOM, LEFT_TO_RIGHT)

NODE_WIDTH = 190.0
NODE_HEIGHT = 78.0
HEADER_HEIGHT = 22.0
PORT_SPACING = 22.0
"""Between the ports of one side, left to right: between input ports on a node's left edge."""
TB_PORT_SPACING = 34.0
"""Top to bottom: between ports along a node's top or bottom edge."""
OUTPUT_LABEL_HEIGHT = 14.0
LAYER_GAP = 50.0
"""Between consecutive layers, in the direction of flow (room for the edges' curves)."""
Point = tuple[float, float]
Size = tuple[float, float]


def node_size(inputs: int, outputs: int, direction: Direction = TOP_TO_BOTTOM) -> Size:
    """Width and height of a node drawn with `inputs` input ports and `outputs` outputs."""
    if direction == TOP_TO_BOTTOM:
        ports = max(inputs, outputs, 1)
        width = max(NODE_WIDTH, TB_PORT_SPACING * (ports + 1))
        return width, NODE_HEIGHT + (OUTPUT_LABEL_HEIGHT if outputs > 1 else 0.0)
    rows = max(inputs, outputs, 1)
    return NODE_WIDTH, max(NODE_HEIGHT, HEADER_HEIGHT + PORT_SPACING * rows + 12)


def port_offset(
    index: int, count: int, is_output: bool, size: Size, direction: Direction = TOP_TO_BOTTOM
) -> Point:
    """Where port `index` of `count` sits, relative to the node's top-left corner.

    Top to bottom: inputs spread along the top edge, outputs along the bottom edge.
    Left to right: inputs down the left edge below the header, outputs down the right edge
    (one output: level with the body's middle)."""
    width, height = size
    if direction == TOP_TO_BOTTOM:
        x = width * (index + 1) / (count + 1)
        return x, height if is_output else 0.0
    body = height - HEADER_HEIGHT
    y = HEADER_HEIGHT + body * (index + 1) / (count + 1)
    if is_output and count == 1:
        y = height / 2 + HEADER_HEIGHT / 2
    return (NODE_WIDTH if is_output else 0.0), y


def port_counts(graph: LayerGraph, node_id: str) -> tuple[int, int]:
    """How many input and output ports the canvas shows for a node, as far as the graph
    tells (the canvas refines outputs from shape inference)."""
    node = graph.nodes[node_id]
    info = layer_info(node.layer_type)
    used_in = max((e.dst_port for e in graph.in_edges(node_id)), default=-1) + 1
    if info.is_variadic or info.is_operation:
        inputs = max(info.min_inputs, used_in + (0 if info.is_operation else 1), 1)
    elif info.state_inputs:
        inputs = min(info.max_inputs, max(info.min_inputs, used_in + 1))
    else:
        inputs = info.max_inputs
    outputs = max((e.src_port for e in graph.out_edges(node_id)), default=0) + 1
    return inputs, outputs


def graph_sizes(graph: LayerGraph, direction: Direction = TOP_TO_BOTTOM) -> dict[str, Size]:
    return {nid: node_size(*port_counts(graph, nid), direction) for nid in graph.nodes}


def flow_direction(
    graph: LayerGraph, current: Direction = TOP_TO_BOTTOM, ids: Iterable[str] | None = None
) -> Direction:
    """Which way a drawing flows, read from its positions: the other direction only when its
    edges clearly run that way (two thirds of their length), so ordinary edits never flip it."""
    wanted = set(graph.nodes if ids is None else ids)
    across = down = 0.0
    for e in graph.edges:
        if e.src in wanted and e.dst in wanted:
            a, b = graph.nodes[e.src].position, graph.nodes[e.dst].position
            across += abs(b[0] - a[0])
            down += abs(b[1] - a[1])
    if current == TOP_TO_BOTTOM and across > 2 * down:
        return LEFT_TO_RIGHT
    if current == LEFT_TO_RIGHT and down > 2 * across:
        return TOP_TO_BOTTOM
    return current
