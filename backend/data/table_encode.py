"""Turning table chunks into float features and targets, with statistics of the training rows.

`fit_encoder` makes a second pass over the main file, over its training rows only: the mean and
standard deviation of each numeric column (for standardising and for filling gaps) and the most
frequent value of each text column. `TableEncoder.transform` is then the one function that
encodes any chunk (of the main file, or of a separate validation or test file), in memory or
inside a `tf.data` pipeline alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import CLASSIFICATION, DatasetError
from backend.data.table_plan import (
    NUMERIC,
    TablePlan,
    TableScan,
    TableSettings,
    numeric_values,
)
from backend.data.table_reader import Chunk


@dataclass
class _Moments:
    """Count, mean and sum of squared deviations, merged chunk by chunk (Chan et al.)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, values: np.ndarray) -> None:
        n = len(values)
        if n == 0:
            return
        mean = float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.count)) if self.count else 1.0


@dataclass
class TableEncoder:
    """Encodes chunks into `(x float32, y, usable rows)`."""

    features: list[str]
    targets: list[str]
    kinds: dict[str, str]
    task: str
    categorical: str  # "onehot" or "index"
    drop_missing: bool
    standardize: bool
    vocab: dict[str, dict[str, int]] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    mode: dict[str, int] = field(default_factory=dict)
    classes: dict[Any, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The file's columns it reads: targets and features."""
        return [*self.targets, *self.features]

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for name in self.features:
            if self.kinds[name] == NUMERIC or self.categorical == "index":
                names.append(name)
            else:
                names.extend(f"{name}={value}" for value in self.vocab[name])
        return names

    @property
    def width(self) -> int:
        return len(self.feature_names)

    @property
    def target_shape(self) -> tuple[int, ...]:
        return () if self.task == CLASSIFICATION else (len(self.targets),)

    def transform(self, path: Path, chunk: Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, feature_missing = self.features_of(path, chunk)
        y, target_missing = self._targets(path, chunk)
        usable = ~target_missing
        if self.drop_missing:
            usable &= ~feature_missing
        return x, y, usable

    def features_of(self, path: Path, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
        """`(x float32, rows with a missing feature)`: gaps filled with the training mean or
        most frequent value, numbers standardised, text one-hot or indexed (unseen: zeros)."""
        n = len(chunk)
        parts: list[np.ndarray] = []
        feature_missing = np.zeros(n, dtype=bool)
        for name in self.features:
            if self.kinds[name] == NUMERIC:
                values, missing = numeric_values(path, chunk, name)
                filled = np.where(missing, self.mean[name], values)
                if self.standardize:
                    filled = (filled - self.mean[name]) / self.std[name]
                parts.append(filled[:, None])
            else:
                index, missing = self._categories(chunk, name)
                parts.append(self._category_columns(name, index))
            feature_missing |= missing
        return np.concatenate(parts, axis=1).astype(np.float32), feature_missing

    def _categories(self, chunk: Chunk, name: str) -> tuple[np.ndarray, np.ndarray]:
        values = chunk.categories(name)
        vocab = self.vocab[name]
        ids = np.array([vocab.get(v, -1) for v in values.uniques] + [-1], dtype=np.int64)
        index = np.where(values.missing, self.mode.get(name, -1), ids[values.codes])
        return index, values.missing

    def _category_columns(self, name: str, index: np.ndarray) -> np.ndarray:
        if self.categorical == "index":  # 0 = missing or unseen, categories from 1
            return (index + 1).astype(np.float64)[:, None]
        onehot = np.zeros((len(index), len(self.vocab[name])))
        known = index >= 0
        onehot[np.flatnonzero(known), index[known]] = 1.0
        return onehot

    def _targets(self, path: Path, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
        if self.task != CLASSIFICATION:
            columns = [numeric_values(path, chunk, name) for name in self.targets]
            y = np.stack([c[0] for c in columns], axis=1).astype(np.float32)
            missing = np.any(np.stack([c[1] for c in columns], axis=1), axis=1)
            return np.nan_to_num(y), missing
        name = self.targets[0]
        labels: np.ndarray
        if self.kinds[name] == NUMERIC:
            keys, missing = numeric_values(path, chunk, name)
            unique, inverse = np.unique(keys, return_inverse=True)
            ids = np.array([self.classes.get(k, -1) for k in unique.tolist()], dtype=np.int64)
            labels = ids[inverse] if len(unique) else np.zeros(0, dtype=np.int64)
        else:
            values = chunk.categories(name)
            missing = values.missing
            ids = np.array([self.classes.get(k, -1) for k in values.uniques] + [-1], np.int64)
            labels = ids[values.codes]
        unknown = np.flatnonzero((labels < 0) & ~missing)
        if len(unknown):
            i = int(unknown[0])
            raise DatasetError(
                f"{path} {chunk.where(i)}, column {name!r}: class "
                f"{chunk.value(name, i)!r} does not occur in the training file"
            )
        return np.where(missing, 0, labels), missing


def fit_encoder(
    source: Any, scan: TableScan, plan: TablePlan, settings: TableSettings
) -> TableEncoder:
    """Statistics of the training rows of the main file (a second pass over it)."""
    encoder = TableEncoder(
        features=scan.features,
        targets=scan.targets,
        kinds=scan.kinds,
        task=plan.task,
        categorical=settings.categorical,
        drop_missing=settings.missing == "drop",
        standardize=settings.standardize,
        vocab={
            name: {v: i for i, v in enumerate(sorted(c))} for name, c in scan.categories.items()
        },
        classes={key: i for i, key in enumerate(plan.class_keys)},
    )
    numeric = [f for f in scan.features if scan.kinds[f] == NUMERIC]
    text = [f for f in scan.features if scan.kinds[f] != NUMERIC]
    moments = {name: _Moments() for name in numeric}
    counts: dict[str, Counter[str]] = {name: Counter() for name in text}
    for chunk in source.chunks(encoder.kinds, encoder.columns):
        train = plan.membership[chunk.first_row : chunk.first_row + len(chunk)] == 0
        for name in numeric:
            values, missing = numeric_values(source.path, chunk, name)
            moments[name].add(values[train & ~missing])
        for name in text:
            cats = chunk.categories(name)
            count = np.bincount(cats.codes[train & ~cats.missing], minlength=len(cats.uniques))
            counts[name].update({cats.uniques[i]: int(count[i]) for i in np.flatnonzero(count)})
    for name, m in moments.items():
        if m.count == 0:
            raise DatasetError(
                f"{source.path}, column {name!r}: no values in the training rows (all missing)"
            )
        encoder.mean[name] = m.mean
        encoder.std[name] = m.std if m.std > 1e-12 else 1.0
    for name, c in counts.items():
        if c and not encoder.drop_missing:
            encoder.mode[name] = encoder.vocab[name][c.most_common(1)[0][0]]
        encoder.vocab.setdefault(name, {})
    return encoder
