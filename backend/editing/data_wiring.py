"""From data to graph: the Input takes the data's sample shape, the output its class count.

Everything returns undo commands for the GUI to push (one step, undoable), or messages; the
graph itself is never edited here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from backend.data.base import CLASSIFICATION
from backend.document.graph import LayerGraph, new_node_id
from backend.document.layer_table import LAYERS, layer_info
from backend.editing.commands import AddNode, Connect, Disconnect, Macro, SetParams

AUGMENTATION: list[tuple[str, dict[str, Any]]] = [
    ("RandomFlip", {"mode": "horizontal"}),
    ("RandomRotation", {"factor": 0.1}),
]


PIXEL_SCALING = ("Rescaling", "Normalization")
"""Layers that scale raw 0-255 pixels themselves when they come first."""


def suggested_params(graph: LayerGraph, source: str) -> dict[str, Any]:
    """Settings a new choice of the data source `source` takes from the model, over the
    source's own defaults (the Data panel and `main.py data` apply them; what the user sets
    wins). An image folder is read at raw 0-255 pixels when the model scales pixels itself (a
    pretrained backbone's preprocessing expects them raw; so does a Rescaling or
    Normalization layer right after the Input and its augmentation), and at the size and
    colours of the model's single image Input (height, width, 1 or 3 channels): a pretrained
    backbone is built for that size, an imported or trained model's weights learnt it."""
    if source != "image_folder":
        return {}
    params: dict[str, Any] = {}
    if scales_pixels(graph):
        params["rescale"] = False
    inputs = graph.input_nodes()
    shape = list(inputs[0].params.get("shape") or []) if len(inputs) == 1 else []
    modes = {1: "grayscale", 3: "rgb"}
    if len(shape) == 3 and all(isinstance(n, int) for n in shape) and shape[2] in modes:
        params.update(height=shape[0], width=shape[1], color_mode=modes[shape[2]])
    return params


def has_pretrained_block(graph: LayerGraph) -> bool:
    """A pretrained backbone (a block recording where its weights came from) is in the graph."""
    return any(
        layer_info(n.layer_type).is_block and isinstance(n.params.get("pretrained"), dict)
        for n in graph.nodes.values()
    )


def scales_pixels(graph: LayerGraph) -> bool:
    """The model takes raw pixels: it has a pretrained backbone, or what follows its single
    Input (past augmentation layers) is a Rescaling or Normalization layer."""
    if has_pretrained_block(graph):
        return True
    inputs = graph.input_nodes()
    if len(inputs) != 1:
        return False
    node = inputs[0]
    while True:
        after = graph.successors(node.id)
        if len(after) != 1:
            return False
        node = graph.nodes[after[0]]
        if layer_info(node.layer_type).category != "Augmentation":
            return node.layer_type in PIXEL_SCALING


@dataclass(frozen=True)
class DataTarget:
    """What a model needs to know about the data: sample shape, task, classes, target shape."""

    input_shape: tuple[int, ...]
    task: str
    num_classes: int = 0
    target_shape: tuple[int, ...] = ()

    @classmethod
    def of(cls, dataset: Any) -> DataTarget:
        return cls(
            tuple(dataset.input_shape),
            dataset.task,
            dataset.num_classes,
            tuple(dataset.target_shape),
        )

    @property
    def output_units(self) -> int:
        if self.task == CLASSIFICATION:
            return 1 if self.num_classes == 2 else self.num_classes
        return self.target_shape[-1] if self.target_shape else 1

    @property
    def output_activation(self) -> str:
        if self.task != CLASSIFICATION:
            return "linear"
        return "sigmoid" if self.num_classes == 2 else "softmax"


@dataclass
class DataFit:
    command: Macro | None
    messages: list[str] = field(default_factory=list)


