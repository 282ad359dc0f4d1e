"""Multi-worker training with `tf.distribute.MultiWorkerMirroredStrategy` and our own step.

Keras 3's `fit` fails under this strategy (keras-team/keras#20585), so `MultiWorkerTrainer`
runs the loop itself, the way TensorFlow's custom-training guide does: the model and its
optimizer are created under `strategy.scope()`, the data goes through
`strategy.experimental_distribute_dataset` (batched by the GLOBAL batch size, split over every
replica of every worker), and a `tf.function` step calls `strategy.run`, averaging the loss
with `tf.nn.compute_average_loss(..., global_batch_size=...)` before `apply_gradients`.

Every worker emits the ordinary trainer's events (`TrainBegin`, `BatchEnd`, `EpochEnd`,
`TrainEnd`) with the same, all-reduced numbers. A stop asked on any worker stops them all after
the same step (the stop flag travels in the step's all-reduce), so no worker is left waiting.
"""

from __future__ import annotations

import math
import socket
import time
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import CompileError
from backend.keras_env import import_keras, import_tensorflow
from backend.training.cluster import ClusterConfig, DistributedError
from backend.training.trainer import (
    BatchEnd,
    EpochEnd,
    EventSink,
    TrainBegin,
    Trainer,
    TrainResult,
    _explain,
    resolve_loss,
)

_ACCURACY = {
    "sparse_categorical_crossentropy": "sparse_categorical_accuracy",
    "categorical_crossentropy": "categorical_accuracy",
    "binary_crossentropy": "binary_accuracy",
}
"""For `accuracy`, the per-sample accuracy that fits the loss (as Keras' `fit` chooses)."""


def connect(cluster: ClusterConfig, timeout_s: float) -> Any:
    """Create the strategy (TF_CONFIG already set) once every worker answers, or fail after
    `timeout_s` naming those that do not.

    TensorFlow's own wait for the cluster blocks in C++ without a bound when a peer never
    starts, so the workers first find each other with plain sockets: each listens on its own
    address until it has heard every other one, then hands the port to TensorFlow. This must be
    the first TensorFlow work in the process (collective ops are set up as the runtime starts).
    """
    tf = import_tensorflow()
    wait_for_cluster(cluster, timeout_s)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as exc:
        if "program startup" in str(exc) or "already been initialized" in str(exc):
            raise DistributedError(
                "multiworker training must be the first TensorFlow work of its process: "
                "run it with `python main.py train ... --strategy multiworker`"
            ) from exc
        raise DistributedError(f"cannot join the cluster: {exc}") from exc


def wait_for_cluster(cluster: ClusterConfig, timeout_s: float) -> None:
    """Answer on this worker's address while waiting (at most `timeout_s`) for all others."""
    port = int(cluster.address.rpartition(":")[2])
    others = [a for a in (*cluster.chiefs, *cluster.workers) if a != cluster.address]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as TensorFlow will
        try:
            listener.bind(("", port))
        except OSError as exc:
            raise DistributedError(
                f"this worker's address {cluster.address} (TF_CONFIG task) cannot be used: "
                f"port {port} is taken ({exc.strerror or exc}); is another worker running here?"
            ) from None
        listener.listen(16)
        listener.settimeout(0.05)
        deadline = time.monotonic() + timeout_s
        waiting = list(others)
        while waiting and time.monotonic() < deadline:
            _accept_all(listener)
            waiting = [a for a in waiting if not _answers(a)]
            if waiting:
                time.sleep(0.2)
        _accept_all(listener)
    if waiting:
        raise DistributedError(
            f"the cluster did not come up within {timeout_s:g} s: no answer from "
            f"{', '.join(waiting)}. Start the same command on every machine of TF_CONFIG (each "
            "with its own task index), and check the addresses and firewalls"
        )


def _accept_all(listener: socket.socket) -> None:
    """Take and close the connections of peers checking that we are up."""
    while True:
        try:
            connection, _ = listener.accept()
        except (TimeoutError, BlockingIOError, OSError):
            return
        connection.close()


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


