"""Advice a teacher would give on a graph, each pointing at its node, with fixes where one exists.

`advise` turns the compiler's problems (errors that stop training, unused branches) into
findings, attaches one-click fixes to the errors it knows how to repair, and adds warnings about
graphs that compile but will train badly: an output activation that does not fit the loss, a
Dense on an unflattened image, a huge Dense after Flatten, BatchNormalization after Dropout,
an output that does not match the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from backend.analysis.data_fit import PASS_THROUGH, DatasetMeta, check_data_fit, dataset_meta
from backend.analysis.errors import error_fixes
from backend.analysis.findings import Finding
from backend.analysis.fixes import Fix, change_type_fix, insert_fix, move_fix, set_params_fix
from backend.analysis.summary import Summary, format_count
from backend.document.graph import Edge, LayerGraph, Node
from backend.document.project import Project
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import Problem
from backend.keras_bridge.shapes import NodeShape, format_shape

HUGE_DENSE = 1_000_000
"""A Dense after Flatten with more parameters than this gets a warning."""


_CLASS_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
_SQUASH = {
    "sparse_categorical_crossentropy": "softmax",
    "categorical_crossentropy": "softmax",
    "binary_crossentropy": "sigmoid",
}
_LOGIT_LOSSES = tuple(_SQUASH)
_REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error", "huber")
_LINEAR = (None, "linear")
_ACTIVATION_FIXABLE = ("Dense", "Activation")
_ACTIVATION_OF_TYPE = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu"}


@dataclass
class _Context:
    graph: LayerGraph
    shapes: dict[str, NodeShape]
    summary: Summary | None
    meta: DatasetMeta | None
    dataset_name: str
    config: TrainingConfig
    incoming: dict[str, list[Edge]]
    outgoing: dict[str, list[Edge]]

    def shape(self, node_id: str) -> tuple[int | None, ...] | None:
        result = self.shapes.get(node_id)
        return result.shape if result is not None else None

    def source(self, node_id: str) -> Node | None:
        """The node feeding input 0 of `node_id`, walking up through shape-keeping layers."""
        seen = {node_id}
        edges = self.incoming.get(node_id, [])
        while edges:
            node = self.graph.nodes[edges[0].src]
            if node.layer_type not in PASS_THROUGH or node.id in seen:
                return node
            seen.add(node.id)
            edges = self.incoming.get(node.id, [])
        return None

    def label(self, node: Node) -> str:
        return f"{node.layer_type} '{node.name}'"


def advise(
    project: Project,
    shapes: dict[str, NodeShape],
    problems: list[Problem],
    summary: Summary | None = None,
) -> list[Finding]:
    """Errors (with fixes where possible) first, then warnings, each naming its node."""
    ctx = _context(project, shapes, summary)
    findings = [_from_problem(ctx, p) for p in problems]
    for check in _CHECKS:
        findings.extend(check(ctx))
    return sorted(findings, key=lambda f: f.severity != "error")


def _context(project: Project, shapes: dict[str, NodeShape], summary: Summary | None) -> _Context:
    graph = project.graph
    incoming: dict[str, list[Edge]] = {nid: [] for nid in graph.nodes}
    outgoing: dict[str, list[Edge]] = {nid: [] for nid in graph.nodes}
    for edge in graph.edges:
        incoming[edge.dst].append(edge)
        outgoing[edge.src].append(edge)
    for edges in incoming.values():
        edges.sort(key=lambda e: e.dst_port)
    choice = project.dataset
    meta = dataset_meta(choice) if choice is not None else None
    name = choice.name if choice is not None else ""
    return _Context(graph, shapes, summary, meta, name, project.training, incoming, outgoing)


def loss_of(ctx: _Context, output: Node) -> str:
    """The loss training will use on an output: its head's, else the project's; the trainer's
    own rule for 'auto'. Empty when 'auto' cannot be resolved (no shape or no dataset)."""
    config = ctx.config
    head = config.heads.get(output.name, {}) if isinstance(config.heads, dict) else {}
    loss = str(head.get("loss") or config.loss)
    if loss != "auto":
        return loss
    shape = ctx.shape(output.id)
    if ctx.meta is None or not shape:
        return ""
    import numpy as np

    from backend.data import Dataset
    from backend.training.trainer import resolve_loss

    empty = np.zeros((0,))
    stub = Dataset(ctx.dataset_name, ctx.meta.task, empty, empty, empty, empty, empty, empty)
    return resolve_loss(replace(config, loss="auto"), stub, int(shape[-1] or 1))


def _from_problem(ctx: _Context, problem: Problem) -> Finding:
    kind = "unused" if problem.severity == "warning" else "error"
    fixes: tuple[Fix, ...] = ()
    node = ctx.graph.nodes.get(problem.node_id or "")
    if problem.severity == "error" and node is not None:
        fixes = tuple(error_fixes(ctx.graph, node, ctx.shapes, ctx.incoming))
        if node.layer_type == "Input" and ctx.meta is not None:
            fixes = (*fixes, _input_shape_fix(ctx, node, ctx.meta))
    advice = "Connect it to the model, or delete it." if kind == "unused" else ""
    return Finding(problem.severity, problem.message, problem.node_id, advice, fixes, kind)


# ----------------------------------------------------------------- checks of the layers
def _dense_on_image(ctx: _Context) -> list[Finding]:
    findings = []
    for node in ctx.graph.nodes.values():
        shape = ctx.shape(ctx.incoming[node.id][0].src) if ctx.incoming[node.id] else None
        if node.layer_type != "Dense" or shape is None or len(shape) < 4 or not ctx.shape(node.id):
            continue
        source = ctx.source(node.id)
        if source is not None and source.layer_type == "Dense":
            continue  # the Dense before it already carries this warning
        fixes = [insert_fix(ctx.graph, node, "Flatten", {})]
        if len(shape) == 4:
            fixes.append(insert_fix(ctx.graph, node, "GlobalAveragePooling2D", {}))
        findings.append(
            Finding(
                "warning",
                f"{ctx.label(node)} gets an unflattened image {format_shape(shape)}: "
                "it mixes the channels of each pixel alone, never the pixels together",
                node.id,
                "Flatten the image first, or pool it with GlobalAveragePooling2D.",
                tuple(fixes),
                "dense_on_image",
            )
        )
    return findings


def _huge_dense_after_flatten(ctx: _Context) -> list[Finding]:
    if ctx.summary is None:
        return []
    findings = []
    for node in ctx.graph.nodes.values():
        stats = ctx.summary.row(node.id)
        source = ctx.source(node.id) if node.layer_type == "Dense" else None
        if source is None or source.layer_type != "Flatten" or stats is None or not stats.stats:
            continue
        if stats.stats.params <= HUGE_DENSE:
            continue
        before = ctx.incoming[source.id]
        image = ctx.shape(before[0].src) if before else None
        fixes: tuple[Fix, ...] = ()
        if image is not None and len(image) == 4:
            fixes = (change_type_fix(ctx.graph, source, "GlobalAveragePooling2D"),)
        flat = ctx.shape(source.id) or (None, None)
        findings.append(
            Finding(
                "warning",
                f"{ctx.label(node)} has {format_count(stats.stats.params)} parameters: "
                f"{ctx.label(source)} hands it {format_count(flat[-1])} features",
                node.id,
                "Pool more before flattening, or average each channel with "
                "GlobalAveragePooling2D instead of Flatten.",
                fixes,
                "huge_dense",
            )
        )
    return findings


def _bn_after_dropout(ctx: _Context) -> list[Finding]:
    findings = []
    for node in ctx.graph.nodes.values():
        feed = ctx.incoming[node.id]
        if node.layer_type != "BatchNormalization" or len(feed) != 1:
            continue
        dropout = ctx.graph.nodes[feed[0].src]
        if "Dropout" not in dropout.layer_type:
            continue
        fixes: tuple[Fix, ...] = ()
        if len(ctx.outgoing[dropout.id]) == 1 and len(ctx.incoming[dropout.id]) == 1:
            fixes = (move_fix(ctx.graph, dropout, node),)
        findings.append(
            Finding(
                "warning",
                f"{ctx.label(node)} comes right after {ctx.label(dropout)}: the statistics it "
                "learns with dropout on do not hold at inference, when dropout is off",
                node.id,
                "Put Dropout after BatchNormalization.",
                fixes,
                "bn_after_dropout",
            )
        )
    return findings


# ----------------------------------------------------------------- checks against loss and data
def _activation_of(node: Node) -> tuple[bool, Any]:
    """(known, activation name or None) of the last function a node applies."""
    if node.layer_type in _ACTIVATION_OF_TYPE:
        return True, _ACTIVATION_OF_TYPE[node.layer_type]
    if "activation" in node.params:
        return True, node.params["activation"]
    from backend.keras_bridge.catalog import layer_spec

    spec = layer_spec(node.layer_type)
    if spec.has_param("activation"):
        return True, spec.param("activation").default
    return False, None


def _activation_vs_loss(ctx: _Context) -> list[Finding]:
    findings = []
    for output_id in ctx.graph.outputs:
        node = ctx.graph.nodes[output_id]
        shape = ctx.shape(output_id)
        known, activation = _activation_of(node)
        loss = loss_of(ctx, node)
        if not known or not shape or not loss:
            continue
        units = int(shape[-1] or 1)
        verdict = _judge_activation(loss, activation, units, ctx.meta, ctx.config.from_logits)
        if verdict is None:
            continue
        message, advice, better = verdict
        fixes: tuple[Fix, ...] = ()
        if node.layer_type in _ACTIVATION_FIXABLE or node.layer_type.startswith("Conv"):
            label = f"Set activation of '{node.name}' to {better}"
            fixes = (set_params_fix(ctx.graph, node.id, {"activation": better}, label),)
        text = f"{ctx.label(node)} ends with {activation or 'no activation'}, but {message}"
        findings.append(Finding("warning", text, node.id, advice, fixes, "activation_vs_loss"))
    return findings


def _judge_activation(
    loss: str, activation: Any, units: int, meta: DatasetMeta | None, from_logits: bool
) -> tuple[str, str, str] | None:
    """(what is wrong, what to try, the better activation), or None when they fit."""
    nice = loss.replace("_", " ")
    if loss in _LOGIT_LOSSES and from_logits and activation not in _LINEAR:
        why = f"{nice} has from_logits set: it applies {_SQUASH[loss]} itself, a second time"
        return why, "Use no activation (linear) on the output, or unset from_logits.", "linear"
    if loss in _CLASS_LOSSES and activation != "softmax" and not from_logits:
        if activation in _LINEAR:
            why = f"{nice} expects probabilities (from_logits is not set)"
        else:
            why = f"{nice} expects class probabilities that sum to 1"
        return why, "Use softmax on the output layer, or set from_logits in Training.", "softmax"
    if loss == "binary_crossentropy" and activation != "sigmoid" and not from_logits:
        if activation == "softmax" and units == 1:
            why = "softmax over a single unit always outputs 1.0: nothing can be learned"
        else:
            why = "binary cross-entropy expects one probability per unit"
        return why, "Use sigmoid on the output layer.", "sigmoid"
    regression = meta is not None and meta.task == "regression"
    if loss in _REGRESSION_LOSSES and regression and activation in ("softmax", "sigmoid"):
        why = "regression targets are not squeezed into (0, 1)"
        return why, "Use no activation (linear) on a regression output.", "linear"
    return None


def _data_fit(ctx: _Context) -> list[Finding]:
    """The Input and the output against the dataset (`backend.analysis.data_fit`)."""
    if ctx.meta is None:
        return []
    return check_data_fit(ctx.graph, ctx.meta, ctx.config, ctx.shapes, ctx.dataset_name)


def _input_shape_fix(ctx: _Context, node: Node, meta: DatasetMeta) -> Fix:
    label = f"Set shape of '{node.name}' to {format_shape(meta.input_shape)}"
    return set_params_fix(ctx.graph, node.id, {"shape": list(meta.input_shape)}, label)


_CHECKS = (
    _data_fit,
    _dense_on_image,
    _huge_dense_after_flatten,
    _bn_after_dropout,
    _activation_vs_loss,
)
