"""What the analysis needs to know of a dataset, without loading it on every edit.

The shapes of the built-in sets are known ahead (a test checks them against `load_dataset`);
any other dataset is loaded once and remembered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from backend.datasets import DatasetError, load_dataset
from backend.project import DatasetChoice


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


def dataset_meta(choice: DatasetChoice) -> DatasetMeta | None:
    """The task and shapes of a project's dataset; None when it cannot be loaded."""
    if choice.name in BUILT_IN:
        return BUILT_IN[choice.name]
    try:
        params = json.dumps(choice.params, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None
    return _loaded_meta(choice.name, params)


@cache
def _loaded_meta(name: str, params_json: str) -> DatasetMeta | None:
    try:
        data = load_dataset(name, json.loads(params_json))
    except DatasetError:
        return None
    return meta_of(data.task, data.x_train.shape, data.y_train.shape, data.num_classes)


def meta_of(
    task: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...], num_classes: int
) -> DatasetMeta:
    return DatasetMeta(
        task, tuple(int(d) for d in x_shape[1:]), tuple(int(d) for d in y_shape[1:]), num_classes
    )