class MultiWorkerTrainer(Trainer):
    """One worker of a multi-worker run: the same events and result as `Trainer`."""

    def __init__(
        self,
        graph: LayerGraph,
        dataset: Dataset,
        config: TrainingConfig,
        on_event: EventSink | None,
        cluster: ClusterConfig,
        connect_timeout_s: float,
    ) -> None:
        super().__init__(graph, dataset, config, on_event)
        self.cluster = cluster
        self.connect_timeout_s = connect_timeout_s
        self.replicas = 0
        self.skipped_metrics: list[str] = []

    def run(self, model: Any = None) -> TrainResult:
        history: dict[str, list[float]] = {}
        try:
            self.config.validate()
            strategy = connect(self.cluster, self.connect_timeout_s)
        except (DistributedError, ValueError) as exc:
            return self._finish("failed", str(exc), history, None)
        self.replicas = int(strategy.num_replicas_in_sync)
        self._started = time.perf_counter()
        try:
            with strategy.scope():
                model = model if model is not None else self.build_model()
        except CompileError as exc:
            return self._finish("failed", str(exc), history, None, exc.node_id)
        except Exception as exc:
            return self._finish("failed", f"could not build the model: {exc}", history, None)
        try:
            failure = _Loop(self, strategy, model, history).fit()
        except Exception as exc:
            return self._finish("failed", _explain(exc), history, model)
        if failure:
            return self._finish("failed", failure, history, model)
        if self.stop_requested:
            return self._finish("stopped", "stopped by the user", history, model)
        ignored = [*_ignored_settings(self.config), *self.skipped_metrics]
        note = f" (not applied across workers: {', '.join(ignored)})" if ignored else ""
        return self._finish("completed", "training finished" + note, history, model)


class _Loop:
    """The epochs of one worker: distributed data, a compiled train and evaluation step."""

    def __init__(
        self, trainer: MultiWorkerTrainer, strategy: Any, model: Any, history: dict[str, Any]
    ) -> None:
        self.trainer = trainer
        self.strategy = strategy
        self.model = model
        self.history = history
        self.global_batch = int(trainer.config.batch_size)
        dataset = trainer.dataset
        if len(model.outputs) != 1:
            raise DistributedError(
                f"multiworker training takes single-output models; this one has "
                f"{len(model.outputs)} outputs (use --strategy mirrored on one machine)"
            )
        out_units = int(model.outputs[0].shape[-1] or 1)
        loss_name = resolve_loss(trainer.config, dataset, out_units)
        self.loss = _per_example_loss(model.loss)
        self.metrics: dict[str, Any] = {}
        names = trainer.config.metrics if dataset.task == "classification" else []
        for name in names:
            function = _metric_function(name, loss_name)
            if function is None:
                trainer.skipped_metrics.append(name)
            else:
                self.metrics[name] = function
        self.train_step = self._compiled_step(training=True)
        self.eval_step = self._compiled_step(training=False)

    def fit(self) -> str | None:
        """Run every epoch; returns why training failed, or None."""
        tf = import_tensorflow()
        trainer = self.trainer
        train = self._distributed("train", shuffle=True)
        val = self._distributed("val", shuffle=False) if trainer.dataset.size("val") else None
        steps = math.ceil(trainer.dataset.train_size / self.global_batch)
        epochs = int(trainer.config.epochs)
        trainer.on_event(TrainBegin(epochs, steps))
        last_emit = -math.inf
        for epoch in range(epochs):
            start = time.perf_counter()
            totals = np.zeros(len(self.metrics) + 3)
            for step, batch in enumerate(train):
                stop = tf.constant(1.0 if trainer.stop_requested else 0.0)
                totals += self.train_step(batch, stop).numpy()
                logs = self._logs(totals, "")
                if totals[-1] > 0:  # some worker asked to stop: every worker stops here
                    trainer.request_stop()
                    break
                if not math.isfinite(logs["loss"]):
                    return _diverged(logs["loss"], epoch)
                if time.monotonic() - last_emit >= trainer.batch_interval_s:
                    last_emit = time.monotonic()
                    since = time.perf_counter() - trainer._started
                    trainer.on_event(BatchEnd(epoch, step, steps, logs, since))
            if trainer.stop_requested:
                return None
            logs = self._logs(totals, "")
            if val is not None:
                val_totals = sum(
                    (self.eval_step(batch, tf.constant(0.0)).numpy() for batch in val),
                    np.zeros(len(self.metrics) + 3),
                )
                logs.update(self._logs(val_totals, "val_"))
            for key, value in logs.items():
                self.history.setdefault(key, []).append(value)
            seconds = time.perf_counter() - start
            rate = float(np.asarray(self.model.optimizer.learning_rate))
            speed = float(totals[-2]) / seconds if seconds > 0 else 0.0
            trainer.on_event(EpochEnd(epoch, logs, seconds, rate, speed))
        return None

    def _logs(self, totals: np.ndarray, prefix: str) -> dict[str, float]:
        count = max(float(totals[-2]), 1.0)
        logs = {f"{prefix}loss": float(totals[0] / count)}
        for i, name in enumerate(self.metrics, start=1):
            logs[f"{prefix}{name}"] = float(totals[i] / count)
        return logs

    def _distributed(self, split: str, shuffle: bool) -> Any:
        """The split batched by the global batch size, sharded by data over the workers."""
        tf = import_tensorflow()
        dataset = self.trainer.dataset
        data = dataset.data(split, self.global_batch)
        if isinstance(data, tuple):
            x, y = data
            pipeline = tf.data.Dataset.from_tensor_slices((x, y))
            if shuffle:  # the same seed on every worker: the shards never overlap
                pipeline = pipeline.shuffle(len(x), seed=self.trainer.config.seed)
            data = pipeline.batch(self.global_batch)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return self.strategy.experimental_distribute_dataset(data.with_options(options))

    def _compiled_step(self, training: bool) -> Any:
        """A `tf.function` returning the all-reduced [loss sum, metric sums..., count, stop]."""
        tf = import_tensorflow()
        model, strategy, loss_fn = self.model, self.strategy, self.loss
        metrics = list(self.metrics.values())
        global_batch = self.global_batch

        def replica_step(x: Any, y: Any, stop: Any) -> Any:
            with tf.GradientTape() as tape:
                predictions = model(x, training=training)
                per_example = tf.reshape(tf.cast(loss_fn(y, predictions), tf.float32), [-1])
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                regularization = tf.constant(0.0)
                if model.losses:
                    regularization = tf.add_n([tf.cast(v, tf.float32) for v in model.losses])
                    loss += tf.nn.scale_regularization_loss(regularization)
            if training:
                variables = model.trainable_variables
                gradients = tape.gradient(loss, variables)
                model.optimizer.apply_gradients(zip(gradients, variables, strict=True))
            count = tf.cast(tf.shape(per_example)[0], tf.float32)
            loss_sum = tf.reduce_sum(per_example) + regularization * count
            sums = [tf.reduce_sum(tf.cast(m(y, predictions), tf.float32)) for m in metrics]
            return tf.stack([loss_sum, *sums, count, stop])

        @tf.function
        def step(batch: Any, stop: Any) -> Any:
            x, y = batch
            per_replica = strategy.run(replica_step, args=(x, y, stop))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        return step


