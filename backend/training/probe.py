"""The probe: a small fixed batch, measured before training and once per epoch, that gives the
gradient alerts their numbers (per-layer gradient and weight norms, dead ReLU units) and each
output head its starting loss. One forward and backward pass, outside the training loop.

The pass is one function (`_pass`) that reduces everything on the device and hands back a few
numbers. Eagerly it costs a fresh dispatch of every op each time (tens of milliseconds for an
LSTM, a backbone or attention); traced once as a `tf.function` on the fixed batch it runs in a
few milliseconds, but tracing it costs several eager passes. So a run of `TRACED_FROM_EPOCHS`
epochs or more traces the pass at its first measure (before training) and reuses it every
epoch; a shorter run measures eagerly (a 2-epoch run: three eager passes). The function is
built once per run (per `Probe`) and traced once: the probe batch never changes.

The pass reads the weights it is given (`snapshot`, through Keras' `StatelessScope`), never
the live variables: the measure before training can then run on the trainer's helper thread
while the first training call runs (`trace_ahead`), on the weights as they were before it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.keras_bridge.model_inputs import as_declared, declared_inputs
from backend.keras_env import import_keras, import_tensorflow
from backend.training.diagnostics import HISTOGRAM_BINS, PROBE_SAMPLES, ProbeStats
from backend.training.setup import head_names

TRACED_FROM_EPOCHS = 6
"""Runs of at least this many epochs trace the pass. Measured on the 2-core VM (benchmark CNN
and LSTM, the GRU, dropout and Transformer templates): tracing costs the first eager pass and
2-8 more, a traced pass a tenth of an eager one or less."""


class Probe:
    """Measures ProbeStats for one model on a fixed batch; build it in the training thread.

    `epochs`: how many epochs the run trains (None: unknown, measured eagerly)."""

    def __init__(
        self, model: Any, x: Any, y: Any, histograms: bool = False, epochs: int | None = None
    ) -> None:
        keras = import_keras()
        tf = import_tensorflow()
        self.model = model
        self.x = as_declared(model, _head(x))  # as the model declares its inputs
        self.y = _head(y)
        self.histograms = histograms
        self.heads = head_names(model) if len(model.outputs) > 1 else []
        relu_layers = [
            layer
            for layer in model.layers
            if _is_relu(layer, keras) and not isinstance(layer, keras.layers.InputLayer)
        ]
        self.relu_names = [layer.name for layer in relu_layers]
        self.forward = (  # one forward pass gives the predictions and the ReLUs' outputs
            keras.Model(
                declared_inputs(model),
                {"pred": model.output, "relu": [layer.output for layer in relu_layers]},
            )
            if relu_layers
            else None
        )
        self.variables = list(model.trainable_variables)
        self.weights = list(model.weights)  # what a pass reads: trainable and statistics
        position = {id(var): i for i, var in enumerate(self.weights)}
        self.trainable = [position[id(var)] for var in self.variables]
        self.layers = [str(var.path).split("/")[0] for var in self.variables]
        self.kernels = [
            i for i, var in enumerate(self.variables) if str(var.path).endswith("kernel")
        ]
        self.traced = epochs is not None and epochs >= TRACED_FROM_EPOCHS
        """Whether the measures run a traced pass (see the module docstring)."""
        self._function: Any = None
        self._tensors = tf.nest.map_structure(tf.convert_to_tensor, (self.x, self.y))

    def snapshot(self) -> list[Any]:
        """The model's weights as they are now (tensors, not variables): a measure of them
        may run later or on another thread while training changes the variables."""
        tf = import_tensorflow()
        return [tf.convert_to_tensor(var.value) for var in self.weights]

    def measure(self, snapshot: list[Any] | None = None) -> ProbeStats:
        """The stats of the weights in `snapshot` (default: the weights now)."""
        if self.traced and self._function is None:
            tf = import_tensorflow()
            self._function = tf.function(self._pass, autograph=False)  # traced at its first call
        run = self._function or self._pass
        values = self.snapshot() if snapshot is None else snapshot
        x, y = self._tensors
        found = {k: _numpy(v) for k, v in run(x, y, values).items()}
        stats = ProbeStats()
        stats.loss = float(found["loss"])
        stats.head_losses = self._head_losses(found.get("pred"))
        squares: dict[str, float] = {}
        weights: dict[str, float] = {}
        for i, layer in enumerate(self.layers):
            squares[layer] = squares.get(layer, 0.0) + float(found["grad_squares"][i])
            weights[layer] = weights.get(layer, 0.0) + float(found["weight_squares"][i])
            stats.sizes[layer] = stats.sizes.get(layer, 0) + int(np.prod(self.variables[i].shape))
        stats.grad_norms = {k: math.sqrt(v) for k, v in squares.items()}
        stats.weight_norms = {k: math.sqrt(v) for k, v in weights.items()}
        for i, name in enumerate(self.relu_names):
            stats.dead_fraction[name] = float(found["dead"][i])
            stats.units[name] = int(found["units"][i])
        for j, i in enumerate(self.kernels if self.histograms else []):
            stats.weight_histograms[self.layers[i]] = _histogram(found["kernels"][j])
            stats.grad_histograms[self.layers[i]] = _histogram(found["kernel_grads"][j])
        return stats

    def _pass(self, x: Any, y: Any, values: list[Any]) -> dict[str, Any]:
        """One forward and backward pass on the probe batch with the weights `values` (the
        variables untouched), reduced to what the stats need (eager, or traced by `measure`)."""
        keras = import_keras()
        tf = import_tensorflow()
        trainable = [values[i] for i in self.trainable]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            with keras.StatelessScope(state_mapping=list(zip(self.weights, values, strict=True))):
                if self.forward is not None:
                    outs = self.forward(x, training=False)
                    pred, relus = outs["pred"], outs["relu"]
                else:
                    pred, relus = self.model(x, training=False), []
                loss = self.model.compute_loss(x=x, y=y, y_pred=pred)
        grads = [
            tf.zeros_like(value) if g is None else tf.convert_to_tensor(g)  # dense
            for value, g in zip(trainable, tape.gradient(loss, trainable), strict=True)
        ]
        found: dict[str, Any] = {
            "loss": loss,
            "grad_squares": _squares(tf, grads),
            "weight_squares": _squares(tf, trainable),
            "dead": [],
            "units": [],
        }
        if self.heads:
            found["pred"] = pred
        for out in relus:
            flat = tf.reshape(out, [tf.shape(out)[0], -1])
            dead = tf.cast(tf.reduce_max(flat, 0) <= 0, "float32")  # zero for every sample
            found["dead"].append(tf.reduce_mean(dead))
            found["units"].append(tf.shape(flat)[1])
        if self.histograms:
            found["kernels"] = [trainable[i] for i in self.kernels]
            found["kernel_grads"] = [grads[i] for i in self.kernels]
        return found

    def _head_losses(self, pred: Any) -> dict[str, float]:
        """Each head's own loss on the probe batch, as compiled (before its loss weight)."""
        losses = getattr(self.model, "loss", None)
        if not self.heads or not isinstance(losses, dict):
            return {}
        keras = import_keras()
        preds = [pred[n] for n in self.heads] if isinstance(pred, dict) else list(pred)
        ys = [self.y[n] for n in self.heads] if isinstance(self.y, dict) else list(self.y)
        found = {}
        for name, y, p in zip(self.heads, ys, preds, strict=True):
            loss = keras.losses.get(losses[name])
            if not isinstance(loss, keras.losses.Loss):  # a function: per sample, same rank
                y, p = _same_rank(np.asarray(y), np.asarray(p))
            found[name] = float(np.mean(np.asarray(loss(y, p))))
        return found


def _squares(tf: Any, tensors: list[Any]) -> Any:
    """The sum of squares of each tensor, in float64 (one vector: one copy off the device)."""
    if not tensors:
        return tf.zeros([0], "float64")
    return tf.stack([tf.reduce_sum(tf.square(tf.cast(t, "float64"))) for t in tensors])


def _numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: np.asarray(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return np.asarray(value)


def _same_rank(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (n,) against outputs (n, 1), as Keras lines them up before a loss function."""
    if y.ndim == p.ndim - 1 and p.shape[-1] == 1:
        return y, p[..., 0]
    if p.ndim == y.ndim - 1 and y.shape[-1] == 1:
        return y[..., 0], p
    return y, p


def _head(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: v[:PROBE_SAMPLES] for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [v[:PROBE_SAMPLES] for v in data]
    return data[:PROBE_SAMPLES]


def _is_relu(layer: Any, keras: Any) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") == "relu"


def _histogram(values: np.ndarray) -> tuple[list[float], list[float]]:
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite if finite.size else np.zeros(1), bins=HISTOGRAM_BINS)
    return counts.astype(float).tolist(), edges.astype(float).tolist()
