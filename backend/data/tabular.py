"""CSV, TSV and Parquet tables as datasets: in memory when small, streamed through tf.data when big.

Loading is three passes over the main file in chunks (scan, training statistics, encoding), so
memory follows the chunk size and the encoded result, never the text of the file. Above
`STREAM_ABOVE_BYTES` the encoding pass is not done up front: each epoch reads the file again
through a `tf.data` pipeline (generator of encoded chunks, cached in memory as chunks when the
encoded split fits `CACHE_BYTES`, unbatched, shuffled, batched, prefetched).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import SPLITS, Dataset, DatasetError, SplitSettings
from backend.data.table_encode import TableEncoder, fit_encoder
from backend.data.table_plan import TablePlan, TableSettings, plan_split, scan_table
from backend.data.table_reader import open_table
from backend.keras_env import import_tensorflow

STREAM_ABOVE_BYTES = 64 * 2**20
CACHE_BYTES = 8 * 2**20
"""A streamed split is kept in memory (encoded) only below this: Arrow reads a 200 MB file
in about 2 s, on tf.data's thread while the model trains, so reading it again each epoch
costs less than holding it (the benchmark's 333,000-row validation split: 21 MB)."""
SHUFFLE_ROWS = 20_000


def _open(settings: TableSettings, path: Path | None = None) -> Any:
    return open_table(path or settings.path, settings.delimiter, settings.header)


def load_table(
    name: str, params: dict[str, Any], split: SplitSettings, head_rows: int | None = None
) -> Dataset:
    """Load a table; with `head_rows`, only its first rows (for a quick preview)."""
    settings = TableSettings.from_params(params)
    source = _open(settings)
    if head_rows is not None:
        source = _Head(source, head_rows)
    scan = scan_table(source, settings)
    plan = plan_split(scan, settings, split)
    streamed = source.size_bytes > STREAM_ABOVE_BYTES
    if streamed:  # only `plan.indices()` reads the labels, and a stream never asks it
        plan.labels = None  # a byte a row less through the pass to come
    encoder = fit_encoder(source, scan, plan, settings)
    extras = {"val": settings.val_path, "test": settings.test_path}
    for path in extras.values():
        if path is not None:
            _check_columns(_open(settings, path), scan.columns)
    notes = [*plan.notes, *_column_notes(encoder)]
    if streamed:
        stream = TableStream(settings, encoder, plan, split.seed)
        notes.append(f"streamed from disk: {source.size_bytes / 2**20:,.0f} MB")
        return _dataset(name, encoder, plan, stream=stream, notes=notes)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    x, y = _encode_all(source, encoder)
    for split_name, idx in zip(SPLITS, plan.indices(), strict=True):
        path = extras.get(split_name)
        arrays[split_name] = (
            _encode_all(_open(settings, path), encoder) if path else (x[idx], y[idx])
        )
    return _dataset(name, encoder, plan, arrays=arrays, notes=notes)


def encode_rows(
    params: dict[str, Any], split: SplitSettings, rows_path: str | Path
) -> tuple[np.ndarray, list[str], list[str]]:
    """Other rows (a file with the training table's feature columns; the target may be
    absent), encoded as the training rows were, to predict them: `(x, where each row is,
    class names)`. The encoding is fitted on the training file's rows, as when loading it."""
    settings = TableSettings.from_params(params)
    source = _open(settings)
    scan = scan_table(source, settings)
    plan = plan_split(scan, settings, split)
    encoder = fit_encoder(source, scan, plan, settings)
    rows = _open(settings, Path(rows_path))
    _check_columns(rows, encoder.features)
    xs: list[np.ndarray] = []
    places: list[str] = []
    for chunk in rows.chunks(encoder.kinds, encoder.features):
        xs.append(encoder.features_of(rows.path, chunk)[0])
        places.extend(chunk.where(i) for i in range(len(chunk)))
    if not xs:
        raise DatasetError(f"{rows_path} has no rows to predict")
    return np.concatenate(xs), places, list(plan.class_names)


class _Head:
    """The first rows of a table, as a table of their own (read no further)."""

    def __init__(self, source: Any, rows: int) -> None:
        self.source = source
        self.rows = rows
        self.path = source.path
        self.columns = source.columns
        self.size_bytes = 0

    def head_chunk(self, rows: int) -> Any:
        return self.source.head_chunk(min(rows, self.rows))

    def chunks(self, kinds: Any = None, columns: Any = None) -> Iterator[Any]:
        yield self.source.head_chunk(self.rows)

    def place(self, row: int) -> str:
        return str(self.source.place(row))


def _encode_all(source: Any, encoder: TableEncoder) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for chunk in source.chunks(encoder.kinds, encoder.columns):
        x, y, usable = encoder.transform(source.path, chunk)
        xs.append(x[usable])
        ys.append(y[usable])
    return np.concatenate(xs), np.concatenate(ys)


def _dataset(
    name: str,
    encoder: TableEncoder,
    plan: TablePlan,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    stream: TableStream | None = None,
    notes: list[str] | None = None,
) -> Dataset:
    if arrays is None:
        x0 = np.zeros((0, encoder.width), dtype=np.float32)
        y0 = np.zeros((0, *encoder.target_shape), dtype=_target_dtype(encoder))
        arrays = {s: (x0, y0) for s in SPLITS}
    return Dataset(
        name,
        plan.task,
        *arrays["train"],
        *arrays["val"],
        *arrays["test"],
        class_names=list(plan.class_names),
        stream=stream,
        feature_names=encoder.feature_names,
        notes=list(notes or []),
    )


def _target_dtype(encoder: TableEncoder) -> str:
    return "int64" if encoder.target_shape == () else "float32"


def _check_columns(source: Any, columns: list[str]) -> None:
    missing = [c for c in columns if c not in source.columns]
    if missing:
        raise DatasetError(
            f"{source.path} lacks the column(s) {', '.join(missing)} of the training file"
        )


def _column_notes(encoder: TableEncoder) -> list[str]:
    parts = []
    for name in encoder.features:
        if encoder.kinds[name] == "numeric":
            parts.append(f"{name} (number)")
        else:
            parts.append(f"{name} ({len(encoder.vocab[name])} categories, {encoder.categorical})")
    scaled = "standardised on the training rows" if encoder.standardize else "not standardised"
    return [f"features: {', '.join(parts)}; numbers {scaled}"]


class TableStream:
    """The splits of a big table as `tf.data` pipelines that read the file chunk by chunk."""

    def __init__(
        self, settings: TableSettings, encoder: TableEncoder, plan: TablePlan, seed: int
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.membership = plan.membership
        self.seed = seed
        self.extras = {"val": settings.val_path, "test": settings.test_path}
        self._sizes = {s: int((plan.membership == i).sum()) for i, s in enumerate(SPLITS)}
        for split, path in self.extras.items():
            if path is not None:
                self._sizes[split] = sum(len(x) for x, _y in self.chunks(split))

    def size(self, split: str) -> int:
        return self._sizes[split]

    def chunks(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Encoded rows of one split, a chunk at a time, in file order."""
        path = self.extras.get(split)
        source = _open(self.settings, path)
        code = SPLITS.index(split)
        for chunk in source.chunks(self.encoder.kinds, self.encoder.columns):
            x, y, usable = self.encoder.transform(source.path, chunk)
            if path is None:
                usable = self.membership[chunk.first_row : chunk.first_row + len(chunk)] == code
            yield x[usable], y[usable]

    def make(self, split: str, batch_size: int) -> Any:
        tf = import_tensorflow()
        n = self.size(split)
        x_spec = tf.TensorSpec((None, self.encoder.width), tf.float32)
        y_spec = tf.TensorSpec((None, *self.encoder.target_shape), _target_dtype(self.encoder))
        data = tf.data.Dataset.from_generator(
            lambda: self.chunks(split), output_signature=(x_spec, y_spec)
        )
        row_bytes = 4 * self.encoder.width + 8 * max(1, len(self.encoder.targets))
        if n * row_bytes <= CACHE_BYTES:
            data = data.cache()  # whole encoded chunks: per-row elements would cost far more
        data = data.unbatch()
        if split == "train":
            data = data.shuffle(min(max(n, 1), SHUFFLE_ROWS), seed=self.seed)
        data = data.batch(batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))
        return data.prefetch(tf.data.AUTOTUNE)
