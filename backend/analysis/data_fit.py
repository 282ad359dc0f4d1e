"""Does the model fit its data? What the analysis needs to know of a dataset, and the check.

`check_data_fit(graph, dataset, config)` compares the model with the data before training:
the Input with the samples, the output and the loss with the labels (10 classes into one
sigmoid unit, a 3-unit regression head on one target, a loss for classes on numeric targets
all "trained" before, to meaningless numbers). `validate` reports it and a training refuses
to start on its errors; the GUI shows the same findings with their fixes.

The shapes of the built-in sets are known ahead (a test checks them against `load_dataset`).
Generated sets are small: they are loaded once per setting and remembered. Keras downloads and
the user's files may take seconds: `dataset_meta` only answers for them once something has
called it with `load=True` (the analysis panel does, on a background thread).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from backend.analysis.findings import Finding
from backend.analysis.fixes import Fix, set_params_fix
from backend.data import DATASETS, Dataset, DatasetError, load_dataset
from backend.document.graph import LayerGraph, Node
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.shapes import NodeShape, ShapeInference, format_shape

CHEAP_KINDS = ("built-in", "generated")
"""Dataset sources that load in a blink (`backend.data.registry` kinds)."""


@dataclass(frozen=True)
class DatasetMeta:
    task: str  # "classification" or "regression"
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    """One label's shape: () for class numbers, (1,) for a single regression target."""
    num_classes: int = 0

    @property
    def target_units(self) -> int:
        """The output width a model needs: classes, or regression targets."""
        if self.task == "classification":
            return self.num_classes
        return self.target_shape[-1] if self.target_shape else 1


_TWO_D = DatasetMeta("classification", (2,), (), 2)
BUILT_IN: dict[str, DatasetMeta] = {
    "digits": DatasetMeta("classification", (8, 8, 1), (), 10),
    "iris": DatasetMeta("classification", (4,), (), 3),
    "wine": DatasetMeta("classification", (13,), (), 3),
    "breast_cancer": DatasetMeta("classification", (30,), (), 2),
    "diabetes": DatasetMeta("regression", (10,), (1,)),
    "moons": _TWO_D,
    "circles": _TWO_D,
    "xor": _TWO_D,
}
"""Built-in datasets whose shapes do not depend on their settings."""

_known: dict[tuple[str, str], DatasetMeta | None] = {}
_lock = threading.Lock()


def _key(choice: DatasetChoice) -> tuple[str, str] | None:
    try:
        return choice.name, json.dumps(choice.params, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None


def is_cheap(choice: DatasetChoice) -> bool:
    info = DATASETS.get(choice.name)
    return info is not None and getattr(info, "kind", "built-in") in CHEAP_KINDS


def is_known(choice: DatasetChoice) -> bool:
    """True when `dataset_meta` answers at once (known ahead, loaded before, or cheap)."""
    key = _key(choice)
    with _lock:
        remembered = key in _known
    return choice.name in BUILT_IN or remembered or is_cheap(choice)


def dataset_meta(choice: DatasetChoice, load: bool = False) -> DatasetMeta | None:
    """The task and shapes of a project's dataset; None when unknown or it cannot be loaded.

    A costly dataset (a Keras download, a file) is loaded only when `load` is True.
    """
    if choice.name in BUILT_IN:
        return _viewed(BUILT_IN[choice.name], (choice.params or {}).get("view"))
    key = _key(choice)
    if key is None:
        return None
    with _lock:
        if key in _known:
            return _known[key]
    if not load and not is_cheap(choice):
        return None
    try:
        data = load_dataset(choice.name, choice.params)
        x, y = data.x_train, data.y_train
        y = y[0] if isinstance(y, list) and y else y  # one label array per head: alike
        meta: DatasetMeta | None = (
            None  # inputs split in two (a view): the model is checked once they are loaded
            if isinstance(x, list)
            else meta_of(data.task, x.shape, y.shape, data.num_classes)
        )
    except (DatasetError, OSError, MemoryError):
        meta = None
    with _lock:
        _known[key] = meta
    return meta


def _viewed(meta: DatasetMeta, view: Any) -> DatasetMeta | None:
    """A built-in set's shapes as a data view presents them (`backend.data.views`): an
    autoencoder's target is its input; inputs split in two are not known here."""
    if view == "autoencoder":
        return DatasetMeta("regression", meta.input_shape, meta.input_shape)
    if view == "two_inputs":
        return None
    return meta  # none, or the same labels for each of several heads


def meta_of(
    task: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...], num_classes: int
) -> DatasetMeta:
    return DatasetMeta(
        task, tuple(int(d) for d in x_shape[1:]), tuple(int(d) for d in y_shape[1:]), num_classes
    )


