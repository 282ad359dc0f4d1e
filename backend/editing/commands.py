"""Undo as commands on the graph model: each user gesture is one command with a label.

A command changes the model only (views follow from the model's events): the graph, or the
project's training settings and dataset (`SetTrainingSettings`, `SetDataset`), all on one
`UndoStack`. `UndoStack` runs
commands, keeps a bounded history, and announces changes so an Edit menu and a history view
can mirror it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from backend.document.graph import Edge, LayerGraph, Node
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig, setting_fields
from backend.events import Signal


class Command(Protocol):
    label: str

    def do(self, graph: LayerGraph) -> None: ...

    def undo(self, graph: LayerGraph) -> None: ...


@dataclass
class AddNode:
    layer_type: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    name: str | None = None
    node_id: str | None = None
    label: str = ""

    def do(self, graph: LayerGraph) -> None:
        node = graph.add_node(
            self.layer_type, copy.deepcopy(self.params), self.position, self.name, self.node_id
        )
        self.node_id, self.name = node.id, node.name  # redo recreates the same node
        self.label = self.label or f"Add {self.layer_type} '{node.name}'"

    def undo(self, graph: LayerGraph) -> None:
        assert self.node_id is not None
        graph.remove_node(self.node_id)


@dataclass
class RemoveNodes:
    """Delete nodes and every edge touching them; undo restores ids, names, edges, outputs."""

    node_ids: list[str]
    label: str = ""
    _nodes: list[tuple[int, Node]] = field(default_factory=list)
    _edges: list[tuple[int, Edge]] = field(default_factory=list)
    _outputs: list[str] = field(default_factory=list)

    def do(self, graph: LayerGraph) -> None:
        doomed = set(self.node_ids)
        order = list(graph.nodes)
        self._nodes = sorted(
            ((order.index(n), copy.deepcopy(graph.node(n))) for n in dict.fromkeys(self.node_ids)),
            key=lambda pair: pair[0],
        )
        self._edges = [
            (i, e) for i, e in enumerate(graph.edges) if e.src in doomed or e.dst in doomed
        ]
        self._outputs = graph.explicit_outputs
        if not self.label:
            names = ", ".join(f"'{n.name}'" for _, n in self._nodes[:3])
            more = f" and {len(self._nodes) - 3} more" if len(self._nodes) > 3 else ""
            self.label = f"Delete {names}{more}"
        with graph.batch():
            for nid in self.node_ids:
                graph.remove_node(nid)

    def undo(self, graph: LayerGraph) -> None:
        with graph.batch():
            for index, node in self._nodes:
                graph.add_node(
                    node.layer_type, dict(node.params), node.position, node.name, node.id, index
                )
            for index, edge in self._edges:
                graph.connect(edge.src, edge.dst, edge.dst_port, index, edge.src_port)
            graph.set_outputs(self._outputs)


@dataclass
class Connect:
    """Connect output `src_port` of `src` to input `dst_port` of `dst` (the first free one)."""

    src: str
    dst: str
    dst_port: int | None = None
    label: str = ""
    _edge: Edge | None = None
    src_port: int = 0

    def do(self, graph: LayerGraph) -> None:
        self._edge = graph.connect(self.src, self.dst, self.dst_port, src_port=self.src_port)
        self.dst_port = self._edge.dst_port
        if not self.label:
            self.label = f"Connect '{graph.nodes[self.src].name}' → '{graph.nodes[self.dst].name}'"

    def undo(self, graph: LayerGraph) -> None:
        assert self._edge is not None
        graph.disconnect(self._edge)


@dataclass
class Disconnect:
    edges: list[Edge]
    label: str = ""
    _indices: list[tuple[int, Edge]] = field(default_factory=list)

    def do(self, graph: LayerGraph) -> None:
        if not self.label:
            self.label = "Disconnect" if len(self.edges) == 1 else f"Disconnect {len(self.edges)}"
        wanted = set(self.edges)
        self._indices = [(i, e) for i, e in enumerate(graph.edges) if e in wanted]
        with graph.batch():
            for edge in self.edges:
                graph.disconnect(edge)

    def undo(self, graph: LayerGraph) -> None:
        with graph.batch():
            for index, edge in self._indices:
                graph.connect(edge.src, edge.dst, edge.dst_port, index, edge.src_port)


@dataclass
class MoveNodes:
    """One drag of one or several nodes."""

    moves: dict[str, tuple[tuple[float, float], tuple[float, float]]]  # id -> (old, new)
    label: str = ""

    def do(self, graph: LayerGraph) -> None:
        if not self.label:
            if len(self.moves) == 1:
                self.label = f"Move '{graph.nodes[next(iter(self.moves))].name}'"
            else:
                self.label = f"Move {len(self.moves)} layers"
        for nid, (_old, new) in self.moves.items():
            graph.move_node(nid, new)

    def undo(self, graph: LayerGraph) -> None:
        for nid, (old, _new) in self.moves.items():
            graph.move_node(nid, old)


_ABSENT = object()


@dataclass
class SetParams:
    """Set parameters of one node; a value of None in `reset` removes keys (back to default)."""

    node_id: str
    updates: dict[str, Any] = field(default_factory=dict)
    reset: list[str] = field(default_factory=list)
    label: str = ""
    _old: dict[str, Any] = field(default_factory=dict)

    def do(self, graph: LayerGraph) -> None:
        node = graph.node(self.node_id)
        keys = [*self.updates, *self.reset]
        self._old = {
            k: copy.deepcopy(node.params[k]) if k in node.params else _ABSENT for k in keys
        }
        if not self.label:
            self.label = f"Set {', '.join(keys)} of '{node.name}'"
        with graph.batch():
            if self.updates:
                graph.set_params(self.node_id, copy.deepcopy(self.updates))
            for key in self.reset:
                graph.reset_param(self.node_id, key)

    def undo(self, graph: LayerGraph) -> None:
        restore = {k: v for k, v in self._old.items() if v is not _ABSENT}
        with graph.batch():
            if restore:
                graph.set_params(self.node_id, copy.deepcopy(restore))
            for key, value in self._old.items():
                if value is _ABSENT:
                    graph.reset_param(self.node_id, key)


@dataclass
class Rename:
    node_id: str
    name: str
    label: str = ""
    _old: str = ""

    def do(self, graph: LayerGraph) -> None:
        self._old = graph.node(self.node_id).name
        self.name = graph.rename_node(self.node_id, self.name)
        self.label = self.label or f"Rename '{self._old}' to '{self.name}'"

    def undo(self, graph: LayerGraph) -> None:
        graph.rename_node(self.node_id, self._old)


@dataclass
class SetOutputs:
    outputs: list[str]
    label: str = "Change model outputs"
    _old: list[str] = field(default_factory=list)

    def do(self, graph: LayerGraph) -> None:
        self._old = graph.explicit_outputs
        graph.set_outputs(self.outputs)

    def undo(self, graph: LayerGraph) -> None:
        graph.set_outputs(self._old)


@dataclass
class Macro:
    """Several commands as one undo step (a paste, an insert-on-edge, a quick-add)."""

    label: str
    commands: list[Any] = field(default_factory=list)

    def do(self, graph: LayerGraph) -> None:
        done: list[Any] = []
        with graph.batch():
            try:
                for command in self.commands:
                    command.do(graph)
                    done.append(command)
            except Exception:
                for command in reversed(done):
                    command.undo(graph)
                raise

    def undo(self, graph: LayerGraph) -> None:
        with graph.batch():
            for command in reversed(self.commands):
                command.undo(graph)


class UndoStack:
    """Runs commands and keeps them for undo/redo. `changed` fires after every push/undo/redo."""

    def __init__(self, graph: LayerGraph, limit: int = 200) -> None:
        self.graph = graph
        self.limit = limit
        self.done: list[Any] = []
        self.undone: list[Any] = []
        self.changed = Signal("undo_changed")

    def push(self, command: Any) -> Any:
        """Do `command`; if it raises, nothing is recorded and the error propagates."""
        command.do(self.graph)
        self.done.append(command)
        self.undone.clear()
        if len(self.done) > self.limit:
            del self.done[0]
        self.changed.emit()
        return command

    def undo(self) -> str | None:
        if not self.done:
            return None
        command = self.done.pop()
        command.undo(self.graph)
        self.undone.append(command)
        self.changed.emit()
        return str(command.label)

    def redo(self) -> str | None:
        if not self.undone:
            return None
        command = self.undone.pop()
        command.do(self.graph)
        self.done.append(command)
        self.changed.emit()
        return str(command.label)

    @property
    def can_undo(self) -> bool:
        return bool(self.done)

    @property
    def can_redo(self) -> bool:
        return bool(self.undone)

    @property
    def undo_label(self) -> str:
        return str(self.done[-1].label) if self.done else ""

    @property
    def redo_label(self) -> str:
        return str(self.undone[-1].label) if self.undone else ""

    def labels(self) -> list[str]:
        """The history, oldest first (done ones, then undone ones newest-undone last)."""
        return [str(c.label) for c in self.done] + [str(c.label) for c in reversed(self.undone)]

    def clear(self) -> None:
        self.done.clear()
        self.undone.clear()
        self.changed.emit()


@dataclass
class ReplaceGraph:
    """Replace the whole graph by a saved one (a run's graph), as one undo step.

    `LayerGraph.load_dict` validates everything before it changes anything, so a bad graph
    raises GraphError and leaves the current one as it was.
    """

    data: dict[str, Any]
    label: str = "Replace the graph"
    _old: dict[str, Any] = field(default_factory=dict)

    def do(self, graph: LayerGraph) -> None:
        self._old = graph.to_dict()
        graph.load_dict(copy.deepcopy(self.data))

    def undo(self, graph: LayerGraph) -> None:
        graph.load_dict(self._old)


# ----------------------------------------------------------------- project settings
def _setting_label(name: str) -> str:
    for field_name, info, _default in setting_fields():
        if field_name == name:
            return info.label
    return name.replace("_", " ")


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 30 else text[:27] + "..."


@dataclass
class SetTrainingSettings:
    """Change training settings (fields of `TrainingConfig`) as one undo step. The new
    settings are validated before anything changes; a bad value raises ValueError."""

    project: Project
    changes: dict[str, Any]
    label: str = ""
    _old: TrainingConfig | None = None

    def do(self, graph: LayerGraph) -> None:
        old = self.project.training
        unknown = [k for k in self.changes if not hasattr(old, k)]
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        new = replace(old, **copy.deepcopy(self.changes))
        new.validate()
        self._old = old
        if not self.label:
            if len(self.changes) == 1:
                ((key, value),) = self.changes.items()
                self.label = f"Set {_setting_label(key)} to {_shown(value)}"
            else:
                self.label = f"Change {len(self.changes)} training settings"
        self.project.set_training(new)

    def undo(self, graph: LayerGraph) -> None:
        assert self._old is not None
        self.project.set_training(self._old)


@dataclass
class SetDataset:
    """Choose the project's data (None: no data yet) as one undo step."""

    project: Project
    dataset: DatasetChoice | None
    label: str = ""
    _old: DatasetChoice | None = None

    def do(self, graph: LayerGraph) -> None:
        self._old = self.project.dataset
        if not self.label:
            name = self.dataset.name if self.dataset is not None else "no data"
            self.label = f"Use dataset {name}" if self.dataset is not None else "Use no data"
        self.project.set_dataset(copy.deepcopy(self.dataset))

    def undo(self, graph: LayerGraph) -> None:
        self.project.set_dataset(self._old)
