"""Training a graph on a dataset with `model.fit`, reported as plain events.

The trainer is thread-agnostic: the GUI calls `Trainer.run` on a worker thread, the CLI and
tests call it directly. Everything Keras-related (model building included) happens inside
`run`, so the thread that trains owns all Keras state. Nothing here syncs with the device per
batch beyond what Keras does itself: batch logs are read only when an event is due.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.compiler import CompileError, compile_graph
from backend.datasets import Dataset
from backend.graph import LayerGraph
from backend.keras_env import import_keras
from backend.training_config import TrainingConfig
from backend.weights import apply_weights, load_weights


@dataclass(frozen=True)
class TrainBegin:
    epochs: int
    steps_per_epoch: int


@dataclass(frozen=True)
class BatchEnd:
    epoch: int
    step: int
    steps_per_epoch: int
    logs: dict[str, float]


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    logs: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class TrainEnd:
    status: str  # "completed", "stopped" or "failed"
    message: str
    history: dict[str, list[float]]
    node_id: str | None = None


TrainingEvent = TrainBegin | BatchEnd | EpochEnd | TrainEnd
EventSink = Callable[[TrainingEvent], None]


@dataclass
class TrainResult:
    status: str
    message: str
    history: dict[str, list[float]] = field(default_factory=dict)
    model: Any = None
    node_id: str | None = None


def resolve_loss(config: TrainingConfig, dataset: Dataset, output_units: int) -> str:
    if config.loss != "auto":
        return config.loss
    if dataset.task == "regression":
        return "mean_squared_error"
    if output_units == 1:
        return "binary_crossentropy"
    return "sparse_categorical_crossentropy"


def make_optimizer(config: TrainingConfig) -> Any:
    keras = import_keras()
    lr = float(config.learning_rate)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=float(config.momentum))
    classes = {
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
        "adamw": keras.optimizers.AdamW,
        "adagrad": keras.optimizers.Adagrad,
        "nadam": keras.optimizers.Nadam,
    }
    return classes[config.optimizer](learning_rate=lr)


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}


class Trainer:
    """Runs one training of a graph. `request_stop`, `pause` and `resume` are thread-safe."""

    def __init__(
        self,
        graph: LayerGraph,
        dataset: Dataset,
        config: TrainingConfig,
        on_event: EventSink | None = None,
        batch_interval_s: float = 0.05,
    ) -> None:
        self.graph = graph
        self.dataset = dataset
        self.config = config
        self.on_event: EventSink = on_event or (lambda event: None)
        self.batch_interval_s = batch_interval_s
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def build_model(self) -> Any:
        keras = import_keras()
        keras.utils.set_random_seed(self.config.seed)
        model = compile_graph(self.graph)
        if self.config.initial_weights:  # an imported model's weights: training continues
            apply_weights(model, load_weights(self.config.initial_weights))
        out_units = int(model.outputs[0].shape[-1] or 1)
        model.compile(
            optimizer=make_optimizer(self.config),
            loss=resolve_loss(self.config, self.dataset, out_units),
            metrics=list(self.config.metrics) if self.dataset.task == "classification" else [],
        )
        return model

    def run(self, model: Any = None) -> TrainResult:
        """Build and compile the model (or take an already compiled one) and fit it.

        Never raises for training failures: they end as a `TrainEnd` event and a result.
        """
        history: dict[str, list[float]] = {}
        try:
            self.config.validate()
            if model is None:
                model = self.build_model()
        except CompileError as exc:
            return self._finish("failed", str(exc), history, None, exc.node_id)
        except Exception as exc:
            return self._finish("failed", f"could not build the model: {exc}", history, None)
        callback = _EventCallback(self, history)
        try:
            model.fit(
                **self.dataset.fit_arguments(int(self.config.batch_size)),  # arrays or tf.data
                epochs=int(self.config.epochs),
                callbacks=[callback],
                verbose=0,
            )
        except Exception as exc:
            return self._finish("failed", _explain(exc), history, model)
        if callback.failure:
            return self._finish("failed", callback.failure, history, model)
        if self._stop.is_set():
            return self._finish("stopped", "stopped by the user", history, model)
        return self._finish("completed", "training finished", history, model)

    def _finish(
        self,
        status: str,
        message: str,
        history: dict[str, list[float]],
        model: Any,
        node_id: str | None = None,
    ) -> TrainResult:
        self.on_event(TrainEnd(status, message, {k: list(v) for k, v in history.items()}, node_id))
        return TrainResult(status, message, history, model, node_id)


def _explain(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    name = type(exc).__name__
    if "ResourceExhausted" in name or "OOM" in str(exc) or isinstance(exc, MemoryError):
        return f"out of memory: {first}. Try a smaller batch size or fewer units."
    return f"{name}: {first}"


class _EventCallback:
    """A Keras callback that turns fit's hooks into TrainingEvents (built lazily on Keras)."""

    def __new__(cls, trainer: Trainer, history: dict[str, list[float]]) -> Any:
        keras = import_keras()

        class EventCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.failure: str | None = None
                self._epoch = 0
                self._steps = 0
                self._last_emit = -math.inf  # the first batch is always reported
                self._epoch_start = 0.0

            def on_train_begin(self, logs: Any = None) -> None:
                self._steps = int(self.params.get("steps") or 0)
                trainer.on_event(TrainBegin(int(self.params.get("epochs") or 0), self._steps))

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._epoch = epoch
                self._epoch_start = time.perf_counter()

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                now = time.monotonic()
                if now - self._last_emit >= trainer.batch_interval_s:
                    self._last_emit = now
                    values = _floats(logs)
                    loss = values.get("loss")
                    if loss is not None and not math.isfinite(loss):
                        self._fail(f"the loss became {loss} at epoch {self._epoch + 1}")
                        return
                    trainer.on_event(BatchEnd(self._epoch, batch, self._steps, values))
                if not trainer._running.is_set():
                    trainer._running.wait()
                if trainer._stop.is_set():
                    self.model.stop_training = True

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                values = _floats(logs)
                for key, value in values.items():
                    history.setdefault(key, []).append(value)
                loss = values.get("loss")
                if loss is not None and not math.isfinite(loss):
                    self._fail(f"the loss became {loss} in epoch {epoch + 1}")
                    return
                trainer.on_event(EpochEnd(epoch, values, time.perf_counter() - self._epoch_start))

            def _fail(self, what: str) -> None:
                self.failure = (
                    f"{what}: training diverged. Lower the learning rate, normalise the inputs, "
                    "or check the loss fits the output activation."
                )
                self.model.stop_training = True

        return EventCallback()
