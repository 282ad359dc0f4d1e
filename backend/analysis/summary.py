"""A live `model.summary()`: parameters, memory and FLOPs per node, without building the model.

Each node's layer is built alone, on symbolic inputs of its inferred input shapes, inside a
`keras.StatelessScope` that defers variable initialisation: Keras creates exactly the weights
it would create in the model (so the counts match `Model.count_params()`) but allocates and
initialises nothing, so a 400-million-parameter Dense costs the same millisecond as a small one.
Results are cached per node by (type, parameters, input shapes), like
`backend.keras_bridge.shapes`, so an edit recomputes only the nodes whose layer or inputs changed.

Memory and FLOPs are per sample (the batch axis excluded); a `None` dimension (a sequence of
any length) counts as 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from backend.analysis.flops import estimate_flops
from backend.document.graph import Edge, LayerGraph, Node, used_nodes
from backend.document.layer_table import layer_info
from backend.keras_bridge.catalog import make_layer
from backend.keras_bridge.shapes import (
    NodeShape,
    Shape,
    ShapeInference,
    block_graph,
    call_layer,
    port_shape,
    shared_owner,
)
from backend.keras_bridge.weight_budget import deferred_weights, itemsize
from backend.keras_env import import_keras

MAX_CACHED = 20_000
"""Distinct layers remembered; beyond that the oldest are forgotten (and rebuilt if needed)."""


def elements(shape: Sequence[int | None]) -> int:
    """Elements of one sample: the product of `shape` without its batch axis."""
    return math.prod(d or 1 for d in shape[1:])


@dataclass(frozen=True)
class NodeStats:
    """What one node costs, per sample; `flops` is None where no estimate exists."""

    trainable: int = 0
    non_trainable: int = 0
    weight_bytes: int = 0
    activation_bytes: int = 0
    flops: int | None = 0
    trainable_bytes: int = 0

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class SummaryRow:
    node_id: str
    name: str
    layer_type: str
    shape: Shape | None
    stats: NodeStats | None
    used: bool
    """False for a node that reaches no output: it is left out of the model and the totals."""
    error: str | None = None
    """Why a node that has a shape has no stats (a layer Keras could not build alone)."""


@dataclass(frozen=True)
class Totals:
    trainable: int = 0
    non_trainable: int = 0
    weight_bytes: int = 0
    activation_bytes: int = 0
    flops: int = 0
    trainable_bytes: int = 0
    complete: bool = True
    """False when a used node has no stats or no FLOPs estimate: the sums are lower bounds."""

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class Summary:
    rows: tuple[SummaryRow, ...] = ()
    totals: Totals = Totals()

    def row(self, node_id: str) -> SummaryRow | None:
        return self._by_id.get(node_id)

    @cached_property
    def _by_id(self) -> dict[str, SummaryRow]:
        return {row.node_id: row for row in self.rows}


def build_stats(
    graph: LayerGraph, node: Node, upstream: list[NodeShape], out: NodeShape
) -> NodeStats:
    """Build the node's layer alone on its input shapes and read its weights and cost.

    A node that shares another node's layer costs FLOPs and activations but owns no weights
    (they are counted once, on the owner); a block adds up the layers of its subgraph.
    """
    assert out.shape is not None
    ports = [out.port(i) for i in range(out.output_count)]
    activation_bytes = sum(elements(p.shape) * itemsize(p.dtype) for p in ports if p and p.shape)
    info = layer_info(node.layer_type)
    if info.is_input:
        return NodeStats(activation_bytes=activation_bytes)
    if info.is_operation:  # a keras.ops call: no weights, and no estimate of its cost
        return NodeStats(activation_bytes=activation_bytes, flops=None)
    owner = shared_owner(graph, node)
    if owner is None:
        raise ValueError("the layer it shares is gone")
    if layer_info(owner.layer_type).is_block:
        stats = block_stats(owner, upstream)
    else:
        stats = _layer_stats(owner, node, upstream, out)
        stats = replace(stats, activation_bytes=activation_bytes)
    if owner is not node:
        stats = replace(stats, trainable=0, non_trainable=0, weight_bytes=0, trainable_bytes=0)
    return stats


def _layer_stats(owner: Node, node: Node, upstream: list[NodeShape], out: NodeShape) -> NodeStats:
    assert out.shape is not None
    keras = import_keras()
    info = layer_info(owner.layer_type)
    layer = make_layer(owner.layer_type, owner.params, node.name)
    tensors = [keras.KerasTensor(u.shape, dtype=u.dtype) for u in upstream]
    with deferred_weights(keras):
        call_layer(info, layer, tensors, dict(node.params.get("call_kwargs") or {}))
    in_shapes = [tuple(u.shape[1:]) for u in upstream if u.shape is not None]
    return NodeStats(
        trainable=sum(math.prod(w.shape) for w in layer.trainable_weights),
        non_trainable=sum(math.prod(w.shape) for w in layer.non_trainable_weights),
        weight_bytes=sum(_bytes(w) for w in layer.weights),
        flops=estimate_flops(owner.layer_type, layer, in_shapes, tuple(out.shape[1:])),
        trainable_bytes=sum(_bytes(w) for w in layer.trainable_weights),
    )


def block_stats(node: Node, upstream: list[NodeShape]) -> NodeStats:
    """A block's cost: its subgraph summarised on the incoming shapes, as the compiler builds it.

    Its activations are those of its inner layers; a block with `trainable: false` freezes all.
    """
    label = f"{node.layer_type} '{node.name}'"
    inner = block_graph(node.params, label)
    for inner_input, up in zip(inner.input_nodes(), upstream, strict=False):
        inner_input.params = {
            **inner_input.params,
            "shape": list((up.shape or ())[1:]),
            "dtype": up.dtype,
        }
    summary = Analysis().summarize(inner, ShapeInference().infer(inner))
    missing = [row for row in summary.rows if row.used and row.stats is None]
    if missing:
        raise ValueError(f"inside, {missing[0].error or f'{missing[0].name} has no shape'}")
    totals = summary.totals
    inputs = sum(
        row.stats.activation_bytes
        for row in summary.rows
        if row.stats is not None and layer_info(row.layer_type).is_input
    )
    frozen = node.params.get("trainable") is False
    return NodeStats(
        trainable=0 if frozen else totals.trainable,
        non_trainable=totals.params if frozen else totals.non_trainable,
        weight_bytes=totals.weight_bytes,
        activation_bytes=totals.activation_bytes - inputs,
        flops=totals.flops if totals.complete else None,
        trainable_bytes=0 if frozen else totals.trainable_bytes,
    )


def _bytes(variable: Any) -> int:
    return math.prod(variable.shape) * itemsize(str(variable.dtype))


def _cache_key(graph: LayerGraph, node: Node, upstream: list[NodeShape], out: NodeShape) -> str:
    """What a node's stats depend on: its layer (or the one it shares) and its shapes.

    Not its id or name, so identical layers (a repeated block) share one entry.
    """
    owner = shared_owner(graph, node) or node
    try:
        params = json.dumps([node.params, owner.params], sort_keys=True, default=str)
    except (TypeError, ValueError):
        params = repr([node.params, owner.params])
    ups = [(u.shape, u.dtype) for u in upstream]
    return f"{node.layer_type}|{owner is node}|{params}|{ups}|{out.shape}|{out.dtype}"


class Analysis:
    """Per-node statistics of a graph, recomputed incrementally; reuse one instance."""

    def __init__(self) -> None:
        self._cache: dict[str, NodeStats | str] = {}
        """Stats (or why there are none) by content key: identical layers are built once."""
        self.summary = Summary()
        self.recomputed: list[str] = []
        """Node ids whose layer was built (found in no cache) by the last `summarize`."""

    def summarize(self, graph: LayerGraph, shapes: dict[str, NodeShape]) -> Summary:
        """Stats of every node whose shape is known, and totals over the nodes the model uses.

        `shapes` are `backend.keras_bridge.shapes.ShapeInference` results for the same graph.
        """
        self.recomputed = []
        incoming: dict[str, list[Edge]] = {nid: [] for nid in graph.nodes}
        for edge in graph.edges:
            incoming[edge.dst].append(edge)
        used = used_nodes(graph)
        rows = []
        for nid, node in graph.nodes.items():
            edges = sorted(incoming[nid], key=lambda e: e.dst_port)
            upstream = [port_shape(shapes, e) for e in edges]
            rows.append(self._row(graph, node, upstream, shapes.get(nid), nid in used))
        while len(self._cache) > MAX_CACHED:
            del self._cache[next(iter(self._cache))]  # the oldest first
        self.summary = Summary(tuple(rows), _totals(rows, _weight_holders(graph, used)))
        return self.summary

    def _row(
        self,
        graph: LayerGraph,
        node: Node,
        upstream: list[NodeShape | None],
        out: NodeShape | None,
        used: bool,
    ) -> SummaryRow:
        row = SummaryRow(node.id, node.name, node.layer_type, None, None, used)
        if out is None or out.shape is None or any(u is None or not u.ok for u in upstream):
            return row
        ups = [u for u in upstream if u is not None]
        key = _cache_key(graph, node, ups, out)
        result = self._cache.get(key)
        if result is None:
            try:
                result = build_stats(graph, node, ups, out)
            except Exception as exc:  # a layer Keras builds in a model but not alone
                result = str(exc)
            self._cache[key] = result
            self.recomputed.append(node.id)
        if isinstance(result, str):
            error = f"{node.layer_type} '{node.name}': cannot count its weights ({result})"
            return replace(row, shape=out.shape, error=error)
        return replace(row, shape=out.shape, stats=result)

    def params_of(self, node_id: str) -> int | None:
        """The parameter count of a node from the last `summarize`, None when unknown."""
        row = self.summary.row(node_id)
        return row.stats.params if row is not None and row.stats is not None else None

    def stats_of(self, node_id: str) -> NodeStats | None:
        row = self.summary.row(node_id)
        return row.stats if row is not None else None


def _weight_holders(graph: LayerGraph, used: set[str]) -> set[str]:
    """Nodes whose weights the model holds: the used ones, and layers a used node shares."""
    holders = set(used)
    for nid in used:
        owner = shared_owner(graph, graph.nodes[nid])
        if owner is not None:
            holders.add(owner.id)
    return holders


def _totals(rows: list[SummaryRow], holders: set[str]) -> Totals:
    counted = [r for r in rows if r.used]
    stats = [r.stats for r in counted if r.stats is not None]
    weights = [r.stats for r in rows if r.node_id in holders and r.stats is not None]
    complete = len(stats) == len(counted) and all(s.flops is not None for s in stats)
    return Totals(
        trainable=sum(s.trainable for s in weights),
        non_trainable=sum(s.non_trainable for s in weights),
        weight_bytes=sum(s.weight_bytes for s in weights),
        activation_bytes=sum(s.activation_bytes for s in stats),
        flops=sum(s.flops or 0 for s in stats),
        trainable_bytes=sum(s.trainable_bytes for s in weights),
        complete=complete,
    )


def format_count(value: int | None) -> str:
    """`1,234` below ten thousand, then `12.3 K`, `4.5 M`, `6.7 G`; `—` when unknown."""
    if value is None:
        return "—"
    if abs(value) < 10_000:
        return f"{value:,}"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return str(value)  # pragma: no cover - unreachable


def format_bytes(value: int | None) -> str:
    """`512 B`, `3.0 KiB`, `1.5 MiB`, `2.0 GiB`; `—` when unknown."""
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - unreachable
