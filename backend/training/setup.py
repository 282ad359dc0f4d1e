"""Everything a run sets up around `model.fit`: device scope, precision, losses per head,
class weights and callbacks. All of it is per thread in TensorFlow/Keras, so it runs in the
thread that trains (see `backend.training.trainer`)."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_keras
from backend.training.optimizers import make_loss, schedule_callbacks


@contextlib.contextmanager
def precision_policy(config: TrainingConfig) -> Iterator[None]:
    """mixed_float16 for this thread's model building when asked, restored afterwards."""
    keras = import_keras()
    previous = keras.config.dtype_policy()
    if config.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def resolve_loss(config: TrainingConfig, dataset: Dataset, output_units: int) -> str:
    if config.loss != "auto":
        return config.loss
    if dataset.task == "regression":
        return "mean_squared_error"
    if output_units == 1:
        return "binary_crossentropy"
    return "sparse_categorical_crossentropy"


def compile_arguments(model: Any, config: TrainingConfig, dataset: Dataset) -> dict[str, Any]:
    """loss, loss_weights and metrics for `model.compile`, one entry per output head."""
    names = head_names(model)
    classification = dataset.task == "classification"
    losses, weights, metrics = {}, {}, {}
    for name, tensor in zip(names, model.outputs, strict=True):
        head = config.heads.get(name, {})
        units = int(tensor.shape[-1] or 1)
        loss_name = str(head.get("loss") or resolve_loss(config, dataset, units))
        losses[name] = make_loss(loss_name, bool(head.get("from_logits", config.from_logits)))
        weights[name] = float(head.get("weight", 1.0))
        default = list(config.metrics) if classification else ["mae"]
        metrics[name] = list(head.get("metrics", default))
    if len(names) == 1:
        only = names[0]
        return {"loss": losses[only], "metrics": metrics[only]}
    return {"loss": losses, "loss_weights": weights, "metrics": metrics}


def head_names(model: Any) -> list[str]:
    """The name of each output head, as the losses are compiled and logged (`<name>_loss`)."""
    names = [str(t.name).split("/")[0] for t in model.outputs]
    return [layer.name for layer in _output_layers(model)] or names


def _output_layers(model: Any) -> list[Any]:
    layers = []
    for tensor in model.outputs:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            layers.append(history[0])
    return layers if len(layers) == len(model.outputs) else []


def class_weights(config: TrainingConfig, dataset: Dataset) -> dict[int, float] | None:
    """Inverse-frequency weights for 'balanced' (single-output classification, in memory)."""
    y = getattr(dataset, "y_train", None)
    if config.class_weight != "balanced" or dataset.task != "classification":
        return None
    if not isinstance(y, np.ndarray) or y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        return None
    labels = y.reshape(-1).astype(int)
    if labels.size == 0:  # streamed data: the labels are not in memory, so no weights
        return None
    counts = np.bincount(labels)
    present = counts > 0
    total = counts[present].sum()
    return {int(c): float(total / (present.sum() * counts[c])) for c in np.flatnonzero(present)}


def extra_callbacks(config: TrainingConfig, has_validation: bool) -> list[Any]:
    keras = import_keras()
    callbacks = schedule_callbacks(config)
    monitor = "val_loss" if has_validation else "loss"
    if config.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=int(config.patience), restore_best_weights=True
            )
        )
    if config.tensorboard_dir:
        if importlib.util.find_spec("tensorboard") is None:
            raise RuntimeError(
                "TensorBoard logging needs the tensorboard package, which TensorFlow no longer "
                "installs: pip install tensorboard"
            )
        callbacks.append(keras.callbacks.TensorBoard(log_dir=config.tensorboard_dir))
    return callbacks


class BestWeights:
    """Keeps the weights of the epoch with the lowest monitored loss (in memory)."""

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.best = float("inf")
        self.epoch: int | None = None
        self.weights: list[np.ndarray] | None = None

    def offer(self, model: Any, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get(self.monitor)
        if value is not None and value < self.best:
            self.best, self.epoch = value, epoch
            self.weights = [np.array(w) for w in model.get_weights()]
