"""NumPy `.npz` archives (arrays picked by name) and `.npy` files, loaded without pickle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import (
    CLASSIFICATION,
    REGRESSION,
    Dataset,
    DatasetError,
    ParamSpec,
    SplitSettings,
    encode_labels,
    infer_task,
    split_arrays,
)
from backend.data.finite import NonFinite
from backend.data.ram import gib, ram
from backend.data.safe_arrays import declared_bytes, load_npy, load_npz, npy_contents, npz_contents

ARRAY_PARAMS = (
    ParamSpec("path", "File", "", "file", help=".npz with named arrays, or a .npy of features"),
    ParamSpec("x", "Features array", "", "array", help="empty: x, x_train, X or the first"),
    ParamSpec("y", "Target array", "", "array", help="empty: y, y_train, labels or the second"),
    ParamSpec("y_path", "Targets .npy (for a .npy file)", "", "file"),
    ParamSpec("task", "Task", "auto", "choice", choices=("auto", CLASSIFICATION, REGRESSION)),
    ParamSpec(
        "missing",
        "Samples with NaN or infinity",
        "refuse",
        "choice",
        choices=("refuse", "drop"),
        help="refuse: say where they are; drop: train without those samples",
    ),
)
X_NAMES = ("x", "x_train", "X", "features", "data", "inputs")
Y_NAMES = ("y", "y_train", "Y", "labels", "target", "targets")


def _existing(path_text: Any, what: str) -> Path:
    if not isinstance(path_text, str) or not path_text:
        raise DatasetError(f"choose {what} first")
    path = Path(path_text)
    if not path.exists():
        raise DatasetError(
            f"{path} does not exist (was it moved or deleted since the project was saved?): "
            "choose the file again in the Data panel"
        )
    return path


def array_names(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, dtype) of the arrays in a file, read from headers only."""
    if path.suffix.lower() == ".npz":
        return npz_contents(path)
    return {"x": npy_contents(path)}


def pick_names(params: dict[str, Any], names: list[str]) -> tuple[str, str]:
    def pick(key: str, preferred: tuple[str, ...], fallback: int) -> str:
        chosen = params.get(key) or ""
        if chosen:
            return str(chosen)
        for name in preferred:
            if name in names:
                return name
        if len(names) > fallback:
            return names[fallback]
        raise DatasetError(f"name the {key} array: the file holds {', '.join(names) or 'none'}")

    return pick("x", X_NAMES, 0), pick("y", Y_NAMES, 1)


def read_arrays(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, str, tuple[str, str]]:
    """(x, y, where, (what x is, what y is)) from the file(s) the settings name."""
    path = _existing(params.get("path"), "a .npy or .npz file")
    if path.suffix.lower() == ".npz":
        contents = npz_contents(path)
        x_name, y_name = pick_names(params, list(contents))
        check_fits(path, {n: contents[n] for n in (x_name, y_name) if n in contents})
        arrays = load_npz(path, [x_name, y_name])
        names = (f"{path} array {x_name!r}", f"{path} array {y_name!r}")
        return arrays[x_name], arrays[y_name], f"{path} arrays {x_name!r}, {y_name!r}", names
    y_path = _existing(params.get("y_path"), "the .npy file of targets (y_path)")
    x, y = np.asarray(load_npy(path)), np.asarray(load_npy(y_path))
    return x, y, f"{path} and {y_path}", (str(path), str(y_path))


def check_fits(path: Path, contents: dict[str, tuple[tuple[int, ...], str]]) -> None:
    """DatasetError when the arrays' headers declare more than the free memory: a compressed
    archive (or a forged header) can declare far more than the file holds."""
    sizes = {name: declared_bytes(*info) for name, info in contents.items()}
    found = ram()
    if found is None or not sizes or sum(sizes.values()) <= found[1]:
        return
    name = max(sizes, key=lambda n: sizes[n])
    raise DatasetError(
        f"{path} array {name!r}: its header declares {gib(sizes[name])} "
        f"({contents[name][0]} of {contents[name][1]}), more than the {gib(found[1])} of free "
        "memory: use a smaller file, or a table streamed from disk"
    )


def load_arrays(name: str, params: dict[str, Any], split: SplitSettings) -> Dataset:
    x, y, where, names = read_arrays(params)
    for array, what in zip((x, y), names, strict=True):
        if array.ndim == 0:
            raise DatasetError(
                f"{what} is a single value (shape ()), not one row per sample: save the "
                "samples along the first axis"
            )
    if len(x) != len(y):
        raise DatasetError(f"{where}: {len(x):,} samples of features but {len(y):,} targets")
    if x.dtype.kind not in "iufb":
        raise DatasetError(f"{where}: features must be numbers, got dtype {x.dtype}")
    labels_read = y
    x, y, dropped = _finite_samples(x, y, names, params.get("missing") or "refuse")
    if len(x) < 2:
        raise DatasetError(f"{where}: needs at least two samples, got {len(x)}")
    x = x.astype("float32") if x.dtype.kind in "fb" else x
    task = params.get("task") or "auto"
    if task == "auto":
        task = infer_task(y)
    class_names: list[str] = []
    if task == CLASSIFICATION:
        if y.ndim > 1 and y.shape[-1] != 1:
            raise DatasetError(f"{where}: class labels must be one per sample, got {y.shape}")
        y, class_names = encode_labels(y)
        if len(class_names) < 2:
            raise DatasetError(_one_class(where, class_names[0], labels_read, dropped))
    else:
        if y.dtype.kind not in "iufb":
            raise DatasetError(f"{where}: a regression target must be numbers, got {y.dtype}")
        y = y.astype("float32").reshape(len(y), -1)
    notes = [f"task: {task}; arrays from {where}"]
    if dropped:
        notes.append(f"{dropped:,} sample(s) with NaN or infinite values dropped, as asked")
    return split_arrays(name, x, y, task, split, class_names, notes=notes)


def _one_class(where: str, only: str, labels_read: np.ndarray, dropped: int) -> str:
    """Why a classification target has one class: the file's, or the drop of samples with NaN
    or infinity that removed every example of the others."""
    finite = labels_read
    if labels_read.dtype.kind in "fc":
        finite = labels_read[np.isfinite(labels_read).reshape(len(labels_read), -1).all(axis=1)]
    if dropped and len(np.unique(finite)) >= 2:
        return (
            f"{where}: dropping the {dropped:,} sample(s) with NaN or infinity (missing: drop) "
            f"removed every example of the other classes, leaving only {only!r}: fill those "
            "values in (impute) or fix the file: a drop cannot keep them"
        )
    return f"{where}: the target has only one class ({only!r})"


def _finite_samples(
    x: np.ndarray, y: np.ndarray, names: tuple[str, str], missing: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """(x, y, how many samples were dropped): NaN or infinity anywhere in a sample is refused,
    naming the array, the count and the first place, unless `missing` is "drop"."""
    if missing not in ("refuse", "drop"):
        raise DatasetError(f"missing must be refuse or drop, got {missing!r}")
    scans = [NonFinite.scan(a) for a in (x, y)]
    bad = scans[0].rows | scans[1].rows
    if not bad.any():
        return x, y, 0
    if missing == "drop":
        keep = ~bad
        return x[keep], y[keep], int(bad.sum())
    what, found = next((n, f) for n, f in zip(names, scans, strict=True) if f.count)
    raise DatasetError(
        f"{what}: {found.describe(len(x))}: drop those samples (set 'Samples with NaN or "
        "infinity' to drop, `missing: drop`), fill them in (impute), or fix the file"
    )
