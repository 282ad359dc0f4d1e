"""Feeding a model its inputs in the structure it declares (a tensor, a list, a dict).

Keras warns once per call ("The structure of `inputs` doesn't match the expected structure")
when a model built with `inputs=[x]` gets a bare array, or one built with `inputs=x` a list of
one. Everything that feeds a model (training diagnostics, evaluation, insight, export checks)
goes through `as_declared`, and models derived from another (activation probes) declare their
inputs as the original does (`declared_inputs`).
"""

from __future__ import annotations

from typing import Any


def declared_inputs(model: Any) -> Any:
    """The model's symbolic inputs in the structure it was built with."""
    try:
        return model.input  # a Functional model: exactly as given to `keras.Model(inputs=...)`
    except (AttributeError, ValueError):
        inputs = list(model.inputs)
        return inputs[0] if len(inputs) == 1 else inputs


def as_declared(model: Any, data: Any) -> Any:
    """`data` (one array, a list or tuple in input order, or a dict by input name) in the
    structure `model` declares, so Keras maps it without a warning. Data that does not match
    the model's inputs in number is returned as it is: Keras then names the mismatch."""
    inputs = list(model.inputs)
    if isinstance(data, dict):
        names = [_name(t) for t in inputs]
        if not all(n in data for n in names):
            return data
        flat = [data[n] for n in names]
    elif isinstance(data, (list, tuple)):
        flat = list(data)
    else:
        flat = [data]
    if len(flat) != len(inputs):
        return data
    declared = declared_inputs(model)
    if isinstance(declared, dict):
        position = {id(t): i for i, t in enumerate(inputs)}
        return {key: flat[position[id(t)]] for key, t in declared.items()}
    if isinstance(declared, (list, tuple)):
        return flat
    return flat[0]


def _name(tensor: Any) -> str:
    return str(getattr(tensor, "name", "")).split(":")[0]
