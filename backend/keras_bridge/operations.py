"""`keras.ops` calls as graph nodes: `keras.ops.add(x, y)`, `x * 2`, `keras.ops.mean(x, axis=1)`.

A functional model records each `keras.ops` call on its tensors as an `Operation` object of one
of Keras' own `keras.src.ops` modules, with the object's config and the call's arguments. An
Operation node (`OPERATION_TYPE`) holds exactly that, as JSON:

    {"op": {"module": "keras.src.ops.numpy", "class_name": "Mean",
            "config": {"axis": 1, "keepdims": false}},
     "args": [{"__input__": 0}], "kwargs": {}}

Each tensor argument is a placeholder `{"__input__": port}` for one of the node's input ports;
every other argument is a constant: JSON values, and the slices and Ellipsis of an indexing
(`x[:, :2]`), written as Keras writes them (`__slice__`, `__ellipsis__`). Shape inference asks
the operation's own `compute_output_spec`; the compiler calls the operation on the tensors; the
script writer writes the same class with the same config, so the model's config comes back
unchanged. An operation returning several tensors (`keras.ops.split`) has an output per tensor.

Safety: the class is looked up only in Keras' own ops modules (`OPS_MODULES`, never a path
from the file) and must be an `Operation` defined there; constants are never turned into
objects other than slices and Ellipsis. Loading a project or a model never runs code from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from backend.keras_bridge.catalog import LayerConfigError

OPS_MODULES = (
    "keras.src.ops.numpy",
    "keras.src.ops.math",
    "keras.src.ops.nn",
    "keras.src.ops.core",
    "keras.src.ops.linalg",
    "keras.src.ops.image",
)
"""The only modules an Operation node's class may come from: Keras' own operations."""
INPUT_KEY = "__input__"
PARAM_KEYS = ("op", "args", "kwargs")
_SPECIAL = ("__slice__", "__ellipsis__")


def operation_class(params: dict[str, Any], label: str) -> type[Any]:
    """The Operation class an Operation node names; LayerConfigError when it is not one of
    Keras' own operations."""
    op = params.get("op")
    if not isinstance(op, dict):
        raise LayerConfigError(f"{label} names no operation ('op' must be an object)")
    module, name = op.get("module"), op.get("class_name")
    if module not in OPS_MODULES or not isinstance(name, str) or not name.isidentifier():
        raise LayerConfigError(
            f"{label}: {module}.{name} is not an operation of Keras' own keras.ops modules"
        )
    from keras.src.ops.operation import Operation

    cls = getattr(importlib.import_module(str(module)), name, None)
    if not (isinstance(cls, type) and issubclass(cls, Operation) and cls.__module__ == module):
        raise LayerConfigError(f"{label}: Keras has no operation {module}.{name}")
    return cls


def operation_config(params: dict[str, Any], label: str) -> dict[str, Any]:
    op = params.get("op") or {}
    config = op.get("config", {}) if isinstance(op, dict) else {}
    if not isinstance(config, dict):
        raise LayerConfigError(f"{label}: the operation's 'config' must be an object")
    check_constant(config, label)
    return {k: v for k, v in config.items() if k != "name"}


def make_operation(params: dict[str, Any], name: str) -> Any:
    """The Keras Operation of a node, named after it."""
    label = f"Operation '{name}'"
    unknown = sorted(set(params) - {*PARAM_KEYS, "shares", "call_kwargs"})
    if unknown:
        raise LayerConfigError(f"{label} has no parameter {unknown[0]!r} (it takes op, args)")
    cls = operation_class(params, label)
    try:
        return cls(**operation_config(params, label), name=name)
    except (TypeError, ValueError) as exc:
        raise LayerConfigError(f"{label} ({cls.__name__}): {exc}") from exc


def input_count(params: dict[str, Any]) -> int:
    """How many tensors the call takes: its input ports."""
    ports = _ports([params.get("args", []), params.get("kwargs", {})])
    return max(ports) + 1 if ports else 0


