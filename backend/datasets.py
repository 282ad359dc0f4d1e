"""Compatibility module: the data sources live in `backend.data`."""

from backend.data import (
    DATASETS,
    Dataset,
    DatasetError,
    DatasetInfo,
    load_dataset,
    split_indices,
)

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetInfo", "load_dataset", "split_indices"]
