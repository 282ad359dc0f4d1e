"""A single neuron on 2-D data, read as a teacher draws it on the board.

The neuron computes z = w1*x1 + w2*x2 + b and outputs f(z). Its line z = 0 is where a sigmoid
outputs exactly 0.5; the weight vector (w1, w2) is perpendicular to that line and points to
where the output grows; the bias moves the line away from the origin by -b / |w|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NeuronReadout:
    """The weights, bias and activation of a model that is one neuron on two inputs."""

    layer_name: str
    weights: tuple[float, float]
    bias: float
    activation: str
    feature_names: tuple[str, str] = ("x1", "x2")

    @property
    def norm(self) -> float:
        return math.hypot(*self.weights)

    @property
    def foot(self) -> tuple[float, float]:
        """The point of the line z = 0 closest to the origin: -b * w / |w|^2."""
        if self.norm == 0:
            return (0.0, 0.0)
        scale = -self.bias / self.norm**2
        return (self.weights[0] * scale, self.weights[1] * scale)

    @property
    def offset(self) -> float:
        """The line's signed distance from the origin, along w: -b / |w|."""
        return -self.bias / self.norm if self.norm else math.inf

    @property
    def angle(self) -> float:
        """The line's direction in degrees (perpendicular to w)."""
        return math.degrees(math.atan2(self.weights[1], self.weights[0])) + 90.0

    def z(self, points: np.ndarray) -> np.ndarray:
        """w . x + b for each (x1, x2) row."""
        return np.asarray(points, dtype="float64") @ np.asarray(self.weights) + self.bias

    def formula(self) -> str:
        """`z = +1.73·x1 - 0.92·x2 - 0.51`, each sign written out."""
        (w1, w2), (n1, n2) = self.weights, self.feature_names
        return f"z = {_signed(w1)}·{n1} {_signed(w2, True)}·{n2} {_signed(self.bias, True)}"


def single_neuron(model: Any, feature_names: list[str] | None = None) -> NeuronReadout | None:
    """The readout when `model` is one Dense unit on a 2-D input (its output), else None."""
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != (2,):
        return None
    if len(model.outputs) != 1:
        return None
    dense = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    if len(dense) != 1:
        return None
    layer = dense[0]
    kernel = np.asarray(layer.kernel.numpy(), dtype="float64")
    if kernel.shape != (2, 1) or type(layer).__name__ != "Dense":
        return None
    has_bias = getattr(layer, "bias", None) is not None
    bias = float(np.asarray(layer.bias.numpy())[0]) if has_bias else 0.0
    activation = getattr(getattr(layer, "activation", None), "__name__", "linear")
    names = tuple(feature_names[:2]) if feature_names and len(feature_names) >= 2 else ("x1", "x2")
    return NeuronReadout(
        layer.name,
        (float(kernel[0, 0]), float(kernel[1, 0])),
        bias,
        activation,
        (str(names[0]), str(names[1])),
    )


def _signed(value: float, spaced: bool = False) -> str:
    sign = "-" if value < 0 else "+"
    return f"{sign} {abs(value):.2f}" if spaced else f"{sign}{abs(value):.2f}"