def _ignored_settings(config: TrainingConfig) -> list[str]:
    """Settings that ride on `fit` callbacks, which the multiworker loop does not run."""
    checks = {
        "class weights": config.class_weight is not None,
        "early stopping": bool(config.early_stopping),
        "best-epoch checkpoint": bool(config.checkpoint),
        f"the {config.schedule} learning-rate schedule": config.schedule != "constant",
        "TensorBoard logs": bool(config.tensorboard_dir),
    }
    return [name for name, used in checks.items() if used]


def _per_example_loss(loss: Any) -> Any:
    """The compiled loss (a name, function or `Loss`) without reduction: one value per sample."""
    keras = import_keras()
    if isinstance(loss, (dict, list, tuple)):
        loss = next(iter(loss.values() if isinstance(loss, dict) else loss))
    if isinstance(loss, str):  # "binary_crossentropy" -> keras.losses.BinaryCrossentropy
        loss = getattr(keras.losses, "".join(p.title() for p in loss.split("_")), None) or loss
        loss = loss() if isinstance(loss, type) else keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        return loss.__class__.from_config({**loss.get_config(), "reduction": None})
    raise DistributedError(f"multiworker training cannot split the loss {loss!r} per sample")


def _metric_function(name: str, loss_name: str) -> Any:
    """A per-sample metric function for `name`, or None when it has no per-sample form."""
    keras = import_keras()
    if name in ("accuracy", "acc"):
        name = _ACCURACY.get(loss_name, "")
    if not name:
        return None
    function = getattr(keras.metrics, name, None)  # the function, not the stateful class
    return function if callable(function) and not isinstance(function, type) else None


def _diverged(loss: float, epoch: int) -> str:
    return (
        f"the loss became {loss} in epoch {epoch + 1}: training diverged. Lower the learning "
        "rate, normalise the inputs, or check the loss fits the output activation."
    )