# ----------------------------------------------------------------- the model against the data
PASS_THROUGH = frozenset(
    {
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
    }
)
"""Layers that keep their input's shape: walked through to find where a tensor comes from."""

CLASS_ID_LOSSES = ("sparse_categorical_crossentropy",)
"""Losses that take one class number per sample."""
ONE_HOT_LOSSES = (
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "kl_divergence",
)
"""Losses that take one probability per class (one-hot labels)."""
BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge")
"""Losses that take one 0/1 label per output value."""
REGRESSION_LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "poisson",
)
"""Losses that compare each output value with a target value (cosine similarity, dice and
tversky are not judged here)."""


def check_data_fit(
    graph: LayerGraph,
    data: Dataset | DatasetMeta,
    config: TrainingConfig,
    shapes: dict[str, NodeShape] | None = None,
    dataset_name: str = "",
) -> list[Finding]:
    """What stops this model from learning this data, before any training: the Input against
    the samples, the output and the loss against the labels (classes, target width). Errors
    carry the one-click fix where there is one (set units, and softmax). [] when they fit.

    `data` is the loaded dataset, or its `DatasetMeta` (`dataset_meta`). A model with several
    outputs is only checked at its inputs.
    """
    meta = data if isinstance(data, DatasetMeta) else _meta_of_dataset(data)
    if meta is None:
        return []
    name = dataset_name or getattr(data, "name", "") or "the dataset"
    shapes = shapes if shapes is not None else ShapeInference().infer(graph)
    fit = _Fit(graph, shapes, meta, config, name)
    return [*fit.inputs(), *fit.output()]


def project_data_fit(project: Project, shapes: dict[str, NodeShape] | None = None) -> list[Finding]:
    """`check_data_fit` of a project against its own data, loaded here (`validate`); data that
    cannot be loaded is an error too. [] for a project with no dataset yet."""
    if project.dataset is None:
        return []
    choice = project.resolved_dataset()
    try:
        data = choice.load()
    except (DatasetError, OSError) as exc:
        return [Finding("error", f"dataset '{choice.name}' cannot be loaded: {exc}", kind="data")]
    return check_data_fit(project.graph, data, project.training, shapes)


def first_data_error(
    graph: LayerGraph | dict[str, Any], dataset: Dataset, config: TrainingConfig
) -> Finding | None:
    """The first error of `check_data_fit`, for a training about to start (None: train)."""
    if isinstance(graph, dict):
        graph = LayerGraph.from_dict(graph)
    errors = [f for f in check_data_fit(graph, dataset, config) if f.severity == "error"]
    return errors[0] if errors else None


def _meta_of_dataset(data: Dataset) -> DatasetMeta | None:
    x, y = data.x_train, data.y_train
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        return None  # several inputs or outputs: each has its own shape
    return meta_of(data.task, x.shape, y.shape, data.num_classes)


