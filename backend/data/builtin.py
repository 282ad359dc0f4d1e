"""Offline data: scikit-learn's bundled sets and generated teaching sets (seeded, sized).

Each loader takes its merged settings and returns `(x, y, class_names, task)`; the registry
splits them. Everything here is small enough to generate in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backend.data.base import CLASSIFICATION, REGRESSION, ParamSpec

Arrays = (
    tuple[np.ndarray, np.ndarray, list[str], str]
    | tuple[np.ndarray, np.ndarray, list[str], str, list[str]]
    | tuple[np.ndarray, np.ndarray, list[str], str, list[str], list[str]]
)
"""x, y, class names, task, and optionally the feature names, then the token vocabulary
(what each token id stands for, when x holds token ids)."""
ArrayLoader = Callable[[dict[str, Any]], Arrays]


def samples_param(default: int = 600) -> ParamSpec:
    return ParamSpec("samples", "Samples", default, "int", 20, 200_000)


def seed_param() -> ParamSpec:
    return ParamSpec("seed", "Seed", 0, "int", 0, 2**31 - 1, help="same seed, same data")


def noise_param(default: float = 0.15) -> ParamSpec:
    return ParamSpec("noise", "Noise", default, "float", 0.0, 5.0)


POINTS_PARAMS = (samples_param(), noise_param(), seed_param())


# ----------------------------------------------------------------- scikit-learn's bundled sets
def digits(params: dict[str, Any]) -> Arrays:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]  # (n, 8, 8, 1) in [0, 1]
    return x, data.target.astype("int64"), [str(i) for i in range(10)], CLASSIFICATION


def sklearn_table(loader_name: str) -> ArrayLoader:
    def load(params: dict[str, Any]) -> Arrays:
        import sklearn.datasets

        data = getattr(sklearn.datasets, loader_name)()
        x = data.data.astype("float32")
        x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-7)
        names = [str(n) for n in getattr(data, "target_names", [])]
        features = [str(n) for n in data.feature_names]
        if loader_name == "load_diabetes":
            return x, data.target.astype("float32")[:, None], [], REGRESSION, features
        return x, data.target.astype("int64"), names, CLASSIFICATION, features

    return load


# ----------------------------------------------------------------- 2-D points
def moons(params: dict[str, Any]) -> Arrays:
    from sklearn.datasets import make_moons

    x, y = make_moons(
        n_samples=int(params["samples"]), noise=float(params["noise"]), random_state=params["seed"]
    )
    return x.astype("float32"), y.astype("int64"), ["0", "1"], CLASSIFICATION


def circles(params: dict[str, Any]) -> Arrays:
    from sklearn.datasets import make_circles

    x, y = make_circles(
        n_samples=int(params["samples"]),
        noise=float(params["noise"]),
        factor=0.5,
        random_state=params["seed"],
    )
    return x.astype("float32"), y.astype("int64"), ["outer", "inner"], CLASSIFICATION


def xor(params: dict[str, Any]) -> Arrays:
    rng = np.random.default_rng(params["seed"])
    x = rng.uniform(-1, 1, size=(int(params["samples"]), 2)).astype("float32")
    x += rng.normal(0, float(params["noise"]), size=x.shape).astype("float32")
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype("int64")
    return x, y, ["0", "1"], CLASSIFICATION


BLOB_CENTRES = np.array([[1.0, 4.0], [3.0, 1.0]], dtype="float32")
BLOB_PARAMS = (samples_param(400), noise_param(0.9), seed_param())


def blobs(params: dict[str, Any]) -> Arrays:
    """Two round clouds in 2-D, overlapping a little: one straight line separates them best,
    and it does not pass through the origin, so a single neuron needs its bias."""
    rng = np.random.default_rng(params["seed"])
    n = int(params["samples"])
    y = np.arange(n) % 2
    x = BLOB_CENTRES[y] + rng.normal(0.0, float(params["noise"]), size=(n, 2))
    return x.astype("float32"), y.astype("int64"), ["0", "1"], CLASSIFICATION


def spirals(params: dict[str, Any]) -> Arrays:
    """Two interleaved spirals, as in TensorFlow Playground."""
    rng = np.random.default_rng(params["seed"])
    n = int(params["samples"])
    y = np.arange(n) % 2
    t = rng.uniform(0.25, 1.0, size=n) * 3.0 * np.pi  # angle along the arm
    radius = t / (3.0 * np.pi)
    angle = t + np.pi * y
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    x += rng.normal(0, float(params["noise"]) * 0.1, size=x.shape)
    return x.astype("float32"), y.astype("int64"), ["0", "1"], CLASSIFICATION


# ----------------------------------------------------------------- series and sequences
SERIES_PARAMS = (
    samples_param(800),
    ParamSpec("window", "Window (timesteps)", 24, "int", 2, 512, help="values seen per sample"),
    ParamSpec("components", "Sine components", 1, "int", 1, 8, help="1: a sine; more: a sum"),
    noise_param(0.05),
    seed_param(),
)


def sine_series(params: dict[str, Any]) -> Arrays:
    """Windows of a noisy sum of sines; the target is the value right after each window."""
    rng = np.random.default_rng(params["seed"])
    n, window = int(params["samples"]), int(params["window"])
    if n < 1 or window < 1:
        raise ValueError("samples and window must be at least 1")
    k = int(params["components"])
    t = np.arange(n + window, dtype="float64")
    periods = rng.uniform(12.0, 60.0, size=k)
    phases = rng.uniform(0.0, 2 * np.pi, size=k)
    amplitudes = 1.0 / np.arange(1, k + 1)
    series = sum(
        a * np.sin(2 * np.pi * t / p + f)
        for a, p, f in zip(amplitudes, periods, phases, strict=True)
    )
    series = series + rng.normal(0.0, float(params["noise"]), size=t.shape)
    starts = np.arange(n)[:, None] + np.arange(window)[None, :]
    x = series[starts][..., None].astype("float32")  # (n, window, 1)
    y = series[np.arange(n) + window][:, None].astype("float32")  # (n, 1): the next value
    return x, y, [], REGRESSION


SEQUENCE_PARAMS = (
    samples_param(800),
    ParamSpec("timesteps", "Timesteps", 20, "int", 2, 512),
    ParamSpec("features", "Features per step", 2, "int", 1, 64),
    noise_param(0.5),
    seed_param(),
)


def trend_sequences(params: dict[str, Any]) -> Arrays:
    """Random walks with a drift; the class is whether the first feature's trend is up."""
    rng = np.random.default_rng(params["seed"])
    n, steps, feats = int(params["samples"]), int(params["timesteps"]), int(params["features"])
    y = rng.integers(0, 2, size=n)
    drift = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.05, 0.3, size=n)
    steps_noise = rng.normal(0.0, float(params["noise"]) * 0.2, size=(n, steps, feats))
    steps_noise[:, :, 0] += drift[:, None]
    x = np.cumsum(steps_noise, axis=1).astype("float32")  # (n, timesteps, features)
    return x, y.astype("int64"), ["down", "up"], CLASSIFICATION


