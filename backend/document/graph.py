"""The layer graph: nodes, edges, graph outputs, and the events views subscribe to.

A node is one Keras layer (type, user-set parameters, canvas position); an edge feeds one of
a node's outputs (`src_port`) into a numbered input port (`dst_port`) of another node. The graph
keeps itself acyclic and knows nothing of Keras or Qt.

Several outputs: a layer whose call returns several tensors (`LSTM(return_state=True)`:
output, h, c) is one node with an output port per tensor, numbered as Keras returns them.
How many a node has is a matter of its configuration, so the graph does not know it: shape
inference does (`backend.keras_bridge.shapes`), and reports an edge from a port the node lacks. An
edge saves `src_port` only when it is not 0, so files from before multi-output nodes load as they
were. A graph output is an output *entry*, a string: the node id for its output 0 (the old
form, unchanged) or `"<node id>:<port>"` for another output (`output_entry`, `split_output`);
`outputs` still lists node ids, one per model output, and `output_ports` the (id, port) pairs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from backend.document.layer_table import UnknownLayerError, layer_info
from backend.events import Signal


class GraphError(ValueError):
    """An edit the graph refuses, with the reason in plain words."""


class CycleError(GraphError):
    """The graph (or an edit of it) contains a cycle."""

    def __init__(self, node_ids: list[str], message: str) -> None:
        super().__init__(message)
        self.node_ids = node_ids


@dataclass
class Node:
    id: str
    layer_type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.layer_type,
            "name": self.name,
            "params": _jsonable(self.params),
            "position": [float(self.position[0]), float(self.position[1])],
        }


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    dst_port: int = 0
    src_port: int = 0
    """Which output of `src` the edge carries (0 for a layer with one output)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"src": self.src, "dst": self.dst, "dst_port": self.dst_port}
        if self.src_port:
            data["src_port"] = self.src_port
        return data


def output_entry(node_id: str, port: int = 0) -> str:
    """A graph output entry: the node id for output 0, `"<id>:<port>"` for another one."""
    return node_id if port == 0 else f"{node_id}:{port}"


def split_output(entry: str, node_ids: Container[str]) -> tuple[str, int] | None:
    """(node id, port) of an output entry among `node_ids`; None when it names no node.

    A whole entry that is a node id is that node's output 0 (so an id holding a colon stays
    readable); else `"<id>:<port>"` with a non-negative integer port.
    """
    if entry in node_ids:
        return entry, 0
    head, colon, tail = entry.rpartition(":")
    if colon and tail.isdigit() and head in node_ids:
        return head, int(tail)
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def new_node_id() -> str:
    return "n" + uuid.uuid4().hex[:12]


