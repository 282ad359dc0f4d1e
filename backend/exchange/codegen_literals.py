"""Python source text for the values an exported script holds: literals, Keras objects, blocks.

Shared by the model writer (`backend.exchange.codegen`) and the training writer
(`backend.exchange.codegen_training`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from backend.keras_env import import_keras

INDENT = "    "


def keras_object(value: Any) -> str:
    """A compile argument: a name, a list/dict of them, or a serialized Keras object as the
    constructor call with its non-default arguments (`keras.optimizers.Adam(...)`)."""
    if isinstance(value, list):
        return "[" + ", ".join(keras_object(v) for v in value) + "]"
    if isinstance(value, dict) and "class_name" not in value:
        return "{" + ", ".join(f"{lit(k)}: {keras_object(v)}" for k, v in value.items()) + "}"
    if not isinstance(value, dict):
        return lit(value)
    path = str(value.get("module") or "keras")
    owner: Any = import_keras()
    for part in path.split(".")[1:]:
        owner = getattr(owner, part, None)
    cls = getattr(owner, str(value["class_name"]), None)
    try:
        defaults = cls().get_config() if cls is not None else {}
    except (TypeError, ValueError):
        defaults = {}
    args = []
    for key, item in value.get("config", {}).items():
        if key == "name":
            continue
        if key != "learning_rate" and key in defaults and same(f32(defaults[key]), f32(item)):
            continue
        args.append(f"{key}={keras_object(f32(item))}")
    return f"{path}.{value['class_name']}({', '.join(args)})"


def f32(value: Any) -> Any:
    """Optimizer hyper-parameters are float32 variables: 0.001 rather than 0.0010000000474."""
    return float(str(np.float32(value))) if isinstance(value, float) else value


def lit(value: Any) -> str:
    """A Python literal for a JSON-like value, strings in double quotes."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        inner = ", ".join(lit(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    return repr(value)


def same(a: Any, b: Any) -> bool:
    """Equal, a tuple and a list with the same items included."""

    def norm(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        return v

    return bool(norm(a) == norm(b))


def indent(lines: list[str]) -> str:
    """The lines (each may hold several) one level in, blank lines left empty."""
    out = []
    for line in lines:
        out += [INDENT + part if part else "" for part in line.split("\n")]
    return "\n".join(out) + "\n"
