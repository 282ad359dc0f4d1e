"""Graphs for tests: layers in a chain, as a student draws a first model."""

from __future__ import annotations

from typing import Any

from backend.document.graph import LayerGraph


def chain(*specs: tuple[str, dict[str, Any]]) -> LayerGraph:
    """`chain(("Input", {...}), ("Dense", {...}), ...)`: each layer fed by the one before."""
    graph = LayerGraph()
    previous = None
    for layer_type, params in specs:
        node = graph.add_node(layer_type, params)
        if previous is not None:
            graph.connect(previous, node.id)
        previous = node.id
    return graph