def snake_case(type_name: str) -> str:
    """Keras' own naming rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    s = re.sub(r"\W+", "", type_name)
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


class LayerGraph:
    """A directed acyclic graph of layers with change events.

    Events (all `backend.events.Signal`):
      node_added(node), node_removed(node), edge_added(edge), edge_removed(edge),
      params_changed(node_id), node_renamed(node_id), node_moved(node_id),
      outputs_changed(), changed() after every edit of the structure or parameters.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        # Adjacency indexes, kept in step by _add_edge/_remove_edge: O(degree) queries.
        self._in: dict[str, list[Edge]] = {}
        self._out: dict[str, list[Edge]] = {}
        self._outputs: list[str] = []  # output entries (`output_entry`)
        self.node_added = Signal("node_added")
        self.node_removed = Signal("node_removed")
        self.edge_added = Signal("edge_added")
        self.edge_removed = Signal("edge_removed")
        self.params_changed = Signal("params_changed")
        self.node_renamed = Signal("node_renamed")
        self.node_moved = Signal("node_moved")
        self.outputs_changed = Signal("outputs_changed")
        self.changed = Signal("changed")
        self._batch_depth = 0
        self._batch_dirty = False

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group edits: `changed` fires once at the end instead of after every edit."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._batch_dirty:
                self._batch_dirty = False
                self.changed.emit()

    def _changed(self) -> None:
        if self._batch_depth:
            self._batch_dirty = True
        else:
            self.changed.emit()

    # ----------------------------------------------------------------- queries
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {node_id!r}") from None

    def node_by_name(self, name: str) -> Node:
        for node in self.nodes.values():
            if node.name == name:
                return node
        raise GraphError(f"no node named {name!r}")

    def in_edges(self, node_id: str) -> list[Edge]:
        return sorted(self._in.get(node_id, ()), key=lambda e: e.dst_port)

    def out_edges(self, node_id: str) -> list[Edge]:
        return list(self._out.get(node_id, ()))

    def input_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if layer_info(n.layer_type).is_input]

    @property
    def outputs(self) -> list[str]:
        """Graph outputs as node ids, one per model output: the nodes marked as outputs, or
        else every non-Input sink (its output 0). See `output_ports` for which output."""
        return [nid for nid, _port in self.output_ports]

    @property
    def output_ports(self) -> list[tuple[str, int]]:
        """Graph outputs as (node id, output port), in the model's output order."""
        if self._outputs:
            return [self.split_output(entry) for entry in self._outputs]
        has_out = {nid for nid, edges in self._out.items() if edges}
        return [
            (nid, 0)
            for nid, n in self.nodes.items()
            if nid not in has_out and not layer_info(n.layer_type).is_input
        ]

    @property
    def explicit_outputs(self) -> list[str]:
        """The output entries the user marked (`output_entry` strings), in order."""
        return list(self._outputs)

    def split_output(self, entry: str) -> tuple[str, int]:
        """(node id, port) of an output entry of this graph; GraphError when it names none."""
        found = split_output(entry, self.nodes)
        if found is None:
            raise GraphError(f"no node with id {entry!r}")
        return found

    def successors(self, node_id: str) -> list[str]:
        return list(dict.fromkeys(e.dst for e in self._out.get(node_id, ())))

    def descendants(self, node_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for nxt in self.successors(stack.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def topological_order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Kahn's algorithm, stable in insertion order. Raises CycleError naming the nodes."""
        ids = list(self.nodes) if subset is None else [n for n in self.nodes if n in set(subset)]
        wanted = set(ids)
        indegree = {nid: 0 for nid in ids}
        for e in self.edges:
            if e.src in wanted and e.dst in wanted:
                indegree[e.dst] += 1
        ready = [nid for nid in ids if indegree[nid] == 0]
        order: list[str] = []
        out: dict[str, list[str]] = {nid: [] for nid in ids}
        for e in self.edges:
            if e.src in wanted and e.dst in wanted:
                out[e.src].append(e.dst)
        while ready:
            nid = ready.pop(0)
            order.append(nid)
            for nxt in out[nid]:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        if len(order) != len(ids):
            stuck = [nid for nid in ids if indegree[nid] > 0]
            names = ", ".join(repr(self.nodes[n].name) for n in stuck)
            raise CycleError(stuck, f"the graph has a cycle through {names}")
        return order

    def unique_name(self, base: str, exclude: str | None = None) -> str:
        return _first_free(base, {n.name for n in self.nodes.values() if n.id != exclude})

    # ----------------------------------------------------------------- edits
    def add_node(
        self,
        layer_type: str,
        params: dict[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        name: str | None = None,
        node_id: str | None = None,
        index: int | None = None,
    ) -> Node:
        """Add a node; `index` puts it at that place in the node order (undo of a delete)."""
        info = layer_info(layer_type)  # raises UnknownLayerError
        merged = dict(info.required)
        merged.update(params or {})
        nid = node_id or new_node_id()
        if nid in self.nodes:
            raise GraphError(f"a node with id {nid!r} already exists")
        node = Node(
            id=nid,
            layer_type=layer_type,
            name=self.unique_name(_valid_name(name) if name else snake_case(layer_type)),
            params=merged,
            position=(float(position[0]), float(position[1])),
        )
        if index is None or index >= len(self.nodes):
            self.nodes[nid] = node
        else:
            items = list(self.nodes.items())
            items.insert(max(0, index), (nid, node))
            self.nodes = dict(items)
        self.node_added.emit(node)
        self._changed()
        return node

    def remove_node(self, node_id: str) -> None:
        node = self.node(node_id)
        for edge in [*self._in.get(node_id, ()), *self._out.get(node_id, ())]:
            self._remove_edge(edge)
        kept = [o for o in self._outputs if self.split_output(o)[0] != node_id]
        if kept != self._outputs:
            self._outputs = kept
            self.outputs_changed.emit()
        del self.nodes[node_id]
        self._in.pop(node_id, None)
        self._out.pop(node_id, None)
        self.node_removed.emit(node)
        self._changed()

    def check_connection(
        self, src: str, dst: str, dst_port: int, check_cycle: bool = True, src_port: int = 0
    ) -> str | None:
        """Why `src[src_port] -> dst[dst_port]` cannot be made, or None when it can.

        Whether `src` has output `src_port` depends on its configuration: shape inference
        checks it. `check_cycle=False` skips the walk up from `src` (loading checks cycles
        once, at the end).
        """
        if src not in self.nodes or dst not in self.nodes:
            return "both ends must be nodes of this graph"
        if src == dst:
            return "a layer cannot feed itself"
        if not isinstance(src_port, int) or isinstance(src_port, bool) or src_port < 0:
            return f"output port {src_port!r} of '{self.nodes[src].name}' is not a port number"
        if src_port and layer_info(self.nodes[src].layer_type).is_input:
            return f"Input '{self.nodes[src].name}' has one output, not output {src_port}"
        info = layer_info(self.nodes[dst].layer_type)
        if info.max_inputs == 0:
            return f"{info.type_name} '{self.nodes[dst].name}' takes no inputs"
        if dst_port < 0 or (not info.is_variadic and dst_port >= info.max_inputs):
            return f"{info.type_name} '{self.nodes[dst].name}' has no input port {dst_port}"
        if any(e.dst_port == dst_port for e in self._in.get(dst, ())):
            return f"input {dst_port} of '{self.nodes[dst].name}' is already connected"
        if check_cycle and dst in self._ancestors_or_self(src):
            return "this connection would create a cycle"
        return None

    def connect(
        self,
        src: str,
        dst: str,
        dst_port: int | None = None,
        index: int | None = None,
        src_port: int = 0,
    ) -> Edge:
        """Connect output `src_port` of src to dst's input port (the first free one when port
        is None).

        `index` puts the edge at that place in the edge order (undo of a delete).
        """
        if dst_port is None:
            dst_port = self.free_port(dst)
        problem = self.check_connection(src, dst, dst_port, src_port=src_port)
        if problem:
            if "cycle" in problem:
                raise CycleError([src, dst], problem)
            raise GraphError(problem)
        edge = Edge(src, dst, dst_port, src_port)
        self._add_edge(edge, index)
        self.edge_added.emit(edge)
        self._changed()
        return edge

    def free_port(self, dst: str) -> int:
        used = {e.dst_port for e in self._in.get(dst, ())}
        port = 0
        while port in used:
            port += 1
        return port

    def disconnect(self, edge: Edge) -> None:
        if edge not in self.edges:
            raise GraphError("no such edge")
        self._remove_edge(edge)
        self._changed()

    def _add_edge(self, edge: Edge, index: int | None = None) -> None:
        if index is None:
            self.edges.append(edge)
        else:
            self.edges.insert(index, edge)
        self._in.setdefault(edge.dst, []).append(edge)
        self._out.setdefault(edge.src, []).append(edge)

    def _remove_edge(self, edge: Edge) -> None:
        self.edges.remove(edge)
        self._in[edge.dst].remove(edge)
        self._out[edge.src].remove(edge)
        self.edge_removed.emit(edge)

    def set_params(self, node_id: str, updates: dict[str, Any]) -> None:
        node = self.node(node_id)
        node.params.update(updates)
        self.params_changed.emit(node_id)
        self._changed()

    def reset_param(self, node_id: str, key: str) -> None:
        node = self.node(node_id)
        if key in node.params:
            del node.params[key]
            self.params_changed.emit(node_id)
            self._changed()

    def rename_node(self, node_id: str, name: str) -> str:
        node = self.node(node_id)
        node.name = self.unique_name(_valid_name(name), exclude=node_id)
        self.node_renamed.emit(node_id)
        self._changed()
        return node.name

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.node_moved.emit(node_id)

    def set_outputs(self, entries: list[str]) -> None:
        """Mark the model outputs: node ids, or `"<id>:<port>"` entries (`output_entry`)."""
        normal = [output_entry(*self.split_output(entry)) for entry in entries]
        self._outputs = list(dict.fromkeys(normal))
        self.outputs_changed.emit()
        self._changed()

    def clear(self) -> None:
        with self.batch():
            for nid in list(self.nodes):
                self.remove_node(nid)
            self._outputs = []

    def _ancestors_or_self(self, node_id: str) -> set[str]:
        seen = {node_id}
        stack = [node_id]
        while stack:
            cur = stack.pop()
            for e in self._in.get(cur, ()):
                if e.src not in seen:
                    seen.add(e.src)
                    stack.append(e.src)
        return seen

    # ----------------------------------------------------------------- (de)serialization
    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "outputs": list(self._outputs),
        }

    @classmethod
    def chain(cls, *specs: tuple[str, dict[str, Any]]) -> LayerGraph:
        """Layers in a chain, each fed by the one before, as a student draws a first model:
        `LayerGraph.chain(("Input", {"shape": [4]}), ("Dense", {"units": 3}))`."""
        graph = cls()
        previous = None
        for layer_type, params in specs:
            node = graph.add_node(layer_type, params)
            if previous is not None:
                graph.connect(previous, node.id)
            previous = node.id
        return graph

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerGraph:
        """Rebuild a graph; raises GraphError (or UnknownLayerError) naming what is wrong."""
        graph = cls()
        graph.load_dict(data)
        return graph

    def load_dict(self, data: dict[str, Any]) -> None:
        """Replace this graph's content by `data`, validating everything before changing."""
        staged = LayerGraph()
        taken: set[str] = set()
        if not isinstance(data, dict):
            raise GraphError("the graph must be a JSON object")
        nodes = data.get("nodes", [])
        edges = data.get("edges", [])
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise GraphError("'nodes' and 'edges' must be lists")
        for i, raw in enumerate(nodes):
            if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                raise GraphError(f"node #{i} has no layer 'type'")
            params = raw.get("params", {})
            pos = raw.get("position", [0, 0])
            if not isinstance(params, dict):
                raise GraphError(f"node #{i} ('{raw.get('name')}'): 'params' must be an object")
            if not (isinstance(pos, list) and len(pos) == 2 and all(map(_is_number, pos))):
                raise GraphError(f"node #{i} ('{raw.get('name')}'): bad 'position'")
            node = Node(
                id=str(raw.get("id") or new_node_id()),
                layer_type=raw["type"],
                name=_valid_name(str(raw.get("name") or snake_case(raw["type"]))),
                params=dict(params),
                position=(float(pos[0]), float(pos[1])),
            )
            try:
                layer_info(node.layer_type)
            except UnknownLayerError:
                raise UnknownLayerError(node.layer_type, node.name) from None
            if node.id in staged.nodes:
                raise GraphError(f"two nodes share the id {node.id!r}")
            node.name = _first_free(node.name, taken)  # a set: loading stays linear
            taken.add(node.name)
            staged.nodes[node.id] = node
        for i, raw in enumerate(edges):
            if not isinstance(raw, dict):
                raise GraphError(f"edge #{i} is not an object")
            src, dst, port = raw.get("src"), raw.get("dst"), raw.get("dst_port", 0)
            src_port = raw.get("src_port", 0)
            if not isinstance(src, str) or not isinstance(dst, str) or not isinstance(port, int):
                raise GraphError(f"edge #{i} needs 'src', 'dst' and an integer 'dst_port'")
            if not isinstance(src_port, int) or isinstance(src_port, bool) or src_port < 0:
                raise GraphError(f"edge #{i} ({src} -> {dst}): 'src_port' must be an integer >= 0")
            problem = staged.check_connection(src, dst, port, check_cycle=False, src_port=src_port)
            if problem:
                raise GraphError(f"edge #{i} ({src} -> {dst}): {problem}")
            staged._add_edge(Edge(src, dst, port, src_port))
        try:
            staged.topological_order()
        except CycleError as exc:
            raise GraphError(str(exc)) from exc
        outputs = data.get("outputs", [])
        if not isinstance(outputs, list) or any(
            not isinstance(o, str) or split_output(o, staged.nodes) is None for o in outputs
        ):
            raise GraphError(
                "'outputs' must list ids of nodes in the graph (or 'id:port' for another output)"
            )
        outputs = [output_entry(*staged.split_output(o)) for o in outputs]
        with self.batch():
            self.clear()
            for node in staged.nodes.values():
                self.nodes[node.id] = node
                self.node_added.emit(node)
            for edge in staged.edges:
                self._add_edge(edge)
                self.edge_added.emit(edge)
            self._outputs = list(outputs)
            self.outputs_changed.emit()
            self._changed()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def _first_free(base: str, taken: set[str]) -> str:
    """`base`, or `base_1`, `base_2`... : the first not in `taken`."""
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def _valid_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name.strip())
    return cleaned or "layer"
