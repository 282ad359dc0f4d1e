"""The layer catalog: each palette layer's parameters, read from Keras itself.

Parameter names, order and defaults come from the Keras layer's constructor signature; the
editor kind follows from the default's type; choices (activations, initializers, padding...)
come from Keras' own registries. `backend.layer_table` adds only what Keras cannot tell.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from backend.keras_env import import_keras
from backend.layer_table import INPUT_TYPE, LAYERS, LayerInfo, layer_info

_SKIPPED = {"self", "name", "dtype", "kwargs", "args", "trainable", "autocast"}
_ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "leaky_relu",
    "relu6",
    "mish",
    "hard_sigmoid",
    "exponential",
    "log_softmax",
)
_INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "zeros",
    "ones",
)
_CHOICES_BY_NAME: dict[str, tuple[Any, ...]] = {
    "activation": (None, *_ACTIVATIONS),
    "recurrent_activation": _ACTIVATIONS,
    "padding": ("valid", "same"),
    "data_format": (None, "channels_last", "channels_first"),
    "interpolation": ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"),
    "dtype": ("float32", "int32", "int64", "float16", "bfloat16", "bool", "string"),
}
_CHOICES_BY_SUFFIX: dict[str, tuple[Any, ...]] = {
    "_initializer": _INITIALIZERS,
    "_regularizer": (None, "l1", "l2", "l1_l2"),
    "_constraint": (None, "max_norm", "non_neg", "unit_norm"),
}
_PADDING_1D = ("valid", "same", "causal")


_KIND_WORDS = {
    "int": "whole number",
    "optional_int": "whole number",
    "float": "number",
    "optional_float": "number",
    "int_tuple": "number or list of numbers such as 3, 3",
    "shape": "shape such as 28, 28, 1",
    "int_or_list": "axis or list of axes",
    "json": "JSON value",
    "str": "text",
    "choice": "choice",
    "bool": "yes/no",
}


@dataclass(frozen=True)
class ParamSpec:
    """One constructor argument of a layer, as the inspector should edit it.

    kind: 'int', 'float', 'bool', 'str', 'choice', 'int_tuple' (ints or a tuple of ints),
    'shape' (a tuple of ints where None is allowed), 'optional_int', 'optional_float',
    'int_or_list' (an int, or a list of ints: `axis`), or 'json' (anything JSON-able).
    """

    name: str
    kind: str
    default: Any
    required: bool = False
    choices: tuple[Any, ...] = ()
    advanced: bool = False

    def coerce(self, value: Any) -> Any:
        """Turn a JSON value (lists for tuples) into what the Keras constructor takes."""
        if value is None:
            return None
        if self.kind in ("int_tuple", "shape") and isinstance(value, list):
            return tuple(value)
        if self.kind == "int_or_list" and isinstance(value, list):
            return list(value)
        return value

    def format_text(self, value: Any) -> str:
        """The value as typed in a text editor: `3, 3` for tuples, empty for None."""
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join("None" if v is None else str(v) for v in value)
        if isinstance(value, (dict, bool)) or self.kind == "json":
            return json.dumps(value)
        return str(value)

    def parse_text(self, text: str) -> Any:
        """Parse what the user typed; raises ValueError with a message fit for the user."""
        text = text.strip()
        if text == "" or text.lower() == "none":
            if self.required:
                raise ValueError(f"{self.name} is required")
            return None
        try:
            if self.kind in ("int", "optional_int"):
                return int(text)
            if self.kind in ("float", "optional_float"):
                return float(text)
            if self.kind in ("int_tuple", "shape", "int_or_list"):
                items = [t.strip() for t in text.strip("()[]").split(",") if t.strip()]
                values = [None if t.lower() == "none" else int(t) for t in items]
                if None in values and self.kind != "shape":
                    raise ValueError("None")
                if self.kind == "int_or_list" and len(values) == 1:
                    return values[0]
                if self.kind == "int_tuple" and len(values) == 1:
                    return values[0]
                return values
            if self.kind == "json":
                return json.loads(text)
        except (ValueError, json.JSONDecodeError):
            word = _KIND_WORDS[self.kind]
            raise ValueError(f"{self.name}: {text!r} is not a valid {word}") from None
        return text


@dataclass(frozen=True)
class LayerSpec:
    info: LayerInfo
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)

    @property
    def type_name(self) -> str:
        return self.info.type_name

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def has_param(self, name: str) -> bool:
        return any(p.name == name for p in self.params)


class LayerConfigError(ValueError):
    """A node's parameters that Keras refuses, naming the node."""


