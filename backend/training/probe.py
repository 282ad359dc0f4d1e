"""The probe: a small fixed batch, measured before training and once per epoch, that gives the
gradient alerts their numbers (per-layer gradient and weight norms, dead ReLU units) and each
output head its starting loss. One forward and backward pass, outside the training loop."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.keras_bridge.model_inputs import as_declared, declared_inputs
from backend.keras_env import import_keras, import_tensorflow
from backend.training.diagnostics import HISTOGRAM_BINS, PROBE_SAMPLES, ProbeStats
from backend.training.setup import head_names


class Probe:
    """Measures ProbeStats for one model on a fixed batch; build it in the training thread."""

    def __init__(self, model: Any, x: Any, y: Any, histograms: bool = False) -> None:
        keras = import_keras()
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
        self.activations = (
            keras.Model(declared_inputs(model), [layer.output for layer in relu_layers])
            if relu_layers
            else None
        )

    def measure(self) -> ProbeStats:
        tf = import_tensorflow()
        stats = ProbeStats()
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            pred = self.model(self.x, training=False)
            loss = self.model.compute_loss(x=self.x, y=self.y, y_pred=pred)
        grads = tape.gradient(loss, variables)
        stats.loss = float(np.asarray(loss))
        stats.head_losses = self._head_losses(pred)
        squares: dict[str, float] = {}
        weights: dict[str, float] = {}
        for var, grad in zip(variables, grads, strict=True):
            layer = str(var.path).split("/")[0]
            w = np.asarray(var)
            g = np.asarray(tf.convert_to_tensor(grad)) if grad is not None else np.zeros(1)  # dense
            squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.square(g)))
            weights[layer] = weights.get(layer, 0.0) + float(np.sum(np.square(w)))
            stats.sizes[layer] = stats.sizes.get(layer, 0) + int(w.size)
            if self.histograms and str(var.path).endswith("kernel"):
                stats.weight_histograms[layer] = _histogram(w)
                stats.grad_histograms[layer] = _histogram(g)
        stats.grad_norms = {k: math.sqrt(v) for k, v in squares.items()}
        stats.weight_norms = {k: math.sqrt(v) for k, v in weights.items()}
        if self.activations is not None:
            outs = self.activations(self.x, training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            for name, out in zip(self.relu_names, outs, strict=True):
                a = np.asarray(out).reshape(len(np.asarray(out)), -1)
                stats.dead_fraction[name] = float(np.mean(np.max(a, axis=0) <= 0))
                stats.units[name] = int(a.shape[1])
        return stats

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
