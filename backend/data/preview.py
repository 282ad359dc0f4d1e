"""What the Data panel shows: a bounded look at a source, never a whole big file.

Built-in, generated, cached and small file sources are loaded in full (that also checks them);
a table above `FULL_CHECK_BYTES` is previewed from its first `rows` rows only, and an image
folder above `FULL_CHECK_IMAGES` from an index of its files plus a few decoded samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data import images, tabular
from backend.data.arrays import array_names
from backend.data.base import (
    CLASSIFICATION,
    Dataset,
    DatasetError,
    SplitSettings,
    preview_kind,
    split_indices,
)
from backend.data.registry import DATASETS, FILE, load_dataset
from backend.data.table_reader import open_table

FULL_CHECK_BYTES = 16 * 2**20
FULL_CHECK_IMAGES = 300
SAMPLE_IMAGES = 16
SAMPLE_POINTS = 2000


@dataclass
class DataPreview:
    name: str
    kind: str  # "table", "images", "series", "scatter" or "sequences"
    task: str
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...] = ()
    class_names: list[str] = field(default_factory=list)
    class_counts: list[int] = field(default_factory=list)
    balance_of: str = "training split"
    sizes: tuple[int, int, int] | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    """True when the whole source was read and checked, not only its start."""
    arrays: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)
    view: str = ""
    """How the project presents the data to its model (`backend.data.views`), if not plainly."""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def preview_dataset(
    name: str,
    params: dict[str, Any] | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    rows: int = 100,
) -> DataPreview:
    info = DATASETS.get(name)
    if info is None:
        raise DatasetError(f"unknown dataset {name!r}")
    merged = {**info.defaults, **(params or {})}
    view = merged.pop("view", None)  # backend.data.views: how a model takes it, not the data
    split = SplitSettings(val_fraction, test_fraction, seed)
    if name == "csv":
        preview = _table_preview(merged, split, rows)
    elif name == "image_folder":
        preview = _folder_preview(merged, split)
    else:
        preview = from_dataset(load_dataset(name, merged, val_fraction, test_fraction, seed), rows)
    if info.kind == FILE and name == "numpy":
        preview.arrays = array_names(Path(merged["path"]))
    if view:
        preview.view = str(view)
        preview.notes.append(f"presented to the model as: {view}")
    return preview


def from_dataset(
    dataset: Dataset, rows: int = 100, balance_of: str = "training split"
) -> DataPreview:
    x, y = dataset.x_train[:SAMPLE_POINTS], dataset.y_train[:SAMPLE_POINTS]
    preview = DataPreview(
        name=dataset.name,
        kind=preview_kind(dataset.x_train.shape, dataset.task),
        task=dataset.task,
        input_shape=dataset.input_shape,
        target_shape=dataset.target_shape,
        class_names=list(dataset.class_names),
        balance_of=balance_of,
        sizes=(dataset.size("train"), dataset.size("val"), dataset.size("test")),
        x=x,
        y=y,
        notes=list(dataset.notes),
    )
    if dataset.task == CLASSIFICATION and dataset.stream is None:
        counts = np.bincount(dataset.y_train.astype(np.int64), minlength=dataset.num_classes)
        preview.class_counts = [int(c) for c in counts]
    if x.ndim == 2:
        names = dataset.feature_names or [f"x{i}" for i in range(x.shape[1])]
        target = [_label(dataset, v) for v in y[:rows]]
        preview.columns = [*names, "target"]
        preview.rows = [
            [_cell(dataset, v) for v in row] + [t] for row, t in zip(x[:rows], target, strict=True)
        ]
    return preview


def _cell(dataset: Dataset, value: Any) -> str:
    """A number, or the token a token id stands for."""
    vocabulary = dataset.vocabulary
    if vocabulary and isinstance(value, np.integer) and 0 <= value < len(vocabulary):
        return vocabulary[int(value)]
    return f"{value:.4g}"


def _label(dataset: Dataset, value: Any) -> str:
    if dataset.task == CLASSIFICATION and dataset.class_names:
        return dataset.class_names[int(value)]
    return ", ".join(f"{v:.4g}" for v in np.ravel(value))


def _table_preview(params: dict[str, Any], split: SplitSettings, rows: int) -> DataPreview:
    settings = tabular.TableSettings.from_params(params)
    source = open_table(settings.path, settings.delimiter, settings.header)
    head, more = source.head(rows)
    if not head:
        raise DatasetError(f"{settings.path} has a header but no data rows")
    if source.size_bytes <= FULL_CHECK_BYTES:
        dataset = tabular.load_table("csv", params, split)
        complete = True
        balance = "training split"
    else:
        dataset = tabular.load_table("csv", params, split, head_rows=max(rows, 200))
        complete = False
        balance = f"first {max(rows, 200)} rows"
    preview = from_dataset(dataset, rows, balance)
    preview.kind = "table"
    preview.columns, preview.rows = list(source.columns), head
    preview.complete = complete
    if not complete:
        preview.sizes = None
        mb = source.size_bytes / 2**20
        preview.notes.insert(
            0,
            f"a big file ({mb:,.0f} MB): this preview reads only its first rows; the whole "
            "file is read, checked and streamed when training starts",
        )
    elif more:
        preview.notes.insert(0, f"showing the first {len(head)} rows")
    return preview


def _folder_preview(params: dict[str, Any], split: SplitSettings) -> DataPreview:
    folder = Path(str(params.get("path") or ""))
    if not params.get("path"):
        raise DatasetError("choose a folder of images first")
    paths, labels, classes = images.index_folder(folder)
    if len(paths) <= FULL_CHECK_IMAGES:
        dataset = images.load_folder("image_folder", params, split)
        preview = from_dataset(dataset)
        preview.x, preview.y = dataset.x_train[:SAMPLE_IMAGES], dataset.y_train[:SAMPLE_IMAGES]
        return preview
    decoder = images.ImageDecoder(params)
    pick = _spread(labels, SAMPLE_IMAGES)
    sample = decoder.decode_many([paths[i] for i in pick])
    extra = {s: str(params.get(f"{s}_path") or "") for s in ("val", "test")}
    val = 0.0 if extra["val"] else split.val_fraction
    test = 0.0 if extra["test"] else split.test_fraction
    tr, va, te = split_indices(len(paths), val, test, split.seed, labels)
    n_val, n_test = (
        len(images.index_folder(Path(extra[s]))[0]) if extra[s] else len(idx)
        for s, idx in (("val", va), ("test", te))
    )
    counts = np.bincount(labels[tr], minlength=len(classes))
    return DataPreview(
        name="image_folder",
        kind="images",
        task=CLASSIFICATION,
        input_shape=decoder.shape,
        class_names=classes,
        class_counts=[int(c) for c in counts],
        sizes=(len(tr), n_val, n_test),
        x=sample,
        y=labels[pick],
        notes=[f"{len(paths):,} images; {len(pick)} decoded for this preview"],
        complete=False,
    )


def _spread(labels: np.ndarray, count: int) -> np.ndarray:
    """Up to `count` indices taking each class in turn."""
    per_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    picked: list[int] = []
    depth = 0
    while len(picked) < count and any(depth < len(p) for p in per_class):
        picked.extend(int(p[depth]) for p in per_class if depth < len(p))
        depth += 1
    return np.asarray(picked[:count], dtype=np.int64)
