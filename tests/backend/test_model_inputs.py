"""Data reaches a model in the structure the model declares, so Keras never warns
"The structure of `inputs` doesn't match the expected structure"."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from backend.keras_bridge.model_inputs import as_declared, declared_inputs


def models(keras: Any) -> dict[str, Any]:
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    out = keras.layers.Dense(1, name="out")(keras.layers.Concatenate()([a, b]))
    single = keras.layers.Dense(1)(a)
    return {
        "tensor": keras.Model(a, single),
        "list of one": keras.Model([a], single),
        "dict of one": keras.Model({"a": a}, single),
        "list of two": keras.Model([a, b], out),
        "dict of two": keras.Model({"b": b, "a": a}, out),
    }


@pytest.mark.parametrize("declared", ["tensor", "list of one", "dict of one"])
@pytest.mark.parametrize("given", ["array", "list", "dict"])
def test_one_input_in_any_structure(keras: Any, declared: str, given: str) -> None:
    model = models(keras)[declared]
    x = np.ones((4, 3), "float32")
    data = {"array": x, "list": [x], "dict": {"a": x}}[given]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model(as_declared(model, data))
        probe = keras.Model(declared_inputs(model), model.outputs)
        probe(as_declared(model, data))
    assert tuple(out.shape) == (4, 1)


@pytest.mark.parametrize("declared", ["list of two", "dict of two"])
def test_several_inputs_by_order_or_by_name(keras: Any, declared: str) -> None:
    model = models(keras)[declared]
    a, b = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_order = model(as_declared(model, [a, b]))
        by_name = model(as_declared(model, {"b": b, "a": a}))
    np.testing.assert_array_equal(by_order, by_name)
    assert as_declared(model, [a]) == [a]  # a wrong count is left for Keras to name
