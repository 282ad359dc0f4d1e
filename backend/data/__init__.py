"""Data sources for training: built-in, generated, Keras-cached, and the user's own files."""

from backend.data.base import (
    CLASSIFICATION,
    REGRESSION,
    Dataset,
    DatasetError,
    ParamSpec,
    SplitSettings,
    split_indices,
)
from backend.data.registry import (
    BUILTIN,
    DATASETS,
    FILE,
    GENERATED,
    KERAS,
    DatasetInfo,
    is_available,
    load_dataset,
)

__all__ = [
    "BUILTIN",
    "CLASSIFICATION",
    "DATASETS",
    "FILE",
    "GENERATED",
    "KERAS",
    "REGRESSION",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "ParamSpec",
    "SplitSettings",
    "is_available",
    "load_dataset",
    "split_indices",
]