class _Fit:
    def __init__(
        self,
        graph: LayerGraph,
        shapes: dict[str, NodeShape],
        meta: DatasetMeta,
        config: TrainingConfig,
        name: str,
    ) -> None:
        self.graph, self.shapes, self.meta, self.config = graph, shapes, meta, config
        self.name = name

    def inputs(self) -> list[Finding]:
        inputs = self.graph.input_nodes()
        if len(inputs) != 1 or not self.meta.input_shape:
            return []
        node, wanted = inputs[0], self.meta.input_shape
        result = self.shapes.get(node.id)
        shape = result.shape if result is not None else None
        if shape is None or _same_shape(tuple(shape[1:]), wanted):
            return []  # an Input without a valid shape is a compiler error, with the same fix
        message = (
            f"{_label(node)} takes {format_shape(tuple(shape[1:]))}, "
            f"but dataset '{self.name}' gives {format_shape(wanted)}"
        )
        label = f"Set shape of '{node.name}' to {format_shape(wanted)}"
        fix = set_params_fix(self.graph, node.id, {"shape": list(wanted)}, label)
        advice = "Set the Input's shape from the data."
        return [Finding("error", message, node.id, advice, (fix,), "input_shape")]

    def output(self) -> list[Finding]:
        ports = self.graph.output_ports
        if len(ports) != 1:
            return []
        node_id, port = ports[0]
        result = self.shapes.get(node_id)
        out = result.port(port) if result is not None and result.ok else None
        if out is None or out.shape is None or len(out.shape) < 2:
            return []
        node = self.graph.nodes[node_id]
        shape = tuple(out.shape[1:])
        loss = self._loss(node, int(shape[-1] or 1))
        if self.meta.task == "classification":
            return self._classes(node, shape, loss)
        return self._targets(node, shape, loss)

    def _loss(self, node: Node, units: int) -> str:
        heads = self.config.heads if isinstance(self.config.heads, dict) else {}
        head = heads.get(node.name)
        chosen = head.get("loss") if isinstance(head, dict) else None
        loss = str(chosen or self.config.loss)
        if loss != "auto":
            return loss
        from backend.training.setup import resolve_loss

        empty = np.zeros((0,))
        stub = Dataset(self.name, self.meta.task, empty, empty, empty, empty, empty, empty)
        return resolve_loss(replace(self.config, loss="auto"), stub, units)

    def _classes(self, node: Node, shape: tuple[int | None, ...], loss: str) -> list[Finding]:
        k, units, labels = self.meta.num_classes, int(shape[-1] or 1), self.meta.target_shape
        label, nice = _label(node), _nice(loss)
        if loss in ONE_HOT_LOSSES and not labels:
            message = (
                f"{nice} expects one-hot labels, but dataset '{self.name}' labels each sample "
                "with a class number"
            )
            advice = "Choose sparse_categorical_crossentropy (or auto) as the loss in Training."
            return [Finding("error", message, node.id, advice, (), "one_hot_loss")]
        if tuple(shape[:-1]) != labels and loss not in ONE_HOT_LOSSES:
            message = (
                f"the output {label} gives {format_shape(shape)} per sample, but dataset "
                f"'{self.name}' labels each sample with {_one_label(labels)}"
            )
            advice = "Flatten or pool before the output layer."
            return [Finding("error", message, node.id, advice, (), "output_size")]
        gives = f"the output {label} gives {_values(units)} per sample"
        if loss in BINARY_LOSSES and k > 2:
            why = f"{gives} ({nice}, which takes labels 0 and 1)"
            return [self._size_error(node, why, k, loss, softmax=True)]
        if loss in BINARY_LOSSES and units != 1:
            why = f"{gives}, but {nice} compares each of them with the one 0/1 label of a sample"
            message = f"{why} (dataset '{self.name}' has {k} classes)"
            fixes = self._units_fix(node, 1, "sigmoid")
            advice = "Give the output one unit with sigmoid, or use a categorical loss."
            return [Finding("error", message, node.id, advice, fixes, "output_size")]
        if loss in CLASS_ID_LOSSES and units != k:
            severity = "error" if units < k else "warning"
            return [self._size_error(node, gives, k, loss, severity=severity)]
        if loss in REGRESSION_LOSSES and units > 1:
            message = (
                f"{nice} compares the {units} values of the output {label} with the one class "
                f"number of each sample of dataset '{self.name}' (it broadcasts, and learns "
                "nothing about classes)"
            )
            advice = "Choose auto (or sparse_categorical_crossentropy) as the loss in Training."
            return [Finding("error", message, node.id, advice, (), "loss_vs_labels")]
        return []

    def _size_error(
        self,
        node: Node,
        why: str,
        k: int,
        loss: str,
        severity: str = "error",
        softmax: bool = False,
    ) -> Finding:
        message = f"{why}, but dataset '{self.name}' has {k} classes"
        automatic = self.config.loss == "auto"
        fixes = self._units_fix(node, k, "softmax" if softmax or k > 1 else None)
        if loss in BINARY_LOSSES and not automatic:
            fixes = ()  # the loss itself must change: a setting, not a layer
            advice = "Choose sparse_categorical_crossentropy (or auto) as the loss in Training."
        else:
            advice = f"Give the last Dense {k} units."
        return Finding(severity, message, node.id, advice, fixes, "output_size")

    def _targets(self, node: Node, shape: tuple[int | None, ...], loss: str) -> list[Finding]:
        label, nice, wanted = _label(node), _nice(loss), self.meta.target_shape or (1,)
        if loss in CLASS_ID_LOSSES + ONE_HOT_LOSSES or loss in ("hinge", "squared_hinge"):
            message = (
                f"{nice} is a classification loss, but dataset '{self.name}' has numeric "
                "targets (regression)"
            )
            advice = "Choose mean_squared_error (or auto) as the loss in Training."
            return [Finding("error", message, node.id, advice, (), "loss_vs_labels")]
        if _same_shape(shape, wanted):
            return []
        units, count = int(shape[-1] or 1), int(wanted[-1])
        message = (
            f"the output {label} gives {_values(units)} per sample, but dataset '{self.name}' "
            f"has {count} target{'s' if count != 1 else ''} per sample: the loss would compare "
            "each value with the targets it broadcasts to"
        )
        fixes = self._units_fix(node, count, None) if shape[:-1] == wanted[:-1] else ()
        advice = f"Give the last Dense {count} unit{'s' if count != 1 else ''}."
        return [Finding("error", message, node.id, advice, fixes, "output_size")]

    def _units_fix(self, node: Node, units: int, activation: str | None) -> tuple[Fix, ...]:
        dense = node if node.layer_type == "Dense" else self._source(node)
        if dense is None or dense.layer_type != "Dense":
            return ()
        updates: dict[str, Any] = {"units": units}
        label = f"Set units of '{dense.name}' to {units}"
        current = dense.params.get("activation")
        if activation and dense is node and current not in (activation, None, "linear"):
            updates["activation"] = activation
            label += f" and activation to {activation}"
        return (set_params_fix(self.graph, dense.id, updates, label),)

    def _source(self, node: Node) -> Node | None:
        """The node feeding `node`, walking up through shape-keeping layers."""
        seen = {node.id}
        edges = self.graph.in_edges(node.id)
        while edges:
            source = self.graph.nodes[edges[0].src]
            if source.layer_type not in PASS_THROUGH or source.id in seen:
                return source
            seen.add(source.id)
            edges = self.graph.in_edges(source.id)
        return None


def _same_shape(model: tuple[int | None, ...], data: tuple[int, ...]) -> bool:
    """Equal, a model's None (any length) matching any size."""
    if len(model) != len(data):
        return False
    return all(m is None or m == d for m, d in zip(model, data, strict=True))


def _label(node: Node) -> str:
    return f"{node.layer_type} '{node.name}'"


def _nice(loss: str) -> str:
    return loss.replace("_", " ").replace("crossentropy", "cross-entropy")


def _values(n: int) -> str:
    return f"{n} value{'s' if n != 1 else ''}"


def _one_label(labels: tuple[int, ...]) -> str:
    return "one class number" if not labels else f"class numbers of shape {format_shape(labels)}"
