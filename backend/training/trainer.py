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

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import CompileError, compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_bridge.weight_budget import weight_memory_problem
from backend.keras_bridge.weights import WeightsError, apply_weights, load_weights, misfit
from backend.keras_env import import_keras
from backend.training.diagnostics import Alert, Diagnostics, batch_norm_momentum
from backend.training.execution import BatchLosses, RunExecution, batched_validation
from backend.training.optimizers import make_optimizer
from backend.training.probe import Probe
from backend.training.setup import (
    BestWeights,
    class_weights,
    compile_arguments,
    extra_callbacks,
    head_names,
    precision_policy,
    resolve_loss,
)
from backend.training.shuffling import reshuffled_each_epoch
from backend.training.tf_errors import error_reason

__all__ = ["make_optimizer", "resolve_loss"]  # re-exported: callers import them from here


@dataclass(frozen=True)
class TrainBegin:
    epochs: int
    steps_per_epoch: int
    heads: tuple[str, ...] = ()  # the output heads, when the model has several


@dataclass(frozen=True)
class BatchEnd:
    epoch: int
    step: int
    steps_per_epoch: int
    logs: dict[str, float]  # Keras' logs: running means over the epoch so far
    seconds: float = 0.0  # since the run began (for throughput and ETA)
    losses: tuple[tuple[int, float], ...] = ()
    """(step, loss) of every batch of this epoch since the previous event, each measured on
    its own batch (not Keras' running mean of the epoch). Each batch of a run arrives exactly
    once: an epoch's last batches come in a last BatchEnd before its EpochEnd (step: the last
    one), even when the throttle or a call of several batches held them back. A loss that is
    not finite ends the run (its TrainEnd says so) and is not sent."""


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    logs: dict[str, float]
    seconds: float
    learning_rate: float = 0.0
    samples_per_s: float = 0.0
    histograms: dict[str, Any] = field(default_factory=dict)
    extra: Any = None  # what the run's epoch hook returned (e.g. a decision-boundary grid)


@dataclass(frozen=True)
class TrainAlert:
    alert: Alert


@dataclass(frozen=True)
class TrainEnd:
    status: str  # "completed", "stopped" or "failed"
    message: str
    history: dict[str, list[float]]
    node_id: str | None = None


TrainingEvent = TrainBegin | BatchEnd | EpochEnd | TrainAlert | TrainEnd
EpochHook = Callable[[Any, int], Any]
EventSink = Callable[[TrainingEvent], None]


