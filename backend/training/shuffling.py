"""A fresh order of the training samples every epoch, the same sequence of orders every run.

Keras' own shuffle of in-memory arrays draws its permutation inside a `tf.data` function: once
`keras.utils.set_random_seed` has fixed the seed, every epoch's fresh iterator draws the same
permutation, so the batches come in one order for the whole run (the "stochastic" of SGD
reduced to one fixed pass). Here the arrays are fed through `tf.data` with
`shuffle(reshuffle_each_iteration=True)` and the run's seed instead: epoch 2 differs from
epoch 1, and a second run with the same seed sees the very same orders. Batches are gathered
by index, as Keras does, so nothing is copied per sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.keras_env import import_tensorflow


def reshuffled_each_epoch(arguments: dict[str, Any], seed: int) -> dict[str, Any]:
    """`fit` arguments whose in-memory training arrays come in a new seeded order each epoch.

    Arguments that already hold a `tf.data` pipeline (a streamed dataset shuffles itself) or
    ask for no shuffling are returned unchanged.
    """
    x, y = arguments.get("x"), arguments.get("y")
    if x is None or y is None or arguments.get("shuffle") is False or not _arrays(x):
        return arguments
    tf = import_tensorflow()
    batch_size = int(arguments.get("batch_size") or 32)
    count = len(_first(x))
    order = (
        tf.data.Dataset.range(count)
        .shuffle(count, seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    whole = tf.data.Dataset.from_tensors((_tuples(x), _tuples(y))).repeat()

    def gather(indices: Any, data: Any) -> Any:
        return tf.nest.map_structure(lambda a: tf.gather(a, indices), data)

    pipeline = tf.data.Dataset.zip((order, whole)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    rest = {k: v for k, v in arguments.items() if k not in ("x", "y", "batch_size", "shuffle")}
    return {**rest, "x": pipeline.prefetch(tf.data.AUTOTUNE), "shuffle": False}


def _arrays(data: Any) -> bool:
    """NumPy arrays, alone or in a list, tuple or dict (one per input)."""
    if isinstance(data, dict):
        return bool(data) and all(isinstance(v, np.ndarray) for v in data.values())
    if isinstance(data, (list, tuple)):
        return bool(data) and all(isinstance(v, np.ndarray) for v in data)
    return isinstance(data, np.ndarray)


def _tuples(data: Any) -> Any:
    """tf.data reads a list as one tensor to stack; a tuple is a structure, one per input."""
    return tuple(data) if isinstance(data, list) else data


def _first(data: Any) -> np.ndarray:
    if isinstance(data, dict):
        return next(iter(data.values()))
    if isinstance(data, (list, tuple)):
        return data[0]
    return data
