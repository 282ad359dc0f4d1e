"""The layer catalog: each palette layer's parameters, read from Keras itself.

Parameter names, order and defaults come from the Keras layer's constructor signature; the
editor kind follows from the default's type; choices (activations, initializers, padding...)
come from Keras' own registries. `backend.document.layer_table` adds only what Keras cannot tell.
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from backend.document.json_text import parse
from backend.document.layer_table import (
    INPUT_TYPE,
    LAYERS,
    LayerInfo,
    UnknownLayerError,
    layer_info,
)
from backend.keras_env import import_keras

_SKIPPED = {"self", "name", "dtype", "kwargs", "args", "trainable", "autocast", "weights"}
NODE_KEYS = ("shares", "call_kwargs")
"""Node parameters about the node's call, not the layer's constructor: `shares` (the id of
the node whose layer, weights included, this node applies again) and `call_kwargs` (constant
keyword arguments of the call, e.g. `training=False`, kept from an imported model)."""
BLOCK_MODES = (None, "functional", "sequential")
"""A block's `model` parameter: None compiles its layers inline; the others as a nested model."""
_DTYPES = (None, "float32", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16", "float64")
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
_LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_CHOICES_BY_LAYER: dict[tuple[str, str], tuple[Any, ...]] = {
    ("StringLookup", "output_mode"): _LOOKUP_MODES,
    ("IntegerLookup", "output_mode"): _LOOKUP_MODES,
    ("Hashing", "output_mode"): ("int", "one_hot", "multi_hot", "count"),
    ("HashedCrossing", "output_mode"): ("int", "one_hot"),
    ("TextVectorization", "output_mode"): ("int", "multi_hot", "count", "tf_idf"),
    ("TextVectorization", "standardize"): (
        None,
        "lower_and_strip_punctuation",
        "lower",
        "strip_punctuation",
    ),
    ("TextVectorization", "split"): (None, "whitespace", "character"),
}
"""Choices Keras documents for one layer's string argument (a callable is code: not offered)."""


_NUMERIC_KINDS = (
    "int",
    "optional_int",
    "float",
    "optional_float",
    "int_tuple",
    "int_or_list",
    "shape",
    "bool",
)
_KIND_WORDS = {
    "int": "whole number",
    "optional_int": "whole number",
    "float": "number",
    "optional_float": "number",
    "int_tuple": "number or list of numbers such as 3, 3",
    "shape": "shape such as 28, 28, 1",
    "int_or_list": "axis or list of axes",
    "json": "JSON value",
    "layer": "layer",
    "graph": "subgraph",
    "str": "text",
    "str_list": "list of words such as red, green, blue",
    "int_list": "list of whole numbers such as 10, 20, 30",
    "choice": "choice",
    "bool": "yes/no",
}


@dataclass(frozen=True)
class ParamSpec:
    """One constructor argument of a layer, as the inspector should edit it.

    kind: 'int', 'float', 'bool', 'str', 'choice', 'int_tuple' (ints or a tuple of ints),
    'shape' (a tuple of ints where None is allowed), 'optional_int', 'optional_float',
    'int_or_list' (an int, or a list of ints: `axis`), 'str_list' and 'int_list' (a lookup's
    vocabulary, typed as `red, green, blue` or as a JSON list), 'json' (anything JSON-able),
    'layer' (a wrapped layer: `{"type": "LSTM", "params": {...}}`, type among `choices`) or
    'graph' (a block's subgraph, as `LayerGraph.to_dict()`).
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

    def type_problem(self, value: Any) -> str | None:
        """What is plainly wrong with the type of `value` (a hand-edited file's): text or an
        object where a number (or yes/no) goes, or a number or list where a name goes. None
        when Keras should judge it (kinds are read from defaults, so this stays loose: `axis`
        may be a list, a name may be a serialized object)."""
        items = value if isinstance(value, list) else [value]
        numeric = self.kind in _NUMERIC_KINDS and any(isinstance(v, (str, dict)) for v in items)
        named = self.kind in ("choice", "str") and not isinstance(value, (str, dict, type(None)))
        listed = self.kind in ("str_list", "int_list") and not isinstance(value, (list, type(None)))
        if not (numeric or named or listed):
            return None
        word = _KIND_WORDS[self.kind]
        shown = f" ({', '.join(map(str, self.choices[:6]))}...)" if self.choices else ""
        return f"{self.name} must be a {word}{shown}, got {json.dumps(value)[:60]}"

    def format_text(self, value: Any) -> str:
        """The value as typed in a text editor: `3, 3` for tuples, empty for None."""
        if value is None:
            return ""
        if self.kind == "str_list" and not _plain_words(value):
            return json.dumps(value)  # words with commas, spaces at their ends, or empty ones
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
            if self.kind in ("str_list", "int_list"):
                return self._parse_list(text)
            if self.kind == "json":
                return parse(text)  # JsonShapeError (a ValueError) when nested too deep
        except (ValueError, json.JSONDecodeError):
            word = _KIND_WORDS[self.kind]
            raise ValueError(f"{self.name}: {text!r} is not a valid {word}") from None
        return text

    def _parse_list(self, text: str) -> list[Any]:
        """`red, green, blue` or a JSON list; every item a string (str_list) or an int."""
        items: Any = parse(text) if text.startswith("[") else None
        if items is None:
            items = [t.strip() for t in text.split(",")]
            if self.kind == "int_list":
                items = [int(t) for t in items]
        want = str if self.kind == "str_list" else int
        if not isinstance(items, list) or not all(
            isinstance(v, want) and not isinstance(v, bool) for v in items
        ):
            raise ValueError(text)
        return items


def _plain_words(value: Any) -> bool:
    """Strings that survive `", ".join` and a split on commas unchanged."""
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, str) and v and "," not in v and v == v.strip() for v in value
    )


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
    module = LAYERS[type_name].keras_module if type_name in LAYERS else ""
    if module:  # a class of Keras' own application code, looked up in a fixed module
        cls = getattr(importlib.import_module(module), type_name, None)
    else:
        cls = getattr(keras.layers, type_name, None)
    if not isinstance(cls, type):
        raise LayerConfigError(f"Keras {keras.__version__} has no layer {type_name!r}")
    return cls


def type_for_class_name(class_name: str) -> str | None:
    """The palette type of a class name found in a saved config, which is the class's own
    name: `GroupedQueryAttention` is offered (and exported by Keras) as GroupQueryAttention."""
    if class_name in LAYERS:
        return None if LAYERS[class_name].is_operation else class_name
    for type_name, info in LAYERS.items():
        if info.is_block or info.is_input or info.is_operation:
            continue
        if layer_class(type_name).__name__ == class_name:
            return type_name
    return None


_SHAPE_NAMES = ("output_shape", "target_shape")
_LIST_NAMES = ("vocabulary",)
_OPTIONAL_INT_NAMES = ("max_tokens", "output_sequence_length")
_TUPLE_NAMES = ("strides", "pool_size", "size", "dilation_rate", "kernel_size", "cropping")


def _kind_for(name: str, value: Any) -> tuple[str, tuple[Any, ...]]:
    if name in _LIST_NAMES and isinstance(value, list):  # typed by its starting value
        return ("int_list" if all(isinstance(v, int) for v in value) else "str_list"), ()
    if name in _OPTIONAL_INT_NAMES and value is None:
        return "optional_int", ()
    if name in _CHOICES_BY_NAME and (value is None or isinstance(value, str)):
        return "choice", _CHOICES_BY_NAME[name]  # not ZeroPadding2D's padding=(1, 1)
    for suffix, choices in _CHOICES_BY_SUFFIX.items():
        if name.endswith(suffix) and (value is None or isinstance(value, str)):
            return "choice", choices
    if name in _SHAPE_NAMES:
        return "shape", ()
    if isinstance(value, bool):
        return "bool", ()
    if isinstance(value, int):
        return "int", ()
    if isinstance(value, float):
        return "float", ()
    if isinstance(value, str):
        return "str", ()
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, int) for v in value):
        return "int_tuple", ()
    if name in ("axis", "axes"):
        return "int_or_list", ()
    if name in _TUPLE_NAMES:
        return "int_tuple", ()
    if name in ("rate", "dropout", "recurrent_dropout", "epsilon", "stddev"):
        return "optional_float", ()
    return "json", ()


def _common_params(info: LayerInfo) -> tuple[ParamSpec, ...]:
    """What every Keras layer takes through `**kwargs`: frozen or not, and its dtype policy."""
    return (
        ParamSpec("trainable", "bool", True, advanced=True),
        ParamSpec("dtype", "choice", None, choices=_DTYPES, advanced=True),
    )


def _input_spec(info: LayerInfo) -> LayerSpec:
    return LayerSpec(
        info,
        (
            ParamSpec("shape", "shape", (16,), required=True),
            ParamSpec("dtype", "choice", "float32", choices=_CHOICES_BY_NAME["dtype"]),
            ParamSpec("batch_size", "optional_int", None, advanced=True),
        ),
    )


def _block_spec(info: LayerInfo) -> LayerSpec:
    return LayerSpec(
        info,
        (
            ParamSpec("graph", "graph", info.required["graph"], required=True),
            ParamSpec("model", "choice", None, choices=BLOCK_MODES, advanced=True),
            ParamSpec("trainable", "bool", True, advanced=True),
        ),
    )


def _operation_spec(info: LayerInfo) -> LayerSpec:
    """An Operation node's parameters (`backend.keras_bridge.operations`): the keras.ops class with
    its config, and the call's arguments, edited as JSON."""
    return LayerSpec(
        info,
        (
            ParamSpec("op", "json", info.required["op"], required=True),
            ParamSpec("args", "json", info.required["args"], required=True),
            ParamSpec("kwargs", "json", info.required["kwargs"], advanced=True),
        ),
    )


def _constructor_parameters(cls: type[Any]) -> list[inspect.Parameter]:
    """The class's constructor arguments, then those its `**kwargs` pass on to base classes
    (an LSTM's `zero_output_for_mask`, any layer's `activity_regularizer`), up to `Layer`."""
    keras = import_keras()
    found: dict[str, inspect.Parameter] = {}
    for base in cls.__mro__:
        if "__init__" not in vars(base):
            continue
        parameters = inspect.signature(vars(base)["__init__"]).parameters.values()
        for p in parameters:
            if p.name in _SKIPPED or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            if base is cls or (p.default is not inspect.Parameter.empty):
                found.setdefault(p.name, p)
        if base is keras.layers.Layer or not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return list(found.values())


@cache
def layer_spec(type_name: str) -> LayerSpec:
    """The full spec of a palette layer (imports Keras on first use)."""
    info = layer_info(type_name)
    if type_name == INPUT_TYPE:
        return _input_spec(info)
    if info.is_block:
        return _block_spec(info)
    if info.is_operation:
        return _operation_spec(info)
    params: list[ParamSpec] = []
    for p in _constructor_parameters(layer_class(type_name)):
        required = p.default is inspect.Parameter.empty or p.name in info.needs
        default = info.required.get(p.name) if required else p.default
        if info.is_wrapper and p.name in ("layer", "backward_layer"):
            params.append(
                ParamSpec(p.name, "layer", default, required, info.inner_layers, not required)
            )
            continue
        kind, choices = _kind_for(p.name, default)
        choices = _CHOICES_BY_LAYER.get((type_name, p.name), choices)
        kind = "choice" if choices else kind
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
    return LayerSpec(info, (*params, *_common_params(info)))


def palette_types() -> list[str]:
    """Every layer type the palette offers (blocks included), in palette order."""
    return [name for name, info in LAYERS.items() if info.in_palette]


def inner_layer_types(type_name: str) -> tuple[str, ...]:
    """The layer types a wrapper offers for its inner layer (empty for other layers)."""
    return layer_info(type_name).inner_layers


def default_inner_layer(type_name: str) -> dict[str, Any]:
    """A new inner layer of `type_name` as a wrapper holds it: its starting parameters."""
    return {"type": type_name, "params": dict(layer_info(type_name).required)}


def layer_kwargs(type_name: str, params: dict[str, Any], node_name: str) -> dict[str, Any]:
    """Constructor arguments for a node's layer; unknown parameters are refused by name.

    A wrapper's inner layer (`{"type": ..., "params": ...}`) becomes a Keras layer here.
    """
    spec = layer_spec(type_name)
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key in NODE_KEYS:
            continue
        if not spec.has_param(key):
            raise LayerConfigError(
                f"{type_name} '{node_name}' has no parameter {key!r} "
                f"(Keras knows: {', '.join(p.name for p in spec.params)})"
            )
        param = spec.param(key)
        problem = param.type_problem(value)
        if problem is not None:
            raise LayerConfigError(f"{type_name} '{node_name}': {problem}")
        if param.kind == "layer":
            kwargs[key] = None if value is None else make_inner_layer(value, type_name, node_name)
        else:
            kwargs[key] = param.coerce(value)
    missing = [p.name for p in spec.params if p.required and p.name not in kwargs]
    if missing:
        raise LayerConfigError(f"{type_name} '{node_name}' needs {', '.join(missing)}")
    return kwargs


def make_inner_layer(value: Any, wrapper_type: str, node_name: str) -> Any:
    """The Keras layer a wrapper holds, from `{"type": ..., "params": ..., "name"?: ...}`."""
    label = f"{wrapper_type} '{node_name}'"
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise LayerConfigError(f'{label}: the inner layer must be {{"type": ..., "params": ...}}')
    try:
        info = layer_info(value["type"])
    except UnknownLayerError as exc:
        raise LayerConfigError(f"{label}: {exc}") from None
    if info.is_input or info.is_block:
        raise LayerConfigError(f"{label} cannot wrap {info.type_name}")
    params = value.get("params", {})
    if not isinstance(params, dict):
        raise LayerConfigError(f"{label}: the inner layer's params must be an object")
    return make_layer(info.type_name, params, str(value.get("name") or node_name))


def make_layer(type_name: str, params: dict[str, Any], node_name: str) -> Any:
    """Instantiate the Keras layer of a node (no weights are created).

    Blocks are not one layer: `backend.keras_bridge.compiler` builds them from their subgraph.
    """
    if layer_info(type_name).is_block:
        raise LayerConfigError(f"{type_name} '{node_name}' is a block, not a single layer")
    if layer_info(type_name).is_operation:
        raise LayerConfigError(f"{type_name} '{node_name}' is a keras.ops operation, not a layer")
    kwargs = layer_kwargs(type_name, params, node_name)
    cls = layer_class(type_name)
    try:
        return cls(name=node_name, **kwargs)
    except Exception as exc:  # Keras judging the user's arguments, in its own words
        raise LayerConfigError(_refusal(type_name, node_name, cls, kwargs, exc)) from exc


def _refusal(
    type_name: str, node_name: str, cls: type[Any], kwargs: dict[str, Any], exc: Exception
) -> str:
    """Keras' reason for refusing a layer's arguments, naming the argument when Keras' words
    are Python's own ("'NoneType' object has no attribute 'lower'"): found by building the
    layer again without each argument in turn (only on this failure path)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, (AttributeError, TypeError, NotImplementedError)):
        return f"{type_name} '{node_name}': {text}"
    culprits = [key for key in kwargs if _builds_without(cls, node_name, kwargs, key)]
    if not culprits and len(kwargs) == 1:
        culprits = list(kwargs)
    if not culprits:
        return f"{type_name} '{node_name}': Keras cannot build it with these settings ({text})"
    key = culprits[0]
    spec = layer_spec(type_name)
    default = spec.param(key).default if spec.has_param(key) else None
    known = f" (its default is {json.dumps(default)})" if default is not None else ""
    value = json.dumps(kwargs[key], default=str)[:60]
    return f"{type_name} '{node_name}': {key} = {value} is not a value it takes{known}"


def _builds_without(cls: type[Any], node_name: str, kwargs: dict[str, Any], key: str) -> bool:
    try:
        cls(name=node_name, **{k: v for k, v in kwargs.items() if k != key})
    except Exception:
        return False
    return True


EXCLUDED: dict[str, str] = {
    "Lambda": "runs arbitrary Python code, which a project file must never carry",
    "Layer": "the base class of all layers",
    "InputLayer": "offered as Input",
    "InputSpec": "not a layer",
    "Wrapper": "a base class (Bidirectional, TimeDistributed and SpectralNormalization are in)",
    "RNN": "needs a cell object: use SimpleRNN, LSTM or GRU",
    "SimpleRNNCell": "a cell, used inside an RNN layer",
    "LSTMCell": "a cell, used inside an RNN layer",
    "GRUCell": "a cell, used inside an RNN layer",
    "StackedRNNCells": "a list of cells, used inside an RNN layer",
    "Pipeline": "a list of preprocessing layers: chain them on the canvas instead",
    "MaxNumBoundingBoxes": "works on bounding-box annotations, not tensors in a model",
    "Equalization": "in Keras 3.15 its symbolic call returns its input itself, so a functional "
    "model cannot hold it (a Keras bug)",
    "FlaxLayer": "wraps JAX code",
    "JaxLayer": "wraps JAX code",
    "TorchModuleWrapper": "wraps PyTorch code",
    "TFSMLayer": "loads a TensorFlow SavedModel from a file",
}
"""Layers of `keras.layers` deliberately left out of the palette, with the reason."""

CATEGORY_BY_KERAS_MODULE: dict[str, str] = {
    "core": "Core",
    "convolutional": "Convolution",
    "pooling": "Pooling",
    "rnn": "Recurrent",
    "attention": "Attention",
    "normalization": "Normalization",
    "regularization": "Regularization",
    "reshaping": "Reshaping",
    "merging": "Merging",
    "activations": "Activations",
    "preprocessing": "Preprocessing",
}
"""How `keras.src.layers.<module>` maps to a palette category (Keras' own grouping)."""
