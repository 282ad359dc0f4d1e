"""Transfer-learning projects: a pretrained backbone, its weights kept beside the project.
Shared by the CLI (`new --pretrained`), the palette's pretrained dialog and the templates that
offer a backbone (`backend.exchange.pretrained_template`).

`weights` is always one of three things the user chose: "imagenet" (Keras' published file,
which must already be in the Keras cache: a download happens only through
`backend.exchange.pretrained_weights.download_weights`, which the user starts), a file path,
or None (an untrained backbone, said in the project's description and the block's record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from backend.data.samples import SAMPLE_PHOTOS
from backend.document.project import DatasetChoice, Project
from backend.editing.commands import Macro, SetParams, SetTrainingSettings
from backend.exchange.pretrained import (
    PretrainedError,
    WeightsOrigin,
    backbone_block,
    pretrained_project,
)
from backend.exchange.pretrained_catalog import Backbone, backbone
from backend.exchange.pretrained_weights import cached_origin, check_file, format_size
from backend.keras_bridge.weights import save_weights, weights_path_for
from backend.paths import data_dir

IMAGENET = "imagenet"


def weights_origin(entry: Backbone, size: int, weights: str | Path | None) -> WeightsOrigin:
    """The origin of the user's choice, checked; never downloads. ImageNet weights that are
    not in the Keras cache raise PretrainedError saying how to get them."""
    if weights is None:
        return WeightsOrigin("none")
    if str(weights) == IMAGENET:
        origin = cached_origin(entry, size)
        if origin is None:
            raise PretrainedError(
                f"the ImageNet weights of {entry.name} are not on this computer "
                f"({entry.weights_file_for(size)} in the Keras cache). Download them (about "
                f"{format_size(entry.download_bytes)}: `--download`, or Download in the app), "
                "or choose a weights file"
            )
        return origin
    try:
        return check_file(entry, Path(weights), size)
    except FileNotFoundError as exc:
        raise PretrainedError(str(exc)) from None


def new_pretrained_project(
    name: str,
    classes: int,
    input_shape: tuple[int, int, int],
    weights: str | Path | None = None,
    project_path: str | Path | None = None,
    dataset: DatasetChoice | None = None,
    extra: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> Project:
    """A transfer-learning project whose starting weights are written beside `project_path`
    (`NAME.weights.npz`), or in the app's data folder when it has no path yet."""
    entry = backbone(name)
    if classes < 2:
        raise PretrainedError(f"a classifier needs at least 2 classes, got {classes}")
    origin = weights_origin(entry, input_shape[0], weights)
    path = Path(origin.path) if origin.path else None
    project, arrays = pretrained_project(
        entry.name, classes, input_shape, path, origin, dataset, extra
    )
    keep_weights(project, arrays, project_path, f"{entry.node_name}-{origin.digest[-12:]}")
    return project


def keep_weights(
    project: Project, arrays: dict[str, np.ndarray], project_path: str | Path | None, stem: str
) -> None:
    """Beside the project file (relative), else in the app's data folder (absolute)."""
    if not arrays:
        return
    if project_path is not None:
        target = weights_path_for(project_path)
        save_weights(arrays, target)
        project.training.initial_weights = target.name
    else:
        folder = data_dir() / "pretrained"
        folder.mkdir(parents=True, exist_ok=True)
        target = save_weights(arrays, folder / f"{stem}.weights.npz")
        project.training.initial_weights = str(target)


def load_backbone_weights(
    project: Project, block_id: str, weights: str | Path, project_path: str | Path | None = None
) -> Macro:
    """The command that gives an existing backbone block its weights ("imagenet" from the
    cache after a download, or a file): the block rebuilt at its input size with Keras
    reading the file, and the project's starting weights rewritten. Not yet done."""
    node = project.graph.node(block_id)
    record = node.params.get("pretrained")
    if not isinstance(record, dict):
        raise PretrainedError(f"'{node.name}' is not a pretrained backbone")
    entry = backbone(str(record.get("application")))
    shape = _block_input_shape(node.params)
    origin = weights_origin(entry, shape[0], weights)
    params, arrays = backbone_block(entry, shape, Path(origin.path), origin)
    arrays = {f"{node.name}/{k.split('/', 1)[1]}": v for k, v in arrays.items()}
    stem = f"{entry.node_name}-{origin.digest[-12:]}"
    keep_weights(project, arrays, project_path or project.path, stem)
    keep = {k: v for k, v in node.params.items() if k in ("trainable", "call_kwargs")}
    return Macro(
        f"Load weights into '{node.name}'",
        [
            SetParams(block_id, {**params, **keep}),
            SetTrainingSettings(project, {"initial_weights": project.training.initial_weights}),
        ],
    )


def _block_input_shape(params: dict[str, Any]) -> tuple[int, int, int]:
    for node in params["graph"]["nodes"]:
        if node["type"] == "Input":
            shape = node["params"]["shape"]
            return int(shape[0]), int(shape[1]), int(shape[2])
    raise PretrainedError("the backbone block has no input")


# ----------------------------------------------------------------- the sample photos
PHOTO_SIZE = 64


def photos_dataset(folder: Path = SAMPLE_PHOTOS) -> DatasetChoice:
    """The image folder at its raw 0-255 pixels (the backbone's preprocessing layer scales)."""
    return image_folder_choice(folder, (PHOTO_SIZE, PHOTO_SIZE, 3))[0]


def image_folder_choice(
    folder: str | Path, shape: tuple[int, int, int]
) -> tuple[DatasetChoice, int]:
    """An image folder (one sub-folder per class) for a backbone taking `shape`: read at raw
    0-255 pixels (its preprocessing layer scales them) and at its input size; and the number of
    classes, which sizes the head. PretrainedError when it is not such a folder."""
    path = Path(folder).resolve()
    if not path.is_dir():
        raise PretrainedError(f"{folder}: not a folder (one sub-folder of images per class)")
    classes = sum(1 for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes < 2:
        raise PretrainedError(
            f"{folder} has {classes} class sub-folder{'s' if classes != 1 else ''}: a "
            "classifier needs at least 2 (put each class's images in a folder of its own)"
        )
    params = {"path": str(path), "height": shape[0], "width": shape[1], "rescale": False}
    choice = DatasetChoice("image_folder", params, val_fraction=0.2, test_fraction=0.2, seed=0)
    return choice, classes
