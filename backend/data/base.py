"""What every data source produces: a split `Dataset`, its settings, and seeded splitting.

A `Dataset` either holds its three splits as NumPy arrays, or (for files too big to hold)
holds empty arrays of the right sample shape plus a `stream` that builds `tf.data` pipelines.
The trainer asks `fit_arguments` and never needs to know which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

SPLITS = ("train", "val", "test")
CLASSIFICATION = "classification"
REGRESSION = "regression"


class DatasetError(ValueError):
    """A dataset that cannot be loaded, with the file, row or column and what to do about it."""


@dataclass(frozen=True)
class ParamSpec:
    """One setting of a data source, with what an editor needs to show it.

    `kind` is one of: int, float, bool, choice, text, file, folder, columns (several column
    names of a table), column_types, array (an array name inside a NumPy file).
    """

    name: str
    label: str
    default: Any
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class SplitSettings:
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0


class DataStream(Protocol):
    """Builds `tf.data` pipelines for a dataset too big to hold in memory."""

    def size(self, split: str) -> int: ...

    def make(self, split: str, batch_size: int) -> Any: ...


@dataclass
class Dataset:
    """Arrays ready for Keras, already split with a seed (or a stream of them)."""

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
    stream: DataStream | None = None
    feature_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What loading decided or found, for people: missing values filled, rows dropped..."""
    vocabulary: list[str] = field(default_factory=list)
    """What each token id stands for when samples are token ids (`vocabulary[i]` names token
    i: the start token, A, B...); empty when the source does not say."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def target_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.y_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def size(self, split: str) -> int:
        if self.stream is not None:
            return self.stream.size(split)
        x = self._arrays(split)[0]
        return len(x[0]) if isinstance(x, list) else len(x)  # a list: one array per input

    @property
    def train_size(self) -> int:
        return self.size("train")

    def data(self, split: str, batch_size: int) -> tuple[np.ndarray, np.ndarray] | Any:
        """The split as `(x, y)` arrays, or as a batched `tf.data.Dataset` when streamed."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if self.stream is not None:
            return self.stream.make(split, batch_size)
        return self._arrays(split)

    def train_data(self, batch_size: int) -> tuple[np.ndarray, np.ndarray] | Any:
        return self.data("train", batch_size)

    def val_data(self, batch_size: int) -> tuple[np.ndarray, np.ndarray] | Any | None:
        """The validation split, or None when it is empty."""
        return self.data("val", batch_size) if self.size("val") else None

    def test_data(self, batch_size: int) -> tuple[np.ndarray, np.ndarray] | Any | None:
        return self.data("test", batch_size) if self.size("test") else None

    def fit_arguments(self, batch_size: int) -> dict[str, Any]:
        """Keyword arguments for `model.fit` (data, validation data, batch size)."""
        train = self.train_data(batch_size)
        val = self.val_data(batch_size)
        if isinstance(train, tuple):
            return {"x": train[0], "y": train[1], "batch_size": batch_size, "validation_data": val}
        return {"x": train, "validation_data": val, "shuffle": False}  # shuffled by the stream

    def _arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        return {
            "train": (self.x_train, self.y_train),
            "val": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }[split]


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