def fit_graph_to_data(graph: LayerGraph, target: DataTarget) -> DataFit:
    """One undoable step: the Input's shape, and a Dense output's units and activation."""
    commands: list[Any] = []
    messages: list[str] = []
    inputs = graph.input_nodes()
    if len(inputs) != 1:
        what = "no Input layer" if not inputs else f"{len(inputs)} Input layers"
        messages.append(f"the graph has {what}: set the input shape by hand")
    elif list(inputs[0].params.get("shape") or []) != list(target.input_shape):
        commands.append(SetParams(inputs[0].id, {"shape": list(target.input_shape)}))
        messages.append(f"Input '{inputs[0].name}' takes shape {target.input_shape}")
    outputs = graph.outputs
    if len(outputs) == 1 and graph.nodes[outputs[0]].layer_type == "Dense":
        node = graph.nodes[outputs[0]]
        updates: dict[str, Any] = {}
        if node.params.get("units") != target.output_units:
            updates["units"] = target.output_units
        if (node.params.get("activation") or "linear") != target.output_activation:
            updates["activation"] = target.output_activation
        if updates:
            commands.append(SetParams(node.id, updates))
            parts = ", ".join(f"{k} {v}" for k, v in updates.items())
            messages.append(f"Dense '{node.name}' gets {parts}")
    if target.task == CLASSIFICATION:
        messages.append(f"{target.num_classes} classes")
    if not commands:
        return DataFit(None, ["the model already fits the data", *messages])
    return DataFit(Macro("Fit the model to the data", commands), messages)


def output_mismatch(
    graph: LayerGraph, output_shapes: dict[str, Any], target: DataTarget
) -> str | None:
    """Why the single output cannot fit the target (by its last dimension), or None."""
    outputs = graph.output_ports
    if len(outputs) != 1:
        return None
    node_id, port = outputs[0]
    result = output_shapes.get(node_id)
    if port and result is not None and result.ok:  # another output of the layer: its own
        result = result.port(port)
    shape = getattr(result, "shape", None)
    if not shape:
        return None
    node = graph.nodes[node_id]
    last = shape[-1]
    if target.task == CLASSIFICATION:
        k = target.num_classes
        if last == k or (k == 2 and last == 1):
            return None
        want = "1 (sigmoid) or 2 (softmax)" if k == 2 else f"{k} (softmax)"
        return (
            f"{node.layer_type} '{node.name}' gives {last} value(s) per sample but the data "
            f"has {k} classes: set its units to {want}"
        )
    if last == target.output_units:
        return None
    return (
        f"{node.layer_type} '{node.name}' gives {last} value(s) per sample but the target has "
        f"{target.output_units}: set its units to {target.output_units}"
    )


def augmentation_macro(
    graph: LayerGraph, layers: list[tuple[str, dict[str, Any]]] | None = None
) -> Macro:
    """Insert augmentation layers (active only in training) right after the single Input."""
    wanted = [(t, p) for t, p in (layers or AUGMENTATION) if t in LAYERS]
    if not wanted:
        raise ValueError("augmentation layers (RandomFlip, RandomRotation) are not available")
    inputs = graph.input_nodes()
    if len(inputs) != 1:
        raise ValueError("augmentation goes after the Input: the graph needs exactly one Input")
    source = inputs[0]
    old_edges = graph.out_edges(source.id)
    x, y = source.position
    ids = [new_node_id() for _ in wanted]
    commands: list[Any] = [
        AddNode(t, dict(p), (x + 60.0 * (i + 1), y + 150.0), node_id=nid)
        for i, ((t, p), nid) in enumerate(zip(wanted, ids, strict=True))
    ]
    if old_edges:
        commands.append(Disconnect(list(old_edges)))
    chain = [source.id, *ids]
    commands.extend(Connect(a, b) for a, b in itertools.pairwise(chain))
    commands.extend(Connect(ids[-1], e.dst, e.dst_port) for e in old_edges)
    names = ", ".join(t for t, _ in wanted)
    return Macro(f"Add augmentation ({names}) after '{source.name}'", commands)
