"""What the analysis needs to know of a dataset, without loading it on every edit.

The shapes of the built-in sets are known ahead (a test checks them against `load_dataset`).
Generated sets are small: they are loaded once per setting and remembered. Keras downloads and
the user's files may take seconds: `dataset_meta` only answers for them once something has
called it with `load=True` (the analysis panel does, on a background thread).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from backend.data import DATASETS, DatasetError, load_dataset
from backend.document.project import DatasetChoice

CHEAP_KINDS = ("built-in", "generated")
"""Dataset sources that load in a blink (`backend.data.registry` kinds)."""


@dataclass(frozen=True)
class DatasetMeta:
    task: str  # "classification" or "regression"
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    """One label's shape: () for class numbers, (1,) for a single regression target."""
    num_classes: int = 0

    @property
    def target_units(self) -> int:
        """The output width a model needs: classes, or regression targets."""
        if self.task == "classification":
            return self.num_classes
        return self.target_shape[-1] if self.target_shape else 1


_TWO_D = DatasetMeta("classification", (2,), (), 2)
BUILT_IN: dict[str, DatasetMeta] = {
    "digits": DatasetMeta("classification", (8, 8, 1), (), 10),
    "iris": DatasetMeta("classification", (4,), (), 3),
    "wine": DatasetMeta("classification", (13,), (), 3),
    "breast_cancer": DatasetMeta("classification", (30,), (), 2),
    "diabetes": DatasetMeta("regression", (10,), (1,)),
    "moons": _TWO_D,
    "circles": _TWO_D,
    "xor": _TWO_D,
}
"""Built-in datasets whose shapes do not depend on their settings."""

_known: dict[tuple[str, str], DatasetMeta | None] = {}
_lock = threading.Lock()


def _key(choice: DatasetChoice) -> tuple[str, str] | None:
    try:
        return choice.name, json.dumps(choice.params, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None


def is_cheap(choice: DatasetChoice) -> bool:
    info = DATASETS.get(choice.name)
    return info is not None and getattr(info, "kind", "built-in") in CHEAP_KINDS


def is_known(choice: DatasetChoice) -> bool:
    """True when `dataset_meta` answers at once (known ahead, loaded before, or cheap)."""
    key = _key(choice)
    with _lock:
        remembered = key in _known
    return choice.name in BUILT_IN or remembered or is_cheap(choice)


def dataset_meta(choice: DatasetChoice, load: bool = False) -> DatasetMeta | None:
    """The task and shapes of a project's dataset; None when unknown or it cannot be loaded.

    A costly dataset (a Keras download, a file) is loaded only when `load` is True.
    """
    if choice.name in BUILT_IN:
        return BUILT_IN[choice.name]
    key = _key(choice)
    if key is None:
        return None
    with _lock:
        if key in _known:
            return _known[key]
    if not load and not is_cheap(choice):
        return None
    try:
        data = load_dataset(choice.name, choice.params)
        meta: DatasetMeta | None = meta_of(
            data.task, data.x_train.shape, data.y_train.shape, data.num_classes
        )
    except (DatasetError, OSError, MemoryError):
        meta = None
    with _lock:
        _known[key] = meta
    return meta


def meta_of(
    task: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...], num_classes: int
) -> DatasetMeta:
    return DatasetMeta(
        task, tuple(int(d) for d in x_shape[1:]), tuple(int(d) for d in y_shape[1:]), num_classes
    )