def split_membership(
    n: int, val_fraction: float, test_fraction: float, seed: int, labels: np.ndarray | None
) -> np.ndarray:
    """The split of each sample (0 train, 1 validation, 2 test), the very assignment
    `split_indices` makes, in one byte per sample plus the int32 positions of one class at a
    time: for big files, where `np.unique` and `np.flatnonzero` over every sample would take
    8 bytes a sample each (the peak of preparing a 2-million-row table)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=np.uint8)
    groups = [(None, n)] if labels is None else class_counts(labels)
    for c, count in groups:
        idx = np.arange(n, dtype=np.int32) if labels is None else _positions(labels, c, count)
        rng.shuffle(idx)  # the very draws of `rng.permutation(idx)`, without its copy
        n_test = round(len(idx) * test_fraction)
        n_val = round(len(idx) * val_fraction)
        out[idx[:n_test]] = 2
        out[idx[n_test : n_test + n_val]] = 1
        del idx  # the next class's positions are not made beside these
    return out


BLOCK_SAMPLES = 2**16
"""Samples looked at at a time by `class_counts` and `_positions`: their work space."""


def class_counts(labels: np.ndarray) -> list[tuple[Any, int]]:
    """(class, samples of it) in `np.unique`'s order. Small non-negative integer labels (a
    table's class codes) are counted a block at a time; others go through `np.unique`, which
    sorts a copy."""
    small = labels.dtype.kind in "iu" and len(labels) > 0
    if not (small and labels.min() >= 0 and labels.max() < 2**16):
        unique, counts = np.unique(labels, return_counts=True)
        return list(zip(unique.tolist(), counts.tolist(), strict=True))
    counts = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    for start in range(0, len(labels), BLOCK_SAMPLES):
        counts += np.bincount(labels[start : start + BLOCK_SAMPLES], minlength=len(counts))
    return [(int(c), int(counts[c])) for c in np.flatnonzero(counts)]


def _positions(labels: np.ndarray, c: Any, count: int) -> np.ndarray:
    """Where `labels == c` (`count` places), as int32, found a block at a time."""
    idx = np.empty(count, dtype=np.int32)
    filled = 0
    for start in range(0, len(labels), BLOCK_SAMPLES):
        hits = np.flatnonzero(labels[start : start + BLOCK_SAMPLES] == c)
        idx[filled : filled + len(hits)] = hits + start
        filled += len(hits)
    return idx


def split_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    task: str,
    split: SplitSettings,
    class_names: list[str] | None = None,
    **extra: Any,
) -> Dataset:
    """Split in-memory arrays with `split_indices` (stratified for classification)."""
    labels = y if task == CLASSIFICATION and y.ndim == 1 else None
    tr, va, te = split_indices(len(x), split.val_fraction, split.test_fraction, split.seed, labels)
    if len(tr) == 0:
        raise DatasetError(
            f"{name}: no samples left for training ({len(x)} in all): lower the validation "
            "and test fractions"
        )
    return Dataset(
        name,
        task,
        x[tr],
        y[tr],
        x[va],
        y[va],
        x[te],
        y[te],
        class_names=list(class_names or []),
        **extra,
    )


def check_classes(where: str, labels: np.ndarray, class_names: list[str]) -> None:
    """A classification target needs at least two classes."""
    present = np.unique(labels)
    if len(present) < 2:
        only = class_names[int(present[0])] if len(present) and class_names else "none"
        raise DatasetError(
            f"{where} has only one class ({only!r}): classification needs at least two; "
            "pick another target or set the task to regression"
        )


def infer_task(values: np.ndarray, max_classes: int = 20) -> str:
    """Classification for text or few distinct whole numbers, else regression."""
    if values.dtype.kind in "USOb":
        return CLASSIFICATION
    if values.ndim > 1 and values.shape[-1] != 1:
        return REGRESSION
    flat = values.reshape(-1)
    if values.dtype.kind in "iu":
        return CLASSIFICATION if len(np.unique(flat)) <= max_classes else REGRESSION
    finite = flat[np.isfinite(flat)]
    whole = bool(np.all(finite == np.round(finite)))
    return CLASSIFICATION if whole and len(np.unique(finite)) <= max_classes else REGRESSION


def encode_labels(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class ids 0..k-1 in sorted order of the distinct values, and their names."""
    flat = values.reshape(-1)
    classes, ids = np.unique(flat, return_inverse=True)
    names = [_label_name(c) for c in classes]
    return ids.astype("int64"), names


def _label_name(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def preview_kind(x_shape: tuple[int, ...], task: str) -> str:
    """How a preview should draw samples of this shape: scatter, images, series, sequences..."""
    sample = x_shape[1:]
    if len(sample) == 1 and sample[0] == 2:
        return "scatter"
    if len(sample) == 3 and sample[-1] in (1, 3, 4):
        return "images"
    if len(sample) == 2:
        return "series" if task == REGRESSION and sample[-1] == 1 else "sequences"
    return "table"
