"""Ways of presenting a loaded dataset to a model that the source itself does not know:
an autoencoder learns to give back its input, a two-input model gets the features in two
halves. Chosen by the `view` setting of a dataset choice (saved in the project)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from backend.data.base import Dataset, DatasetError

VIEWS = ("autoencoder", "two_inputs", "same_target:N")


def apply_view(dataset: Dataset, view: Any) -> Dataset:
    if view in (None, "", "none"):
        return dataset
    if view == "autoencoder":  # the target is the input itself: a regression of pixels
        return replace(
            dataset,
            task="regression",
            y_train=dataset.x_train,
            y_val=dataset.x_val,
            y_test=dataset.x_test,
            class_names=[],
        )
    if view == "two_inputs":
        if not isinstance(dataset.x_train, np.ndarray) or dataset.x_train.ndim != 2:
            raise DatasetError(f"{dataset.name}: two inputs need a table of features")
        half = dataset.x_train.shape[1] // 2

        def split(x: np.ndarray) -> Any:  # a model with two inputs takes a list
            return [x[:, :half], x[:, half:]]

        return replace(
            dataset,
            x_train=split(dataset.x_train),
            x_val=split(dataset.x_val),
            x_test=split(dataset.x_test),
        )
    if isinstance(view, str) and view.startswith("same_target:"):
        return _same_target(dataset, view)
    raise DatasetError(f"unknown data view {view!r}; known: {', '.join(VIEWS)}")


def _same_target(dataset: Dataset, view: str) -> Dataset:
    """The same labels for each of N output heads: side-by-side networks that share only
    their input, each trained on its own loss (a comparison in one run)."""
    count = view.partition(":")[2]
    if not count.isdigit() or not 1 <= int(count) <= 16:
        raise DatasetError(f"view {view!r}: give the number of heads, 1 to 16 (same_target:3)")
    heads = int(count)

    def copies(y: np.ndarray) -> Any:  # a model with several outputs takes a list
        return [y] * heads

    return replace(
        dataset,
        y_train=copies(dataset.y_train),
        y_val=copies(dataset.y_val),
        y_test=copies(dataset.y_test),
    )
