"""Fixes for shape errors: what to insert or change so Keras accepts a node's input.

The expected rank is read from the layer's own Keras `input_spec`, so a fix follows Keras, not
a hand-kept table: a Conv2D fed a vector gets a Reshape to an image, an LSTM fed an image a
Reshape to a sequence of pixels, a layer that needs a vector a Flatten; an Add whose inputs
differ in channels can become a Concatenate or get a 1x1 projection on the odd input.
"""

from __future__ import annotations

import math

from backend.analysis.fixes import (
    Fix,
    change_type_fix,
    insert_before,
    insert_fix,
    projection_layer,
    reshape_target,
)
from backend.document.graph import Edge, LayerGraph, Node
from backend.editing.commands import Macro
from backend.keras_bridge.shapes import NodeShape, Shape, format_shape, port_shape

ELEMENTWISE_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


def error_fixes(
    graph: LayerGraph,
    node: Node,
    shapes: dict[str, NodeShape],
    incoming: dict[str, list[Edge]],
) -> list[Fix]:
    """The fixes for a node Keras refuses, given its input shapes; [] when none is known."""
    edges = incoming.get(node.id, [])
    upstream = [port_shape(shapes, e) for e in edges]
    if not edges or any(u is None or u.shape is None for u in upstream):
        return []
    ins = [u.shape for u in upstream if u is not None and u.shape is not None]
    if node.layer_type in ELEMENTWISE_MERGES:
        return _merge_fixes(graph, node, edges, ins)
    expected = _expected_rank(node)
    if expected is None or len(edges) != 1:
        return []
    return _rank_fixes(graph, node, ins[0], expected)


def _expected_rank(node: Node) -> tuple[int, int | None] | None:
    """(lowest, highest or None) rank, batch included, that the node's Keras layer accepts."""
    from backend.keras_bridge.catalog import LayerConfigError, make_layer

    try:
        spec = make_layer(node.layer_type, node.params, node.name).input_spec
    except LayerConfigError:
        return None
    if isinstance(spec, list):
        spec = spec[0] if spec else None
    if spec is None:
        return None
    if spec.ndim is not None:
        return int(spec.ndim), int(spec.ndim)
    if spec.min_ndim is None:
        return None
    return int(spec.min_ndim), None if spec.max_ndim is None else int(spec.max_ndim)


def _rank_fixes(
    graph: LayerGraph, node: Node, shape: Shape, expected: tuple[int, int | None]
) -> list[Fix]:
    low, high = expected
    rank = len(shape)
    if rank < low:
        target = reshape_target(shape[1:], low - 1)
        if target is None:
            return []
        fix = insert_fix(graph, node, "Reshape", {"target_shape": list(target)})
        label = f"Insert Reshape to {format_shape(target)} before '{node.name}'"
        return [Fix(label, fix.build)]
    if high is None or rank <= high:
        return []
    if high == 2:
        fixes = [insert_fix(graph, node, "Flatten", {})]
        pooling = {3: "GlobalAveragePooling1D", 4: "GlobalAveragePooling2D"}.get(rank)
        if pooling is not None:
            fixes.append(insert_fix(graph, node, pooling, {}))
        return fixes
    if high == 3 and rank == 4 and all(d is not None for d in shape[1:]):
        pixels = math.prod(int(d) for d in shape[1:-1] if d is not None)
        target = (pixels, int(shape[-1] or 1))
        fix = insert_fix(graph, node, "Reshape", {"target_shape": list(target)})
        label = f"Insert Reshape to a sequence of pixels {format_shape(target)}"
        return [Fix(label, fix.build)]
    return []


def _merge_fixes(graph: LayerGraph, node: Node, edges: list[Edge], ins: list[Shape]) -> list[Fix]:
    """Inputs that differ only in their last axis: concatenate them, or project the odd ones."""
    ranks = {len(s) for s in ins}
    if len(ranks) != 1 or len({s[:-1] for s in ins}) != 1:
        return []
    fixes: list[Fix] = []
    if node.layer_type == "Add":
        fixes.append(change_type_fix(graph, node, "Concatenate"))
    width = ins[0][-1]
    projection = projection_layer(len(ins[0]), int(width)) if width is not None else None
    odd = [e for e, s in zip(edges, ins, strict=True) if s[-1] != width]
    if projection is None or not odd:
        return fixes
    layer_type, params = projection
    what = "1x1 " + layer_type if layer_type != "Dense" else "Dense"

    def build() -> Macro:
        inserts = [insert_before(graph, node.id, e.dst_port, layer_type, params) for e in odd]
        return Macro(f"Insert {what} to {width} channels before '{node.name}'", list(inserts))

    fixes.append(Fix(f"Insert {what} ({width} channels) on the odd input", build))
    return fixes