def layer_class(type_name: str) -> type[Any]:
    keras = import_keras()
    cls = getattr(keras.layers, type_name, None)
    if not isinstance(cls, type):
        raise LayerConfigError(f"Keras {keras.__version__} has no layer {type_name!r}")
    return cls


def _kind_for(name: str, value: Any) -> tuple[str, tuple[Any, ...]]:
    if name in _CHOICES_BY_NAME and (value is None or isinstance(value, str)):
        return "choice", _CHOICES_BY_NAME[name]  # not ZeroPadding2D's padding=(1, 1)
    for suffix, choices in _CHOICES_BY_SUFFIX.items():
        if name.endswith(suffix) and (value is None or isinstance(value, str)):
            return "choice", choices
    if isinstance(value, bool):
        return "bool", ()
    if isinstance(value, int):
        return "int", ()
    if isinstance(value, float):
        return "float", ()
    if isinstance(value, str):
        return "str", ()
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        return "int_tuple", ()
    if name in ("axis",):
        return "int_or_list", ()
    if name in ("strides", "pool_size", "size", "dilation_rate", "kernel_size", "cropping"):
        return "int_tuple", ()
    if name in ("rate", "dropout", "recurrent_dropout", "epsilon", "stddev"):
        return "optional_float", ()
    if value is None:
        return "json", ()
    return "json", ()


@cache
def layer_spec(type_name: str) -> LayerSpec:
    """The full spec of a palette layer (imports Keras on first use)."""
    info = layer_info(type_name)
    if type_name == INPUT_TYPE:
        return LayerSpec(
            info,
            (
                ParamSpec("shape", "shape", (16,), required=True),
                ParamSpec("dtype", "choice", "float32", choices=_CHOICES_BY_NAME["dtype"]),
            ),
        )
    cls = layer_class(type_name)
    params: list[ParamSpec] = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name in _SKIPPED or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        required = p.default is inspect.Parameter.empty
        default = info.required.get(p.name) if required else p.default
        kind, choices = _kind_for(p.name, default)
        if p.name == "padding" and type_name.endswith("1D") and type_name.startswith("Conv"):
            choices = _PADDING_1D
        if kind == "choice" and default not in choices:  # e.g. Embedding's 'uniform'
            choices = (default, *choices)
        params.append(
            ParamSpec(
                name=p.name,
                kind=kind,
                default=default,
                required=required,
                choices=choices,
                advanced=p.name in info.advanced,
            )
        )
    return LayerSpec(info, tuple(params))


def palette_types() -> list[str]:
    return list(LAYERS)


def layer_kwargs(type_name: str, params: dict[str, Any], node_name: str) -> dict[str, Any]:
    """Constructor arguments for a node's layer; unknown parameters are refused by name."""
    spec = layer_spec(type_name)
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if not spec.has_param(key):
            raise LayerConfigError(
                f"{type_name} '{node_name}' has no parameter {key!r} "
                f"(Keras knows: {', '.join(p.name for p in spec.params)})"
            )
        kwargs[key] = spec.param(key).coerce(value)
    missing = [p.name for p in spec.params if p.required and p.name not in kwargs]
    if missing:
        raise LayerConfigError(f"{type_name} '{node_name}' needs {', '.join(missing)}")
    return kwargs


def make_layer(type_name: str, params: dict[str, Any], node_name: str) -> Any:
    """Instantiate the Keras layer of a node (no weights are created)."""
    kwargs = layer_kwargs(type_name, params, node_name)
    cls = layer_class(type_name)
    try:
        return cls(name=node_name, **kwargs)
    except (ValueError, TypeError) as exc:
        raise LayerConfigError(f"{type_name} '{node_name}': {exc}") from exc
