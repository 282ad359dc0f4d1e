"""A template's pretrained variant: a backbone in place of some of its own layers when the
backbone's ImageNet weights are on this computer, and a sentence saying which model opened.

A template offers one in its `"template"` block (read by `backend.templates.gallery`):

    "pretrained": {"backbone": "MobileNetV3Small",
                   "replaces": ["scale", "conv1", "pool1", "conv2", "pool2", "conv3"],
                   "otherwise": "a small CNN trained from scratch",
                   "training": {"learning_rate": 0.001, "epochs": 5}}

`replaces` names a chain of the template's layers with one way in and one way out (its own
feature extractor). When Keras' published ImageNet file of the backbone is in the Keras cache
and intact, the layers doing the backbone's preprocessing and the backbone block (frozen, its
weights read by Keras from that file into the project's starting weights) take the chain's
place; everything else (the Input, augmentation, the head, the data) stays, and `training`
changes the settings a frozen backbone trains best with. Otherwise the template opens as its
file is, and the sentence says why. Nothing is downloaded here, ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.document.graph import Edge, LayerGraph
from backend.document.layer_table import BLOCK_TYPE
from backend.document.project import Project
from backend.document.training_config import TrainingConfig
from backend.editing.layout import layered_layout
from backend.exchange.pretrained import (
    PretrainedError,
    WeightsOrigin,
    backbone_block,
    preprocessing_nodes,
)
from backend.exchange.pretrained_catalog import Backbone, backbone
from backend.exchange.pretrained_project import keep_weights
from backend.exchange.pretrained_weights import WeightsDownloadError, cached_origin, format_size
from backend.keras_bridge.weights import WeightsError


@dataclass(frozen=True)
class BackboneOffer:
    """A template's `"pretrained"` key."""

    backbone: str
    replaces: tuple[str, ...]
    otherwise: str = "its own layers, trained from scratch"
    training: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Any) -> BackboneOffer:
        """The key as a template file holds it; ValueError saying what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("'pretrained' must be an object (backbone, replaces)")
        unknown = set(data) - {"backbone", "replaces", "otherwise", "training"}
        if unknown:
            raise ValueError(f"'pretrained' has unknown keys: {', '.join(sorted(unknown))}")
        replaces = data.get("replaces")
        if not isinstance(replaces, list) or not replaces:
            raise ValueError("'pretrained' needs 'replaces': the names of the layers it replaces")
        if not all(isinstance(n, str) and n for n in replaces):
            raise ValueError("'pretrained': 'replaces' holds layer names")
        entry = backbone(str(data.get("backbone", "")))  # UnknownBackboneError: a KeyError
        training = data.get("training")
        if training is not None:
            TrainingConfig.from_dict({**TrainingConfig().to_dict(), **training})
        otherwise = data.get("otherwise", cls.otherwise)
        if not isinstance(otherwise, str) or not otherwise.strip():
            raise ValueError("'pretrained': 'otherwise' says what opens without the weights")
        return cls(entry.name, tuple(replaces), otherwise, training)


@dataclass(frozen=True)
class Choice:
    """Which model a template with an offer opens with here, and why."""

    pretrained: bool
    model: str
    """"MobileNetV3Small pretrained on ImageNet", or the offer's `otherwise`."""
    reason: str
    """"frozen; its weights are in the Keras cache", or why the weights cannot be used."""
    remedy: str = ""
    """How to get the weights, when that is what is missing."""

    @property
    def short(self) -> str:
        """One line for a status bar: the model and the reason."""
        return f"{self.model} ({self.reason})"

    @property
    def note(self) -> str:
        """The whole of it (what follows "opens with" / "opened with")."""
        if self.pretrained or not self.remedy:
            return self.short if self.pretrained else f"{self.model}: {self.reason}"
        return f"{self.model}: {self.reason} ({self.remedy})"


@dataclass(frozen=True)
class TemplateModel:
    """What a template with an offer opened as."""

    project: Project
    choice: Choice


