"""Using the project's model with its current weights: build, evaluate, predict, export.

Each function takes a `ProjectSnapshot` (taken in the thread that owns the project) and does
its Keras work in the calling thread, so a GUI worker can call it as well as the CLI. The
model always has the project's current weights (`backend.workflow.weights`), and every result
says which ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from backend.data import Dataset, DatasetError
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import compile_graph, model_name
from backend.keras_bridge.model_inputs import as_declared
from backend.keras_bridge.weights import WeightsError, apply_weights, load_weights, misfit
from backend.keras_env import import_keras
from backend.workflow.weights import FILE, INITIAL, RUN, WeightsState, run_label

GENERATED = "generated samples shaped like the model's inputs"


@dataclass(frozen=True)
class ProjectSnapshot:
    """What a model needs of a project, frozen: edits made afterwards do not reach it."""

    name: str
    path: Path | None
    graph: dict[str, Any]
    dataset: DatasetChoice | None
    """File paths absolute; None when the project has no data yet."""
    training: TrainingConfig
    weights: WeightsState
    model: Any = None
    """The model the last training left, when it holds exactly these weights (saves a build)."""


@dataclass(frozen=True)
class BuiltModel:
    model: Any
    weights: WeightsState
    skipped: tuple[str, ...] = ()
    """Layers left freshly initialised: their stored weights no longer fit (an edited layer)."""

    @property
    def note(self) -> str:
        """Which weights the model has, in words (for reports)."""
        note = self.weights.describe()
        if self.skipped and self.weights.fits:
            note += f" (left untrained, they do not fit: {', '.join(self.skipped)})"
        return note


def build_model(snap: ProjectSnapshot, dataset: Dataset | None = None) -> BuiltModel:
    """The project's model with its current weights, built in the calling thread. With
    `dataset` it is also compiled for it (loss and metrics, as training compiles it)."""
    if snap.model is not None and (dataset is None or getattr(snap.model, "compiled", False)):
        return BuiltModel(snap.model, snap.weights)
    keras = import_keras()
    config = replace(snap.training, initial_weights=None)
    graph = LayerGraph.from_dict(snap.graph)
    if dataset is not None:
        from backend.training.trainer import Trainer

        model = Trainer(graph, dataset, config).build_model()  # seeded, compiled
    else:
        keras.utils.set_random_seed(int(config.seed))
        model = compile_graph(graph, name=model_name(snap.name))
    skipped: list[str] = []
    if snap.weights.path is not None and (snap.weights.trained or snap.weights.source == FILE):
        path = snap.weights.path
        arrays = load_weights(path)
        _check_run_checkpoint(snap.weights, model, arrays)
        skipped = apply_weights(model, arrays, snap.weights.partial, str(path))
    return BuiltModel(model, snap.weights, tuple(skipped))


def _check_run_checkpoint(weights: WeightsState, model: Any, arrays: dict[str, Any]) -> None:
    """A run's checkpoint for the very graph it trained must fit it whole: a misfit means the
    file was replaced (another model's weights), which left the model untrained, silently."""
    if weights.source != RUN or weights.run is None or not weights.fits:
        return
    problem = misfit(model, arrays)
    if problem is not None:
        raise WeightsError(
            f"{weights.path}: the checkpoint of run {run_label(weights.run)} does not fit the "
            f"model it trained ({problem}): the file was replaced; use another run's weights "
            "or train again"
        )


def require_weights(weights: WeightsState) -> None:
    """Evaluating, predicting or exporting with weights whose file is gone would use an
    untrained model under the trained one's name: WeightsError saying what to do instead."""
    if not weights.missing:
        return
    if weights.run is not None:
        what = f"the weights of run {run_label(weights.run)}"
    else:
        what = "the starting weights" if weights.source == INITIAL else "the weights"
    raise WeightsError(
        f"{weights.path}: {what} are missing (the file was moved or deleted): put it back, "
        "train again, or use another run's weights"
    )


def load_snapshot_data(snap: ProjectSnapshot) -> Dataset:
    if snap.dataset is None:
        from backend.document.project import NO_DATASET

        raise DatasetError(NO_DATASET)
    return snap.dataset.load()


@dataclass(frozen=True)
class Evaluation:
    report: Any  # backend.evaluation.evaluate.EvaluationReport
    dataset: Dataset
    built: BuiltModel


def evaluate(snap: ProjectSnapshot, dataset: Dataset | None = None) -> Evaluation:
    """Test-split metrics of the model with its current weights. Raises DatasetError (no or
    unreadable data) or EvaluationError (data and model do not go together), with the reason."""
    from backend.evaluation.evaluate import evaluate as evaluate_model

    require_weights(snap.weights)
    data = dataset if dataset is not None else load_snapshot_data(snap)
    built = build_model(snap, data)
    return Evaluation(evaluate_model(built.model, data), data, built)


def predict(snap: ProjectSnapshot, inputs: Any, built: BuiltModel | None = None) -> list[Any]:
    """The model's outputs (one array per output) for `inputs` (an array, or one per input)."""
    if built is None:
        require_weights(snap.weights)
        built = build_model(snap)
    outputs = built.model.predict(as_declared(built.model, inputs), verbose=0)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


@dataclass(frozen=True)
class Exported:
    report: Any  # backend.exchange.export_formats.ExportReport
    built: BuiltModel

    def summary(self) -> str:
        return f"{self.report.summary()}; weights: {self.built.note}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "weights": self.built.note}


def export(snap: ProjectSnapshot, fmt: str, path: str | Path, quantize: str = "none") -> Exported:
    """Write the model with its current weights as `fmt` (keras, savedmodel, tflite, onnx) and
    verify it on samples of the project's data when they fit the model's inputs, else on
    generated ones shaped like them. Raises ExportError naming the file."""
    from backend.exchange.export_formats import check_target, export_model

    target = check_target(fmt, path, quantize)  # a bad name is refused before any work
    require_weights(snap.weights)
    built = build_model(replace(snap, model=None))  # named after the project, uncompiled
    samples, source = check_samples(snap, built.model)
    return Exported(export_model(built.model, target, fmt, quantize, samples, source), built)


def check_samples(snap: ProjectSnapshot, model: Any) -> tuple[Any, str]:
    """A few samples of the project's data that fit the model's inputs (test split first),
    else generated ones of the inputs' shapes and dtypes, and where they came from."""
    from backend.exchange.export_verify import CHECK_SAMPLES, model_inputs

    reason = "the project has no data"
    if snap.dataset is not None:
        try:
            data = snap.dataset.load()
        except (DatasetError, OSError, ValueError) as exc:
            reason = f"its data cannot be loaded here: {exc}"
        else:
            for split in ("test", "val", "train"):
                if data.stream is None and data.size(split):
                    x = data.data(split, CHECK_SAMPLES)[0]
                    if fits_inputs(model, x):
                        return x, f"{split} samples of {data.name}"
            reason = f"the project's data ({data.name}) does not fit the model's inputs"
    generated, _source = model_inputs(model, None, "")
    return generated, f"{GENERATED} ({reason})"


def fits_inputs(model: Any, x: Any) -> bool:
    """True when `x` (an array, or one per input) has the model's input shapes and kinds."""
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    if isinstance(x, dict) or len(arrays) != len(model.inputs):
        return False
    for array, tensor in zip(arrays, model.inputs, strict=True):
        array = np.asarray(array)
        expected = tuple(tensor.shape[1:])
        if array.ndim != len(expected) + 1 or not len(array):
            return False
        if any(e is not None and e != g for e, g in zip(expected, array.shape[1:], strict=True)):
            return False
        text_input = str(tensor.dtype) == "string"
        if text_input != (array.dtype.kind in "OUS"):
            return False
    return True