@dataclass
class TrainResult:
    status: str
    message: str
    history: dict[str, list[float]] = field(default_factory=dict)
    model: Any = None
    node_id: str | None = None
    alerts: list[Alert] = field(default_factory=list)
    best_epoch: int | None = None
    wall_time_s: float = 0.0
    execution: dict[str, Any] = field(default_factory=dict)
    """Batches per call and XLA as used, why, and the calls as measured (`RunExecution`)."""


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
        epoch_hook: EpochHook | None = None,
    ) -> None:
        self.graph = graph
        self.dataset = dataset
        self.config = config
        self.on_event: EventSink = on_event or (lambda event: None)
        self.batch_interval_s = batch_interval_s
        self.epoch_hook = epoch_hook
        self.diagnostics = Diagnostics()
        self._stop = threading.Event()
        self._stop_after_epoch = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._started = 0.0
        self._best_epoch: int | None = None
        self.execution: dict[str, Any] = {}
        self._batch_losses: BatchLosses | None = None
        self.continues_run = False
        """The initial weights are a run's checkpoint: they must fit the whole model."""

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def request_stop_after_epoch(self) -> None:
        self._stop_after_epoch.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def dataset_has_validation(self) -> bool:
        """In memory or streamed (then the arrays are empty and `size` counts the rows)."""
        size = getattr(self.dataset, "size", None)
        if callable(size):
            return bool(size("val"))
        x_val = getattr(self.dataset, "x_val", None)
        return x_val is not None and len(x_val) > 0

    def build_model(self) -> Any:
        keras = import_keras()
        # Shape inference and the weight budget make throwaway layers the first time they see
        # a graph, and each draws a default seed from Python's `random`: done before seeding,
        # the model's own layers get the same initial weights in every run of the session.
        shapes = ShapeInference().infer(self.graph)
        weight_memory_problem(self.graph, shapes)
        keras.utils.set_random_seed(self.config.seed)
        with precision_policy(self.config):
            model = compile_graph(self.graph, shapes)
        if self.config.initial_weights:  # an imported model's weights: training continues
            arrays = load_weights(self.config.initial_weights)
            problem = misfit(model, arrays) if self.continues_run else None
            if problem is not None:  # a checkpoint replaced, or of another model
                raise WeightsError(
                    f"the checkpoint {self.config.initial_weights} does not fit the model of its "
                    f"run ({problem}): continue another run, or train from the start"
                )
            apply_weights(model, arrays)
        model.compile(
            optimizer=make_optimizer(self.config),
            jit_compile=bool(self.config.jit_compile),
            steps_per_execution=max(1, int(self.config.steps_per_execution)),  # the settings
            **compile_arguments(model, self.config, self.dataset),
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
            return self._finish("failed", self._compile_message(exc), history, None, exc.node_id)
        except Exception as exc:
            return self._finish("failed", f"could not build the model: {exc}", history, None)
        self.diagnostics = Diagnostics(  # judged head by head when several
            head_names(model),
            batch_norm_momentum(model),
            math.ceil(self.dataset.size("train") / int(self.config.batch_size)),
        )
        self._started = time.perf_counter()
        arguments = self.dataset.fit_arguments(int(self.config.batch_size))  # arrays or tf.data
        callback = _EventCallback(self, history, self._probe(model, arguments))
        try:
            callbacks = extra_callbacks(self.config, arguments.get("validation_data") is not None)
        except RuntimeError as exc:
            return self._finish("failed", str(exc), history, model)
        arguments = reshuffled_each_epoch(arguments, int(self.config.seed))
        arguments = batched_validation(arguments, int(self.config.batch_size))
        try:
            steps = math.ceil(self.dataset.size("train") / int(self.config.batch_size))
            execution = RunExecution(model, self.config, self.graph, arguments, steps)
            callback.helper = execution.ahead
            self._batch_losses = execution.batch_losses
            model.fit(
                **arguments,
                epochs=int(self.config.epochs),
                callbacks=[*callbacks, execution.clock, execution.ahead, callback],
                class_weight=class_weights(self.config, self.dataset),
                verbose=0,
            )
        except Exception as exc:
            return self._finish("failed", _explain(exc), history, model)
        self.execution = execution.record()
        best = callback.best
        if self.config.checkpoint and best.weights is not None:
            model.set_weights(best.weights)  # the best epoch, not the last one
            self._best_epoch = best.epoch
        if callback.failure:
            return self._finish("failed", callback.failure, history, model)
        if self._stop.is_set():
            return self._finish("stopped", "stopped by the user", history, model)
        if self._stop_after_epoch.is_set():
            return self._finish("stopped", "stopped after the epoch, as asked", history, model)
        return self._finish("completed", "training finished", history, model)

    def _compile_message(self, exc: CompileError) -> str:
        text = f"{exc} {exc.__cause__ or ''}"
        node = self.graph.nodes.get(exc.node_id or "")
        if _is_out_of_memory(text, exc.__cause__) and node is not None:
            return (
                f"out of memory while creating the weights of {node.layer_type} "
                f"'{node.name}': make it smaller (fewer units or filters) or its input smaller."
            )
        return str(exc)

    def _probe(self, model: Any, arguments: dict[str, Any]) -> Probe | None:
        """A fixed batch for the per-epoch diagnostics (in-memory data only)."""
        x, y = arguments.get("x"), arguments.get("y")
        if y is None or x is None:
            return None
        try:
            histograms, epochs = bool(self.config.histograms), int(self.config.epochs)
            return Probe(model, x, y, histograms=histograms, epochs=epochs)
        except (ValueError, TypeError, AttributeError):
            return None  # a model the probe cannot read: train without it

    def _finish(
        self,
        status: str,
        message: str,
        history: dict[str, list[float]],
        model: Any,
        node_id: str | None = None,
    ) -> TrainResult:
        self.on_event(TrainEnd(status, message, {k: list(v) for k, v in history.items()}, node_id))
        wall = time.perf_counter() - self._started if self._started else 0.0
        return TrainResult(
            status,
            message,
            history,
            model,
            node_id,
            list(self.diagnostics.alerts),
            self._best_epoch,
            wall,
            dict(self.execution),
        )


def _explain(exc: Exception) -> str:
    first = error_reason(exc)  # never TensorFlow's "Graph execution error:" line
    name = type(exc).__name__
    if _is_out_of_memory(str(exc), exc):
        return f"out of memory: {first}. Try a smaller batch size or fewer units."
    return f"{name}: {first}"


def _is_out_of_memory(text: str, exc: BaseException | None) -> bool:
    kind = type(exc).__name__ if exc is not None else ""
    return (
        "ResourceExhausted" in kind
        or isinstance(exc, MemoryError)
        or "OOM when allocating" in text
        or "out of memory" in text.lower()
    )


class _BatchLoss:
    """The loss of each batch, recovered from Keras' running mean of the epoch.

    Keras logs the mean over the samples seen so far (its loss tracker weighs each batch by
    its size), so after a step ending at batch k the total is `mean_k * seen_k`, and the
    batches of that step lost `total_k - total_j` over `seen_k - seen_j` samples.
    """

    def __init__(self, batch_size: int, samples: int) -> None:
        self.batch_size = max(1, batch_size)
        self.samples = samples
        self.pending: list[tuple[int, float]] = []
        self.new_epoch()

    def new_epoch(self) -> None:
        self._seen = 0
        self._total = 0.0

    def add(
        self, batch: int, mean: Any, each: list[tuple[int, float]] | None = None
    ) -> float | None:
        """`each`: (step, loss) of the call's batches when it trained several and measured
        them one by one (`BatchLosses`); the first loss is returned."""
        if mean is None or np.ndim(mean) != 0:
            return None
        seen = (batch + 1) * self.batch_size
        if self.samples > 0:
            seen = min(seen, self.samples)
        total = float(mean) * seen
        if seen <= self._seen:
            return None
        loss = (total - self._total) / (seen - self._seen)
        self._seen, self._total = seen, total
        if each:
            self.pending.extend(each)
            return each[0][1]
        self.pending.append((batch, loss))
        return loss

    def take(self) -> tuple[tuple[int, float], ...]:
        taken, self.pending = tuple(self.pending), []
        return taken


class _EventCallback:
    """A Keras callback that turns fit's hooks into TrainingEvents (built lazily on Keras)."""

    def __new__(cls, trainer: Trainer, history: dict[str, list[float]], probe: Probe | None) -> Any:
        keras = import_keras()
        monitor = "val_loss" if trainer.dataset_has_validation() else "loss"

        class EventCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.failure: str | None = None
                self.best = BestWeights(monitor)
                self._epoch = 0
                self._steps = 0
                self._last_emit = -math.inf  # the first batch is always reported
                self._last_step = 0
                self._last_logs: dict[str, Any] = {}
                self._epoch_start = 0.0
                self._batch_loss = _BatchLoss(
                    int(trainer.config.batch_size), trainer.dataset.size("train")
                )
                self.helper: Any = None
                """The run's `TraceAhead`: the measure before training runs on its helper."""
                self._before: Any = None  # that measure, queued

            def on_train_begin(self, logs: Any = None) -> None:
                self._steps = int(self.params.get("steps") or 0)
                epochs = int(self.params.get("epochs") or 0)
                trainer.on_event(TrainBegin(epochs, self._steps, trainer.diagnostics.heads))
                if probe is None:
                    self._begin(None)
                elif self.helper is not None and self.helper.active:  # during the first call
                    weights = probe.snapshot()
                    self._before = self.helper.add(lambda: probe.measure(weights), first=True)
                else:
                    self._begin(probe.measure())

            def _begin(self, stats: Any) -> None:
                for alert in trainer.diagnostics.begin(stats.loss if stats else None, stats):
                    trainer.on_event(TrainAlert(alert))

            def _settle(self) -> None:
                """The measure before training, once the helper has it (before any batch is
                reported: the events keep their order)."""
                if self._before is not None:
                    job, self._before = self._before, None
                    self._begin(job.result())

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._epoch = epoch
                self._epoch_start = time.perf_counter()
                self._batch_loss.new_epoch()

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                self._settle()
                each = trainer._batch_losses.read(batch) if trainer._batch_losses else None
                batch = min(batch, self._steps - 1) if self._steps else batch  # a short last call
                measured = self._batch_loss.add(batch, (logs or {}).get("loss"), each)
                if measured is not None and trainer.diagnostics.start_loss is None:
                    trainer.diagnostics.begin(measured)  # no probe: the first batch's loss
                self._last_step, self._last_logs = batch, logs or {}
                now = time.monotonic()
                if now - self._last_emit >= trainer.batch_interval_s:
                    self._last_emit = now
                    loss = _floats(logs).get("loss")
                    if loss is not None and not math.isfinite(loss):
                        self._fail(f"the loss became {loss} at epoch {self._epoch + 1}")
                        return
                    self._send_batches()
                if not trainer._running.is_set():
                    trainer._running.wait()
                if trainer._stop.is_set():
                    self.model.stop_training = True

            def _send_batches(self) -> None:
                """A BatchEnd with the epoch's batches measured since the last one."""
                losses = tuple(
                    (step, loss) for step, loss in self._batch_loss.take() if math.isfinite(loss)
                )
                elapsed = time.perf_counter() - trainer._started
                trainer.on_event(
                    BatchEnd(
                        self._epoch,
                        self._last_step,
                        self._steps,
                        _floats(self._last_logs),
                        elapsed,
                        losses,
                    )
                )

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                self._settle()
                if self._batch_loss.pending:  # the epoch's last batches, held by the throttle
                    self._send_batches()
                values = _floats(logs)
                for key, value in values.items():
                    history.setdefault(key, []).append(value)
                seconds = time.perf_counter() - self._epoch_start
                loss = values.get("loss")
                if loss is not None and not math.isfinite(loss):
                    self._alert(epoch, values, None)
                    self._fail(f"the loss became {loss} in epoch {epoch + 1}")
                    return
                self.best.offer(self.model, epoch, values)
                stats = probe.measure() if probe is not None else None
                lr = float(np.asarray(self.model.optimizer.learning_rate))
                self._alert(epoch, values, stats, lr)
                samples = self._steps * int(trainer.config.batch_size)
                history.setdefault("samples_per_s", []).append(samples / max(seconds, 1e-9))
                extra = trainer.epoch_hook(self.model, epoch) if trainer.epoch_hook else None
                trainer.on_event(
                    EpochEnd(
                        epoch,
                        values,
                        seconds,
                        lr,
                        samples / max(seconds, 1e-9),
                        {"weights": stats.weight_histograms, "gradients": stats.grad_histograms}
                        if stats is not None and trainer.config.histograms
                        else {},
                        extra,
                    )
                )
                if trainer._stop_after_epoch.is_set():
                    self.model.stop_training = True

            def on_train_end(self, logs: Any = None) -> None:
                self._settle()  # a run stopped before its first batch

            def _alert(
                self, epoch: int, values: dict[str, float], stats: Any, lr: float | None = None
            ) -> None:
                for alert in trainer.diagnostics.on_epoch(epoch, values, stats, lr):
                    trainer.on_event(TrainAlert(alert))

            def _fail(self, what: str) -> None:
                self.failure = (
                    f"{what}: training diverged. Lower the learning rate, normalise the inputs, "
                    "or check the loss fits the output activation."
                )
                self.model.stop_training = True

        return EventCallback()
