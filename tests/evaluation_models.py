"""Small models really trained on built-in data, once per test session (evaluation, insight).

Plain Keras (not the app's trainer), so these tests depend only on what they test. Each builder
is cached: the backend and GUI tests share the same trained models.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from backend.data import Dataset, load_dataset
from backend.keras_env import import_keras


def _fit(
    model: Any, dataset: Dataset, loss: str, metrics: list[str], epochs: int, lr: float
) -> Any:
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss, metrics=metrics)
    model.fit(dataset.x_train, dataset.y_train, batch_size=32, epochs=epochs, verbose=0)
    return model


@cache
def digits() -> tuple[Any, Dataset]:
    """A small CNN on 8x8 digits, 2 epochs: well above chance, still making mistakes."""
    keras = import_keras()
    dataset = load_dataset("digits")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(32, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
    model = keras.Model(inputs, outputs)
    return _fit(model, dataset, "sparse_categorical_crossentropy", ["accuracy"], 2, 3e-3), dataset


@cache
def moons() -> tuple[Any, Dataset]:
    """An MLP with one sigmoid unit on two moons."""
    keras = import_keras()
    dataset = load_dataset("moons")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((2,), name="point")
    x = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="moon")(x)
    model = keras.Model(inputs, outputs)
    return _fit(model, dataset, "binary_crossentropy", ["accuracy"], 10, 2e-2), dataset


@cache
def diabetes() -> tuple[Any, Dataset]:
    """Regression on scikit-learn's diabetes data; the output layer rescales to target units."""
    keras = import_keras()
    dataset = load_dataset("diabetes")
    mean, std = float(np.mean(dataset.y_train)), float(np.std(dataset.y_train))
    keras.utils.set_random_seed(0)
    inputs = keras.Input((dataset.x_train.shape[1],), name="features")
    x = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(1, name="standardised")(x)
    outputs = keras.layers.Rescaling(std, offset=mean, name="progression")(x)
    model = keras.Model(inputs, outputs)
    return _fit(model, dataset, "mean_squared_error", ["mae"], 20, 1e-2), dataset
