"""Weights kept beside a project (`PROJECT.weights.npz`), so training continues from them.

The file holds each layer's `get_weights()` arrays under `PATH:INDEX`, where PATH is the layer's
name, prefixed by the names of the nested models that hold it (`backbone/conv1:0`). A project
refers to it from its training settings (`training.initial_weights`, relative to the project
file); the compiler's model gets them with `apply_weights`, layer by layer, so a project whose
graph was edited since keeps every weight that still fits. Read with `allow_pickle=False`.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from backend.data import DatasetError
from backend.data.ram import gib, ram
from backend.data.safe_arrays import declared_bytes, npz_contents
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import compile_graph, model_name
from backend.keras_env import import_keras
from backend.paths import new_file_mode

SUFFIX = ".weights.npz"


class WeightsError(ValueError):
    """A weights file that cannot be read or written, naming the file."""


def leaf_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, layer) of every layer that is not itself a model, nested models walked."""
    keras = import_keras()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer, f"{prefix}{layer.name}/")
        else:
            yield prefix + layer.name, layer


def collect_weights(model: Any) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for path, layer in leaf_layers(model):
        for i, value in enumerate(layer.get_weights()):
            arrays[f"{path}:{i}"] = np.asarray(value)
    return arrays


def apply_weights(
    model: Any, arrays: dict[str, np.ndarray], partial: bool = True, source: str = "the weights"
) -> list[str]:
    """Set every layer's weights found in `arrays`; returns the paths of layers left as they
    were because their weights are missing or no longer fit (an edited layer).

    With `partial=False` the weights must fit the whole model: every layer's arrays there,
    of its shapes, and none for a layer the model lacks; otherwise `WeightsError` names the
    first layer that does not fit (`source`, the file, starts the message) and nothing is set.
    """
    if not partial:
        problem = misfit(model, arrays)
        if problem is not None:
            raise WeightsError(
                f"{source}: these weights do not fit the model: {problem}. Use this model's "
                "weights, or ask for a partial load (--partial-weights) to set only the "
                "layers that fit"
            )
    skipped: list[str] = []
    for path, layer in leaf_layers(model):
        current = layer.get_weights()
        if not current:
            continue
        stored = [arrays.get(f"{path}:{i}") for i in range(len(current))]
        fits = all(
            s is not None and s.shape == c.shape for s, c in zip(stored, current, strict=True)
        )
        if fits and f"{path}:{len(current)}" not in arrays:
            layer.set_weights(stored)
        else:
            skipped.append(path)
    return skipped


def misfit(model: Any, arrays: dict[str, np.ndarray]) -> str | None:
    """Why `arrays` are not exactly the weights of `model` (the first layer that differs, in
    words), or None when they are."""
    expected: set[str] = set()
    for path, layer in leaf_layers(model):
        for i, variable in enumerate(layer.weights):
            key = f"{path}:{i}"
            expected.add(key)
            shape = tuple(int(d) for d in variable.shape)
            stored = arrays.get(key)
            if stored is None:
                return f"there are none for layer '{path}' ({_what(variable)} {shape})"
            if tuple(stored.shape) != shape:
                return (
                    f"layer '{path}' holds a {_what(variable)} of shape {shape}, the file has "
                    f"{tuple(stored.shape)}"
                )
    extra = sorted(k for k in arrays if k not in expected)
    if extra:
        layer_path = extra[0].rsplit(":", 1)[0]
        return f"the file holds weights for layer '{layer_path}', which this model does not have"
    return None


def _what(variable: Any) -> str:
    return str(getattr(variable, "name", "") or "weight").split("/")[-1].split(":")[0]


def weights_path_for(project_path: str | Path) -> Path:
    """`runs/model.dcproj.json` -> `runs/model.weights.npz`."""
    path = Path(project_path)
    stem = re.sub(r"(\.dcproj)?\.json$", "", path.name)
    return path.with_name(stem + SUFFIX)


def save_weights(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    """Write atomically: a temporary file beside the target, then a rename. The archive is
    written straight into the file (through memory it cost two copies of every weight: a
    third of importing ResNet50, measured); a failed write leaves neither file behind."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.chmod(tmp, new_file_mode(path))  # mkstemp made it private
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise WeightsError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
        raise
    return path


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of a weights file, read without pickle; WeightsError naming the file when
    it cannot be read, or declares more than the free memory (checked from the headers)."""
    path = Path(path)
    _check_declared_size(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise WeightsError(f"{path}: the weights file is missing") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = str(exc)
        if "allow_pickle" in reason:  # NumPy takes what is neither .npz nor .npy for a pickle
            reason = "neither a NumPy .npz nor .npy file; pickled Python objects are never loaded"
        raise WeightsError(f"{path}: not a readable weights file ({reason})") from exc


def _check_declared_size(path: Path) -> None:
    try:
        contents = npz_contents(path)
    except DatasetError:
        return  # not readable as an archive: np.load says why
    total = sum(declared_bytes(*info) for info in contents.values())
    found = ram()
    if found is not None and total > found[1]:
        raise WeightsError(
            f"{path}: its arrays declare {gib(total)}, more than the {gib(found[1])} of free "
            "memory: it is not a weights file DeepCanvas can load"
        )


def resolve(config: TrainingConfig, project_path: str | Path | None) -> Path | None:
    """The weights file of a project's training settings, as a path usable from anywhere."""
    if not config.initial_weights:
        return None
    path = Path(config.initial_weights)
    if not path.is_absolute() and project_path is not None:
        path = Path(project_path).parent / path
    return path


def resolved_training(config: TrainingConfig, project_path: str | Path | None) -> TrainingConfig:
    """The settings with `initial_weights` made absolute (for a trainer in another folder)."""
    path = resolve(config, project_path)
    return replace(config, initial_weights=str(path.resolve()) if path else None)


def compile_project(project: Any) -> Any:
    """The project's model, named after it, with its stored weights when it has any."""
    model = compile_graph(project.graph, name=model_name(project.name))
    load_into(model, project.training, project.path)
    return model


def load_into(model: Any, config: TrainingConfig, project_path: str | Path | None) -> list[str]:
    """Give `model` the project's stored weights, if it has any; returns the skipped layers."""
    path = resolve(config, project_path)
    return [] if path is None else apply_weights(model, load_weights(path))