def call_arguments(params: dict[str, Any], tensors: list[Any], label: str) -> tuple[list[Any], Any]:
    """(args, kwargs) of the node's call, its tensors in the placeholders' places."""
    args, kwargs = params.get("args", []), params.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise LayerConfigError(f"{label}: 'args' must be a list and 'kwargs' an object")
    check_constant([args, kwargs], label)

    def fill(value: Any) -> Any:
        if _is_placeholder(value):
            return tensors[value[INPUT_KEY]]
        if isinstance(value, dict) and value.get("class_name") == "__slice__":
            c = value.get("config", {})
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        if isinstance(value, dict) and value.get("class_name") == "__ellipsis__":
            return Ellipsis
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return fill(args), fill(kwargs)


def template(
    args: Any, kwargs: Any, is_tensor: Callable[[Any], bool], label: str
) -> dict[str, Any]:
    """`args` and `kwargs` of a recorded call as an Operation node holds them: each tensor
    (in order of appearance) a placeholder of the next input port. Refuses constants it
    cannot hold (an array, a Python function), naming them."""
    count = 0

    def walk(value: Any) -> Any:
        nonlocal count
        if is_tensor(value):
            count += 1
            return {INPUT_KEY: count - 1}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict) and value.get("class_name") not in _SPECIAL:
            return {k: walk(v) for k, v in value.items()}
        return value

    result = {"args": walk(list(args)), "kwargs": walk(dict(kwargs))}
    check_constant(result, label)
    return result


def check_constant(value: Any, label: str) -> None:
    """LayerConfigError unless `value` is plain JSON, slices, Ellipsis and placeholders."""
    if isinstance(value, dict):
        kind = value.get("class_name")
        if kind in _SPECIAL or _is_placeholder(value):
            return
        if isinstance(kind, str) and kind.startswith("__"):
            what = {"__numpy__": "a constant array", "__tensor__": "a constant tensor"}
            raise LayerConfigError(
                f"{label} takes {what.get(kind, kind)} as an argument, which an Operation "
                "node cannot hold"
            )
        for item in value.values():
            check_constant(item, label)
    elif isinstance(value, list):
        for item in value:
            check_constant(item, label)
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        raise LayerConfigError(f"{label}: {value!r} is not a constant a project can hold")


def call_text(params: dict[str, Any], names: list[str], lit: Callable[[Any], str]) -> str:
    """The call's arguments as Python: `x, 2`, `[a, b], axis=-1`, `x, [slice(None, 2), ...]`."""

    def text(value: Any) -> str:
        if _is_placeholder(value):
            return names[value[INPUT_KEY]]
        if isinstance(value, dict) and value.get("class_name") == "__slice__":
            c = value.get("config", {})
            return f"slice({lit(c.get('start'))}, {lit(c.get('stop'))}, {lit(c.get('step'))})"
        if isinstance(value, dict) and value.get("class_name") == "__ellipsis__":
            return "..."
        if isinstance(value, list):
            return "[" + ", ".join(text(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{lit(k)}: {text(v)}" for k, v in value.items()) + "}"
        return lit(value)

    parts = [text(v) for v in params.get("args", [])]
    parts += [f"{k}={text(v)}" for k, v in (params.get("kwargs") or {}).items()]
    return ", ".join(parts)


def operation_title(params: dict[str, Any]) -> str:
    """`Mean` for a node holding keras.ops.mean: the operation's class name."""
    op = params.get("op")
    name = op.get("class_name") if isinstance(op, dict) else None
    return str(name) if isinstance(name, str) else "Operation"


def operation_summary(params: dict[str, Any]) -> str:
    """The operation's settings in one line: `axis=1 keepdims=False`."""
    op = params.get("op")
    config = op.get("config", {}) if isinstance(op, dict) else {}
    if not isinstance(config, dict):
        return ""
    return " ".join(f"{k}={v}" for k, v in config.items() if k != "name")


def _is_placeholder(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {INPUT_KEY}
        and isinstance(value[INPUT_KEY], int)
        and not isinstance(value[INPUT_KEY], bool)
        and value[INPUT_KEY] >= 0
    )


def _ports(value: Any) -> list[int]:
    if _is_placeholder(value):
        return [int(value[INPUT_KEY])]
    if isinstance(value, list):
        return [p for v in value for p in _ports(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _ports(v)]
    return []
