"""Shapes that follow the graph: re-inferred after every change, announced to views."""

from __future__ import annotations

from backend.document.graph import LayerGraph
from backend.events import Signal
from backend.keras_bridge.compiler import Problem, validate
from backend.keras_bridge.shapes import NodeShape, ShapeInference


class LiveShapes:
    """Keeps `results` and `problems` current for a graph and emits `updated()` after each pass.

    Inactive until `activate()` (the GUI activates it once Keras has loaded in the background,
    so opening a window never waits for TensorFlow).
    """

    def __init__(self, graph: LayerGraph) -> None:
        self.graph = graph
        self.results: dict[str, NodeShape] = {}
        self.problems: list[Problem] = []
        self.updated = Signal("shapes_updated")
        self.active = False
        self._inference = ShapeInference()
        graph.changed.connect(self.refresh)

    def activate(self) -> None:
        self.active = True
        self.refresh()

    def refresh(self) -> None:
        if not self.active:
            return
        self.results = self._inference.infer(self.graph)
        self.problems = validate(self.graph, self.results)
        self.updated.emit()

    @property
    def recomputed(self) -> list[str]:
        return list(self._inference.recomputed)

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def detach(self) -> None:
        self.graph.changed.disconnect(self.refresh)
