"""Graphs for tests: layers in a chain, as a student draws a first model."""

from __future__ import annotations

from backend.document.graph import LayerGraph

chain = LayerGraph.chain
"""`chain(("Input", {...}), ("Dense", {...}), ...)`: each layer fed by the one before."""