def weights_here(entry: Backbone, size: int) -> tuple[WeightsOrigin | None, str, str]:
    """The intact ImageNet weights of `entry` in the Keras cache, or None, why not, and how
    to get them."""
    try:
        origin = cached_origin(entry, size)
    except WeightsDownloadError as exc:
        return None, str(exc), ""
    if origin is None:
        return (
            None,
            f"the ImageNet weights of {entry.name} are not on this computer",
            f"about {format_size(entry.download_bytes)}: Download in the palette's Pretrained "
            f"section, or main.py pretrained --download {entry.name}; then open this template "
            "again",
        )
    return origin, "", ""


def choose(project: Project, offer: BackboneOffer) -> Choice:
    """Which model the template opens with here; reads the cache only (no Keras), so the
    gallery can say it before anything is built."""
    entry = backbone(offer.backbone)
    origin, reason, remedy = weights_here(entry, image_shape(project)[0])
    if origin is None:
        return Choice(False, offer.otherwise, reason, remedy)
    model = f"{entry.name} pretrained on ImageNet"
    return Choice(True, model, "frozen; its weights are in the Keras cache")


def with_backbone(project: Project, offer: BackboneOffer) -> TemplateModel:
    """The template's project (edited in place) with the offered backbone when its weights are
    here, else as it is, and which. The starting weights go to the app's data folder (the
    project has no file yet); a save keeps the project's reference to them. A backbone that
    cannot be built from the cached file leaves the template as it is, and says why."""
    choice = choose(project, offer)
    if not choice.pretrained:
        return TemplateModel(project, choice)
    entry = backbone(offer.backbone)
    shape = image_shape(project)
    origin, _reason, _remedy = weights_here(entry, shape[0])
    assert origin is not None
    try:
        block, arrays = backbone_block(entry, shape, Path(origin.path), origin)
    except (PretrainedError, WeightsError, OSError) as exc:
        return TemplateModel(project, Choice(False, offer.otherwise, str(exc)))
    replace_chain(project.graph, offer.replaces, entry, block)
    if offer.training:
        project.training = TrainingConfig.from_dict(
            {**project.training.to_dict(), **offer.training}
        )
    keep_weights(project, arrays, None, f"{entry.node_name}-{origin.digest[-12:]}")
    project.dirty = False
    return TemplateModel(project, choice)


def image_shape(project: Project) -> tuple[int, int, int]:
    """The (height, width, 3) of the template's single Input: the backbone's input."""
    inputs = project.graph.input_nodes()
    shape = list(inputs[0].params.get("shape") or []) if len(inputs) == 1 else []
    if len(shape) != 3 or shape[2] != 3 or not all(isinstance(d, int) for d in shape):
        raise PretrainedError(
            f"a template offering a backbone needs one Input of colour images, got {shape}"
        )
    return int(shape[0]), int(shape[1]), 3


def replace_chain(
    graph: LayerGraph, names: Sequence[str], entry: Backbone, block: dict[str, Any]
) -> None:
    """Put `entry`'s preprocessing and its block where the chain `names` stands, then lay the
    graph out top to bottom."""
    missing = [name for name in names if name not in {n.name for n in graph.nodes.values()}]
    if missing:
        raise PretrainedError(f"the template has no layer {missing[0]!r} to replace")
    ids = [graph.node_by_name(name).id for name in names]
    inside = set(ids)
    entering = [e for nid in ids for e in graph.in_edges(nid) if e.src not in inside]
    leaving = [e for nid in ids for e in graph.out_edges(nid) if e.dst not in inside]
    if len(entering) != 1 or len({e.src for e in leaving}) != 1:
        raise PretrainedError(
            f"the layers {', '.join(names)} are not a chain with one way in and one way out"
        )
    position = graph.nodes[ids[0]].position
    for nid in ids:
        graph.remove_node(nid)
    chain = [*preprocessing_nodes(entry), (entry.node_name, BLOCK_TYPE, block)]
    previous: Edge | str = entering[0]
    for name, layer_type, params in chain:
        node = graph.add_node(layer_type, params, position, name=name)
        if isinstance(previous, Edge):
            graph.connect(previous.src, node.id, src_port=previous.src_port)
        else:
            graph.connect(previous, node.id)
        previous = node.id
    for edge in leaving:
        graph.connect(str(previous), edge.dst, edge.dst_port)
    for nid, point in layered_layout(graph, origin=(0.0, 0.0)).items():
        graph.nodes[nid].position = point
