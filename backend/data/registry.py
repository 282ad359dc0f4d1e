"""Every data source by name: built-in, generated, Keras-cached and the user's own files.

`DATASETS` lists them (the Data panel builds its menu and editors from it; a project stores a
name from it plus settings), and `load_dataset` turns a name, settings and split into a
`Dataset`. Loading never downloads anything and never runs code from a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.data import builtin, keras_cache, sequence_tasks
from backend.data.arrays import ARRAY_PARAMS, load_arrays
from backend.data.base import Dataset, DatasetError, ParamSpec, SplitSettings, split_arrays
from backend.data.images import FOLDER_PARAMS, load_folder
from backend.data.table_plan import TABLE_PARAMS
from backend.data.tabular import load_table
from backend.data.views import apply_view

BUILTIN = "built-in"
GENERATED = "generated"
KERAS = "keras"
FILE = "file"
KINDS = (BUILTIN, GENERATED, KERAS, FILE)

Builder = Callable[[str, dict[str, Any], SplitSettings], Dataset]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    description: str
    build: Builder
    kind: str = BUILTIN
    params: tuple[ParamSpec, ...] = ()

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    @property
    def is_file(self) -> bool:
        return self.kind == FILE


def _from_arrays(loader: builtin.ArrayLoader) -> Builder:
    def build(name: str, params: dict[str, Any], split: SplitSettings) -> Dataset:
        x, y, class_names, task, *extra = loader(params)
        feature_names = list(extra[0]) if extra else []
        vocabulary = list(extra[1]) if len(extra) > 1 else []
        return split_arrays(
            name, x, y, task, split, class_names, feature_names=feature_names, vocabulary=vocabulary
        )

    return build


def _cached(name: str, params: dict[str, Any], split: SplitSettings) -> Dataset:
    return keras_cache.load_cached(name, params, split)


def _builtin(name: str, title: str, description: str, loader: builtin.ArrayLoader) -> DatasetInfo:
    return DatasetInfo(name, title, description, _from_arrays(loader))


def _generated(
    name: str,
    title: str,
    description: str,
    loader: builtin.ArrayLoader,
    params: tuple[ParamSpec, ...] = builtin.POINTS_PARAMS,
) -> DatasetInfo:
    return DatasetInfo(name, title, description, _from_arrays(loader), GENERATED, params)


def _keras(name: str, title: str, description: str, *params: ParamSpec) -> DatasetInfo:
    return DatasetInfo(name, title, description, _cached, KERAS, tuple(params))


_SOURCES = (
    _builtin(
        "digits",
        "Digits (8x8 images)",
        "1,797 handwritten digits from scikit-learn, 8x8 grey images, 10 classes.",
        builtin.digits,
    ),
    _builtin(
        "iris",
        "Iris",
        "150 flowers, 4 measurements, 3 species.",
        builtin.sklearn_table("load_iris"),
    ),
    _builtin(
        "wine",
        "Wine",
        "178 wines, 13 chemical measurements, 3 cultivars.",
        builtin.sklearn_table("load_wine"),
    ),
    _builtin(
        "breast_cancer",
        "Breast cancer",
        "569 tumours, 30 features, benign or malignant.",
        builtin.sklearn_table("load_breast_cancer"),
    ),
    _builtin(
        "diabetes",
        "Diabetes (regression)",
        "442 patients, 10 features, disease progression after a year.",
        builtin.sklearn_table("load_diabetes"),
    ),
    _generated("moons", "Two moons", "Two interleaved half circles in 2-D.", builtin.moons),
    _generated("circles", "Circles", "A circle inside a ring, in 2-D.", builtin.circles),
    _generated("xor", "XOR", "Four quadrants, opposite ones share a class.", builtin.xor),
    _generated("spirals", "Spirals", "Two interleaved spirals in 2-D.", builtin.spirals),
    _generated(
        "blobs",
        "Two clouds",
        "Two round clouds in 2-D that one straight line separates: for a single neuron.",
        builtin.blobs,
        builtin.BLOB_PARAMS,
    ),
    _generated(
        "sine",
        "Sine series (forecast)",
        "Windows of a noisy sine (or a sum of sines); predict the next value. RNN-shaped.",
        builtin.sine_series,
        builtin.SERIES_PARAMS,
    ),
    _generated(
        "trend_sequences",
        "Trend sequences",
        "Random walks: classify whether the first feature trends up or down. RNN-shaped.",
        builtin.trend_sequences,
        builtin.SEQUENCE_PARAMS,
    ),
    _generated(
        "delayed_recall",
        "Delayed recall",
        "Symbols one per step; name the first one after the distractors. Needs memory.",
        sequence_tasks.delayed_recall,
        sequence_tasks.RECALL_PARAMS,
    ),
    _generated(
        "pattern_order",
        "A pattern before another",
        "Noise with two spikes, A and B: did A come first? Needs memory of what came first.",
        sequence_tasks.pattern_order,
        sequence_tasks.ORDER_PARAMS,
    ),
    _generated(
        "adding_problem",
        "Adding problem",
        "Numbers, two of them marked: is their sum above 1? Needs both remembered.",
        sequence_tasks.adding_problem,
        sequence_tasks.ADDING_PARAMS,
    ),
    _generated(
        "token_order",
        "Token order",
        "Word ids with tokens A (1) and B (2): did A come first? Needs positions (attention).",
        sequence_tasks.token_order,
        sequence_tasks.TOKEN_PARAMS,
    ),
    _generated(
        "shapes",
        "Shapes (images)",
        "Small grey images of a square, circle, triangle or cross: 4 classes for CNNs.",
        builtin.shapes,
        builtin.IMAGE_PARAMS,
    ),
    _keras("mnist", "MNIST", "70,000 handwritten digits, 28x28 grey, 10 classes."),
    _keras("fashion_mnist", "Fashion-MNIST", "70,000 clothing images, 28x28 grey, 10 classes."),
    _keras("cifar10", "CIFAR-10", "60,000 colour photos, 32x32, 10 classes."),
    _keras("cifar100", "CIFAR-100", "60,000 colour photos, 32x32, 100 classes."),
    _keras(
        "imdb",
        "IMDB reviews",
        "50,000 movie reviews as word indices, positive or negative.",
        *keras_cache.TEXT_PARAMS,
    ),
    _keras(
        "reuters",
        "Reuters newswires",
        "11,228 newswires as word indices, 46 topics.",
        *keras_cache.TEXT_PARAMS,
    ),
    _keras(
        "boston_housing", "Boston housing (regression)", "506 districts, 13 features, median price."
    ),
    DatasetInfo(
        "csv",
        "Table file (CSV, TSV, Parquet)",
        "Your own table: choose target and feature columns.",
        load_table,
        FILE,
        TABLE_PARAMS,
    ),
    DatasetInfo(
        "numpy",
        "NumPy arrays (.npz, .npy)",
        "Your own arrays, picked by name.",
        load_arrays,
        FILE,
        ARRAY_PARAMS,
    ),
    DatasetInfo(
        "image_folder",
        "Image folder",
        "Your own images, one sub-folder per class.",
        load_folder,
        FILE,
        FOLDER_PARAMS,
    ),
)
DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _SOURCES}


def is_available(name: str) -> bool:
    """False for a Keras dataset that is not in the cache yet (it would need a download)."""
    info = DATASETS.get(name)
    return info is not None and (info.kind != KERAS or keras_cache.is_cached(name))


def check_ranges(info: DatasetInfo, params: dict[str, Any]) -> None:
    """The upper limits the Data panel's editors keep, for every caller: a hand-edited project
    with a billion samples would be killed by the system, not refused."""
    for spec in info.params:
        if spec.kind not in ("int", "float") or spec.name not in params:
            continue
        value = params[spec.name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DatasetError(
                f"dataset {info.name!r}: {spec.name} must be a number, got {value!r}"
            )
        high = spec.maximum if spec.maximum is not None else math.inf
        if not value <= high:  # NaN too; below the minimum is harmless, and said by its loader
            raise DatasetError(
                f"dataset {info.name!r}: {spec.name} must be at most {high:,g}, got {value:,g}"
            )


def load_dataset(
    name: str,
    params: dict[str, Any] | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Dataset:
    """Load and split a dataset; every expected failure is a `DatasetError` naming the cause."""
    info = DATASETS.get(name)
    if info is None:
        known = ", ".join(DATASETS)
        raise DatasetError(f"unknown dataset {name!r}; the known ones are: {known}")
    merged = {**info.defaults, **(params or {})}
    check_ranges(info, merged)
    view = merged.pop("view", None)  # see backend.data.views: applied after loading
    split = SplitSettings(val_fraction, test_fraction, seed)
    try:
        dataset = info.build(name, merged, split)
    except DatasetError:
        raise
    except MemoryError as exc:
        raise DatasetError(f"dataset {name!r} does not fit in memory") from exc
    except (TypeError, ValueError, KeyError) as exc:  # settings from a hand-edited project
        raise DatasetError(f"dataset {name!r} cannot be loaded with these settings: {exc}") from exc
    if not dataset.description:
        dataset.description = info.description
    return apply_view(dataset, view)
