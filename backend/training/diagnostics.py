"""Alerts a teacher would give while a network trains, each with what to try.

History rules (overfitting, divergence, plateau) read the per-epoch logs. Probe rules
(exploding or vanishing gradients, dead ReLU units) read `ProbeStats`, measured once per epoch
on a small fixed batch: one forward and backward pass, so the training loop itself is untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.keras_bridge.model_inputs import as_declared, declared_inputs
from backend.keras_env import import_keras, import_tensorflow

EXPLODING_NORM = 1e3
VANISHING_NORM = 1e-7
DEAD_FRACTION = 0.5
PROBE_SAMPLES = 128
HISTOGRAM_BINS = 30


@dataclass(frozen=True)
class Alert:
    kind: str  # overfitting, divergence, nan, plateau, exploding, vanishing, dead_relu
    epoch: int  # 0-based epoch at which it was noticed
    message: str
    advice: str
    layer: str | None = None  # the layer (node name) it points at, when it applies to one

    def text(self) -> str:
        where = f" in '{self.layer}'" if self.layer else ""
        return f"Epoch {self.epoch + 1}{where}: {self.message} Try: {self.advice}"


@dataclass
class ProbeStats:
    """Per-layer gradient norms and dead-unit fractions on the probe batch."""

    grad_norms: dict[str, float] = field(default_factory=dict)
    dead_fraction: dict[str, float] = field(default_factory=dict)
    weight_histograms: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    grad_histograms: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)


class Diagnostics:
    """Feeds on epoch logs (and probe stats); each kind of alert is raised once per layer."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.alerts: list[Alert] = []
        self._raised: set[tuple[str, str | None]] = set()

    def on_epoch(self, epoch: int, logs: dict[str, float], probe: ProbeStats | None) -> list[Alert]:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        found = self._from_history(epoch)
        if probe is not None:
            found += self._from_probe(epoch, probe)
        fresh = [a for a in found if (a.kind, a.layer) not in self._raised]
        for alert in fresh:
            self._raised.add((alert.kind, alert.layer))
        self.alerts += fresh
        return fresh

    def _from_history(self, epoch: int) -> list[Alert]:
        loss = self.history.get("loss", [])
        val = self.history.get("val_loss", [])
        alerts = []
        if loss and not math.isfinite(loss[-1]):
            alerts.append(
                Alert(
                    "nan",
                    epoch,
                    f"the loss became {loss[-1]}.",
                    "a learning rate 10x lower; normalise the inputs.",
                )
            )
            return alerts
        if len(val) >= 4 and val[-1] > val[-2] > val[-3] and loss[-1] < loss[-3]:
            began = epoch - 2
            alerts.append(
                Alert(
                    "overfitting",
                    epoch,
                    f"validation loss has risen since epoch {began + 1} while training loss falls: "
                    "the network is memorising the training data (overfitting).",
                    "Dropout, fewer units, more data or augmentation, or early stopping.",
                )
            )
        if len(loss) >= 3 and loss[-1] > loss[-2] > loss[-3] and loss[-1] > 1.5 * min(loss):
            alerts.append(
                Alert(
                    "divergence",
                    epoch,
                    "the training loss keeps growing: training diverges.",
                    "a learning rate 10x lower.",
                )
            )
        if len(loss) >= 6:
            recent = loss[-5:]
            if max(recent) - min(recent) < 1e-3 * max(abs(recent[0]), 1e-8):
                alerts.append(
                    Alert(
                        "plateau",
                        epoch,
                        "the loss has not moved for 5 epochs (a plateau).",
                        "lower the learning rate (schedule: reduce on plateau) or a bigger model.",
                    )
                )
        return alerts

    def _from_probe(self, epoch: int, probe: ProbeStats) -> list[Alert]:
        alerts = []
        norms = probe.grad_norms
        largest = max((n for n in norms.values() if math.isfinite(n)), default=0.0)
        for layer, norm in norms.items():
            if not math.isfinite(norm) or norm > EXPLODING_NORM:
                alerts.append(
                    Alert(
                        "exploding",
                        epoch,
                        f"gradients explode (norm {norm:.3g}).",
                        "gradient clipping (clipnorm), a lower learning rate, BatchNormalization.",
                        layer,
                    )
                )
            elif norm < VANISHING_NORM and largest > 1e-4:
                alerts.append(
                    Alert(
                        "vanishing",
                        epoch,
                        f"gradients vanish (norm {norm:.2g}): it barely learns.",
                        "ReLU instead of sigmoid/tanh, He initialisation, BatchNormalization, "
                        "or residual connections.",
                        layer,
                    )
                )
        for layer, fraction in probe.dead_fraction.items():
            if fraction > DEAD_FRACTION:
                alerts.append(
                    Alert(
                        "dead_relu",
                        epoch,
                        f"{fraction:.0%} of its ReLU units output zero for every sample (dead).",
                        "a lower learning rate, LeakyReLU, or He initialisation.",
                        layer,
                    )
                )
        return alerts


class Probe:
    """Measures ProbeStats for one model on a fixed batch; build it in the training thread."""

    def __init__(self, model: Any, x: Any, y: Any, histograms: bool = False) -> None:
        keras = import_keras()
        self.model = model
        self.x = as_declared(model, _head(x))  # as the model declares its inputs
        self.y = _head(y)
        self.histograms = histograms
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
        squares: dict[str, float] = {}
        for var, grad in zip(variables, grads, strict=True):
            layer = str(var.path).split("/")[0]
            g = np.asarray(grad) if grad is not None else np.zeros(1)
            squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.square(g)))
            if self.histograms and str(var.path).endswith("kernel"):
                stats.weight_histograms[layer] = _histogram(np.asarray(var))
                stats.grad_histograms[layer] = _histogram(g)
        stats.grad_norms = {k: math.sqrt(v) for k, v in squares.items()}
        if self.activations is not None:
            outs = self.activations(self.x, training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            for name, out in zip(self.relu_names, outs, strict=True):
                a = np.asarray(out).reshape(len(np.asarray(out)), -1)
                stats.dead_fraction[name] = float(np.mean(np.max(a, axis=0) <= 0))
        return stats


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
