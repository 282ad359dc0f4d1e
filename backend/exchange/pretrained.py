"""A pretrained backbone on the canvas: one block node holding a `keras.applications` graph.

`backbone_block` builds the application with `include_top=False` and `weights=None` (Keras
never downloads anything here), imports its graph with the importer's `model_graph`, and
returns the parameters of one block node compiled as a nested model: frozen (`trainable:
false`) and called with `training=False`, so BatchNormalization stays in inference mode
while the head trains and after the top is unfrozen, as the Keras transfer-learning guide
recommends. The block records where its weights came from under `params['pretrained']`.

Weights are read by Keras itself (`model.load_weights` on the file, an HDF5 of ImageNet
weights from the Keras cache, a download the user started, or a file the user picked) into
that same application model, then kept as the project's starting weights
(`training.initial_weights`, a `.weights.npz` keyed by the block's layer paths), so training,
evaluation, every export and the Python script use them with no code of their own.

`preprocessing_nodes` is the application's `preprocess_input` as layers, so raw 0-255 pixels
go in; `pretrained_project` puts Input, preprocessing, block and a new head together;
`fine_tune_command` unfreezes the top layers and lowers the learning rate as one undo step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.document.graph import LayerGraph, Node
from backend.document.layer_table import BLOCK_TYPE, INPUT_TYPE, OPERATION_TYPE, layer_info
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig
from backend.editing.commands import Macro, SetParams, SetTrainingSettings
from backend.exchange.importer import model_graph
from backend.exchange.pretrained_catalog import Backbone, backbone
from backend.keras_bridge.weights import WeightsError
from backend.keras_env import import_keras

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
STDDEV_NODE = "imagenet_stddev"
"""The Rescaling Keras adds to EfficientNet B0-B7 when it loads ImageNet weights."""
DEFAULT_FINE_TUNE_LAYERS = 20
"""The Keras EfficientNet fine-tuning example unfreezes the top 20 layers."""
DEFAULT_LR_FACTOR = 0.1


class PretrainedError(ValueError):
    """A backbone that cannot be built or given its weights, with what to do."""


def preprocessing_nodes(entry: Backbone) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, layer type, params) of the layers doing `entry`'s preprocess_input, in order."""
    recipe = entry.preprocessing
    if recipe == "tf":
        return [("preprocess", "Rescaling", {"scale": 1 / 127.5, "offset": -1.0})]
    if recipe == "tf128":
        return [("preprocess", "Rescaling", {"scale": 1 / 128.0, "offset": -1.0})]
    if recipe == "torch":
        mean = [255 * m for m in IMAGENET_MEAN]
        variance = [(255 * s) ** 2 for s in IMAGENET_STD]
        return [("preprocess", "Normalization", {"mean": mean, "variance": variance})]
    if recipe == "caffe":
        flip = {
            "op": {"module": "keras.src.ops.numpy", "class_name": "Flip", "config": {"axis": -1}},
            "args": [{"__input__": 0}],
            "kwargs": {},
        }
        centre = {"mean": list(CAFFE_MEAN_BGR), "variance": [1.0, 1.0, 1.0]}
        return [("rgb_to_bgr", OPERATION_TYPE, flip), ("preprocess", "Normalization", centre)]
    return []  # "inside": the architecture normalizes raw pixels itself


def application_model(entry: Backbone, input_shape: tuple[int, ...]) -> Any:
    """The application without its top and without weights (nothing is downloaded)."""
    keras = import_keras()
    size = min(input_shape[:2])
    if size < entry.min_size:
        raise PretrainedError(
            f"{entry.name} needs images of at least {entry.min_size}x{entry.min_size} pixels, "
            f"got {input_shape[0]}x{input_shape[1]}"
        )
    if len(input_shape) != 3 or input_shape[2] != 3:
        raise PretrainedError(
            f"{entry.name} takes colour images (height, width, 3), got {tuple(input_shape)}: "
            "load the images as RGB"
        )
    kwargs: dict[str, Any] = {"include_top": False, "weights": None}
    if entry.own_preprocessing:
        kwargs["include_preprocessing"] = False  # it is the layer before the block
    return getattr(keras.applications, entry.name)(input_shape=tuple(input_shape), **kwargs)