# ----------------------------------------------------------------- images
SHAPE_NAMES = ["square", "circle", "triangle", "cross"]
IMAGE_PARAMS = (
    samples_param(800),
    ParamSpec("size", "Image size (pixels)", 16, "int", 8, 64),
    noise_param(0.1),
    seed_param(),
)


def shapes(params: dict[str, Any]) -> Arrays:
    """Grey images of one outlined shape each, at a random place and size: 4 classes."""
    rng = np.random.default_rng(params["seed"])
    n, size = int(params["samples"]), int(params["size"])
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    yy, xx = np.mgrid[0:size, 0:size].astype("float32")
    y = np.arange(n) % len(SHAPE_NAMES)
    rng.shuffle(y)
    x = np.zeros((n, size, size), dtype="float32")
    for i, label in enumerate(y):
        r = rng.uniform(0.2, 0.35) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
        x[i] = _shape_mask(int(label), xx - cx, yy - cy, r)
    x += rng.normal(0.0, float(params["noise"]), size=x.shape).astype("float32")
    return np.clip(x, 0.0, 1.0)[..., None], y.astype("int64"), list(SHAPE_NAMES), CLASSIFICATION


def _shape_mask(label: int, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    line = 1.2
    if label == 0:  # square outline
        edge = np.maximum(np.abs(dx), np.abs(dy))
        return (np.abs(edge - r) < line).astype("float32")
    if label == 1:  # circle outline
        return (np.abs(np.hypot(dx, dy) - r) < line).astype("float32")
    if label == 2:  # filled triangle, point up
        inside = (dy < r) & (dy > -r) & (np.abs(dx) < (dy + r) / 2)
        return inside.astype("float32")
    cross = ((np.abs(dx) < line) & (np.abs(dy) < r)) | ((np.abs(dy) < line) & (np.abs(dx) < r))
    return cross.astype("float32")
