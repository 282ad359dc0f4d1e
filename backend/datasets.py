"""Built-in datasets that need no download: scikit-learn's bundled sets and generated ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class DatasetError(ValueError):
    """A dataset that cannot be loaded, with what to do about it."""


@dataclass
class Dataset:
    """Arrays ready for Keras, already split with a seed."""

    name: str
    task: str  # "classification" or "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    description: str
    loader: Callable[[dict[str, Any]], tuple[np.ndarray, np.ndarray, list[str], str]]
    defaults: dict[str, Any] = field(default_factory=dict)


def _digits(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]  # (n, 8, 8, 1) in [0, 1]
    return x, data.target.astype("int64"), [str(i) for i in range(10)], "classification"


def _sklearn_table(loader_name: str) -> Callable[..., Any]:
    def load(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], str]:
        import sklearn.datasets

        data = getattr(sklearn.datasets, loader_name)()
        x = data.data.astype("float32")
        x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-7)
        names = [str(n) for n in getattr(data, "target_names", [])]
        if loader_name == "load_diabetes":
            return x, data.target.astype("float32")[:, None], [], "regression"
        return x, data.target.astype("int64"), names, "classification"

    return load


def _moons(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    from sklearn.datasets import make_moons

    x, y = make_moons(
        n_samples=int(params["samples"]), noise=float(params["noise"]), random_state=params["seed"]
    )
    return x.astype("float32"), y.astype("int64"), ["0", "1"], "classification"


def _circles(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    from sklearn.datasets import make_circles

    x, y = make_circles(
        n_samples=int(params["samples"]),
        noise=float(params["noise"]),
        factor=0.5,
        random_state=params["seed"],
    )
    return x.astype("float32"), y.astype("int64"), ["outer", "inner"], "classification"


def _xor(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    rng = np.random.default_rng(params["seed"])
    x = rng.uniform(-1, 1, size=(int(params["samples"]), 2)).astype("float32")
    x += rng.normal(0, float(params["noise"]), size=x.shape).astype("float32")
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype("int64")
    return x, y, ["0", "1"], "classification"


_GENERATED = {"samples": 600, "noise": 0.15, "seed": 0}

DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            "digits",
            "Digits (8x8 images)",
            "1,797 handwritten digits from scikit-learn, 8x8 grey images, 10 classes.",
            _digits,
        ),
        DatasetInfo(
            "iris",
            "Iris",
            "150 flowers, 4 measurements, 3 species.",
            _sklearn_table("load_iris"),
        ),
        DatasetInfo(
            "wine",
            "Wine",
            "178 wines, 13 chemical measurements, 3 cultivars.",
            _sklearn_table("load_wine"),
        ),
        DatasetInfo(
            "breast_cancer",
            "Breast cancer",
            "569 tumours, 30 features, benign or malignant.",
            _sklearn_table("load_breast_cancer"),
        ),
        DatasetInfo(
            "diabetes",
            "Diabetes (regression)",
            "442 patients, 10 features, disease progression after a year.",
            _sklearn_table("load_diabetes"),
        ),
        DatasetInfo(
            "moons", "Two moons", "Two interleaved half circles in 2-D.", _moons, dict(_GENERATED)
        ),
        DatasetInfo(
            "circles", "Circles", "A circle inside a ring, in 2-D.", _circles, dict(_GENERATED)
        ),
        DatasetInfo(
            "xor", "XOR", "Four quadrants, opposite ones share a class.", _xor, dict(_GENERATED)
        ),
    )
}


def split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/validation/test indices, stratified by class when labels are given."""
    rng = np.random.default_rng(seed)
    if labels is None:
        groups = [np.arange(n)]
    else:
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    train, val, test = [], [], []
    for idx in groups:
        idx = rng.permutation(idx)
        n_test = round(len(idx) * test_fraction)
        n_val = round(len(idx) * val_fraction)
        test.append(idx[:n_test])
        val.append(idx[n_test : n_test + n_val])
        train.append(idx[n_test + n_val :])
    return (
        rng.permutation(np.concatenate(train)),
        np.sort(np.concatenate(val)),
        np.sort(np.concatenate(test)),
    )


def load_dataset(
    name: str,
    params: dict[str, Any] | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Dataset:
    info = DATASETS.get(name)
    if info is None:
        known = ", ".join(DATASETS)
        raise DatasetError(f"unknown dataset {name!r}; built-in ones are: {known}")
    try:
        merged = {**info.defaults, **(params or {})}
        x, y, class_names, task = info.loader(merged)
        labels = y if task == "classification" else None
        tr, va, te = split_indices(len(x), val_fraction, test_fraction, seed, labels)
    except (TypeError, ValueError, KeyError) as exc:  # settings from a hand-edited project
        raise DatasetError(f"dataset {name!r} cannot be loaded with these settings: {exc}") from exc
    return Dataset(
        name=name,
        task=task,
        x_train=x[tr],
        y_train=y[tr],
        x_val=x[va],
        y_val=y[va],
        x_test=x[te],
        y_test=y[te],
        class_names=class_names,
        description=info.description,
    )