@dataclass(frozen=True)
class WeightsOrigin:
    """Where a backbone's weights came from, as the project records it."""

    kind: str
    """"imagenet" (Keras' published file: from its cache or a download), "file" (a file the
    user picked that is not the published one) or "none" (random, untrained)."""
    path: str = ""
    digest: str = ""
    """`md5:...` or `sha256:...` of the file, in the algorithm Keras publishes for it."""
    check: str = ""
    """What was checked: "matches Keras' published hash", "Keras publishes no hash for this
    file" or "differs from Keras' published file"."""

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def backbone_block(
    entry: Backbone, input_shape: tuple[int, ...], weights: Path | None, origin: WeightsOrigin
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(block params, starting weights keyed `block/layer:i`) of the backbone at `input_shape`,
    its weights read by Keras from `weights` (an HDF5 file) when given."""
    model = application_model(entry, input_shape)
    if weights is not None:
        read_into(model, weights, entry)
    graph = model_graph(model.get_config(), "Functional", entry.name)
    if origin.kind == "imagenet" and entry.family == "efficientnet":
        _add_stddev_rescaling(graph)
    params: dict[str, Any] = {"graph": graph.to_dict(), "model": "functional"}
    if weights is not None:  # random weights frozen would teach the head nothing
        params.update(trainable=False, call_kwargs={"training": False})
    params["pretrained"] = {"application": entry.name, "weights": origin.to_dict()}
    arrays = block_arrays(params, entry.node_name, model) if weights is not None else {}
    return params, arrays


def read_into(model: Any, path: Path, entry: Backbone) -> None:
    """Keras reads the weights file into the application model; a file of another network (or
    of another input size, for NASNet) is refused with what it is."""
    try:
        model.load_weights(str(path))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PretrainedError(
            f"{path}: not weights of {entry.name} without its top at this input size ({first})"
        ) from exc


def _add_stddev_rescaling(graph: LayerGraph) -> None:
    """Keras' EfficientNet divides by the ImageNet standard deviation once more after its
    Normalization when it loads ImageNet weights (tensorflow/tensorflow#49930): so here."""
    from keras.src.applications.efficientnet import IMAGENET_STDDEV_RGB

    norm = next(n for n in graph.nodes.values() if n.layer_type == "Normalization")
    scale = [1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB]
    node = graph.add_node("Rescaling", {"scale": scale}, norm.position, name=STDDEV_NODE)
    for edge in graph.out_edges(norm.id):
        graph.disconnect(edge)
        graph.connect(node.id, edge.dst, edge.dst_port)
    graph.connect(norm.id, node.id)


def layer_nodes(graph: LayerGraph) -> list[Node]:
    """One node per Keras layer, in `model.layers` order: no inputs, no keras.ops calls
    (Keras does not count them as layers), no second call of a shared layer."""
    return [
        n
        for n in graph.nodes.values()
        if not (layer_info(n.layer_type).is_input or layer_info(n.layer_type).is_operation)
        and "shares" not in n.params
    ]


def block_arrays(params: dict[str, Any], block_name: str, model: Any) -> dict[str, np.ndarray]:
    """The application model's weights keyed by the block's own layer paths.

    Layers pair in order (the block's nodes are the model's layers, in the order Keras lists
    them), so the names Keras gave this build do not matter; a block whose layers were edited
    since is refused by name."""
    inner = LayerGraph.from_dict(params["graph"])
    nodes = [n for n in layer_nodes(inner) if n.name != STDDEV_NODE]
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    keras = import_keras()
    if len(nodes) != len(layers):
        raise WeightsError(
            f"block '{block_name}' has {len(nodes)} layers, the weights' network "
            f"{len(layers)}: it was edited; add the backbone again"
        )
    arrays: dict[str, np.ndarray] = {}
    for node, layer in zip(nodes, layers, strict=True):
        path = f"{block_name}/{node.name}"
        if isinstance(layer, keras.Model):
            arrays.update(block_arrays(node.params, path, layer))
            continue
        if node.layer_type not in (type(layer).__name__, BLOCK_TYPE):
            raise WeightsError(
                f"block '{block_name}': layer '{node.name}' is a {node.layer_type}, the "
                f"weights' network has a {type(layer).__name__} there"
            )
        for i, value in enumerate(layer.get_weights()):
            arrays[f"{path}:{i}"] = np.asarray(value)
    return arrays


def head_nodes(classes: int, dropout: float = 0.2) -> list[tuple[str, str, dict[str, Any]]]:
    """The new classifier: global average pooling, dropout, one unit per class (one sigmoid
    unit for two classes would change the loss; softmax over N keeps it uniform)."""
    return [
        ("pool", "GlobalAveragePooling2D", {}),
        ("dropout", "Dropout", {"rate": dropout}),
        ("classes", "Dense", {"units": int(classes), "activation": "softmax"}),
    ]


def pretrained_graph(
    entry: Backbone,
    input_shape: tuple[int, ...],
    block: dict[str, Any],
    classes: int,
    extra: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> LayerGraph:
    """Input, `extra` layers (augmentation), preprocessing, the backbone block, the head."""
    chain = [
        ("image", INPUT_TYPE, {"shape": list(input_shape)}),
        *(extra or []),
        *preprocessing_nodes(entry),
        (entry.node_name, BLOCK_TYPE, block),
        *head_nodes(classes),
    ]
    graph = LayerGraph()
    previous = None
    for row, (name, layer_type, params) in enumerate(chain):
        node = graph.add_node(layer_type, params, (0.0, 150.0 * row), name=name)
        if previous is not None:
            graph.connect(previous, node.id)
        previous = node.id
    return graph


def pretrained_project(
    name: str,
    classes: int,
    input_shape: tuple[int, ...],
    weights: Path | None,
    origin: WeightsOrigin,
    dataset: DatasetChoice | None = None,
    extra: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> tuple[Project, dict[str, np.ndarray]]:
    """A transfer-learning project (unsaved) and the backbone's starting weights, which the
    caller writes beside it (`backend.keras_bridge.weights.save_weights`) and names in
    `training.initial_weights`."""
    entry = backbone(name)
    block, arrays = backbone_block(entry, input_shape, weights, origin)
    graph = pretrained_graph(entry, input_shape, block, classes, extra)
    training = TrainingConfig(learning_rate=1e-3, epochs=5, batch_size=16)
    project = Project(graph, dataset, training, name=f"{entry.name} transfer learning")
    project.description = (
        f"{entry.name} pretrained on ImageNet, frozen, with a new {classes}-class head."
        if origin.kind == "imagenet"
        else f"{entry.name} ({'untrained: no weights loaded, it trains from scratch' if origin.kind == 'none' else 'weights from ' + Path(origin.path).name + ', frozen'}), with a new {classes}-class head."  # noqa: E501
    )
    return project, arrays


# ----------------------------------------------------------------- freezing and fine-tuning
def backbone_nodes(graph: LayerGraph) -> list[str]:
    """Ids of the pretrained backbone blocks of a graph."""
    return [
        nid
        for nid, node in graph.nodes.items()
        if node.layer_type == BLOCK_TYPE and isinstance(node.params.get("pretrained"), dict)
    ]


def unfrozen_params(params: dict[str, Any], top: int) -> dict[str, Any]:
    """The block's params with its last `top` layers trainable (Keras' `base.layers[-top:]`),
    BatchNormalization kept frozen among them, all others frozen; `top` 0 freezes all."""
    inner = LayerGraph.from_dict(params["graph"])
    layers = layer_nodes(inner)
    top = max(0, min(int(top), len(layers)))
    for index, node in enumerate(layers):
        trainable = index >= len(layers) - top and node.layer_type != "BatchNormalization"
        if trainable:
            node.params.pop("trainable", None)
        else:
            node.params["trainable"] = False
    result = {k: v for k, v in params.items() if k != "trainable"}
    result["graph"] = inner.to_dict()
    if top == 0:
        result = frozen_params(result)
    return result


def frozen_params(params: dict[str, Any]) -> dict[str, Any]:
    """The whole backbone frozen again (as it comes in), inner flags cleared."""
    inner = LayerGraph.from_dict(params["graph"])
    for node in inner.nodes.values():
        node.params.pop("trainable", None)
    return {**params, "graph": inner.to_dict(), "trainable": False}


def trainable_top(params: dict[str, Any]) -> int:
    """How many of the block's last layers are unfrozen (0 while it is frozen)."""
    if params.get("trainable") is False:
        return 0
    layers = layer_nodes(LayerGraph.from_dict(params["graph"]))
    frozen = [i for i, n in enumerate(layers) if n.params.get("trainable") is False]
    last_frozen = max(
        (i for i in frozen if layers[i].layer_type != "BatchNormalization"), default=-1
    )
    return len(layers) - 1 - last_frozen


def describe_backbone(params: dict[str, Any]) -> str:
    """What a pretrained block is, in two or three sentences for the Inspector: its network,
    where its weights came from, what trains, and what to do next."""
    record = params.get("pretrained") or {}
    weights = record.get("weights") or {}
    name = record.get("application") or "A keras.applications network"
    check = f" ({weights['check']})" if weights.get("check") else ""
    origin = {
        "imagenet": f"{name}, pretrained on ImageNet{check}.",
        "file": f"{name}, its weights from {Path(str(weights.get('path'))).name}{check}.",
    }.get(str(weights.get("kind")), f"{name}, untrained: it learns from scratch with the head.")
    layers = len(layer_nodes(LayerGraph.from_dict(params["graph"])))
    top = trainable_top(params)
    if top == 0:
        state = (
            "Frozen: training leaves its weights as they are (BatchNormalization in inference "
            "mode) and teaches the head. Once the head has trained, Run > Fine-tune backbone… "
            "unfreezes its top layers."
        )
    elif top < layers:
        state = f"Its top {top} of {layers} layers train (BatchNormalization stays frozen)."
    else:
        state = f"All its {layers} layers train."
    return f"{origin} {state} Double-click it on the canvas to read its layers."


def fine_tune_command(
    project: Project,
    block_id: str,
    top: int = DEFAULT_FINE_TUNE_LAYERS,
    lr_factor: float = DEFAULT_LR_FACTOR,
) -> Macro:
    """One undo step: unfreeze the top `top` layers of the backbone and multiply the
    learning rate by `lr_factor` (push it on the workflow's undo stack, then continue
    training from the last run: `Workflow.prepare_training(continue_from=run_id)`)."""
    node = project.graph.node(block_id)
    if not isinstance(node.params.get("pretrained"), dict):
        raise PretrainedError(f"'{node.name}' is not a pretrained backbone")
    if not 0 < lr_factor <= 1:
        raise PretrainedError(f"the learning-rate factor must be in (0, 1], got {lr_factor}")
    params = unfrozen_params(node.params, top)
    rate = float(f"{project.training.learning_rate * lr_factor:.3g}")
    label = f"Fine-tune '{node.name}': unfreeze the top {top} layers, learning rate {rate:g}"
    return Macro(
        label,
        [
            SetParams(block_id, {"graph": params["graph"]}, reset=["trainable"]),
            SetTrainingSettings(project, {"learning_rate": rate}),
        ],
    )


def trainable_counts(model: Any) -> tuple[int, int]:
    """(trainable, frozen) parameter counts of a built Keras model."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, frozen
