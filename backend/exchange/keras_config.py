"""Keras layer configs <-> node parameters, and the safety check of a model's config.

A node keeps only the arguments that differ from what Keras would choose: each imported config
is compared with the config of a layer built from its required arguments alone, so the
project file stays readable and Keras stays the source of truth for every default.
"""

from __future__ import annotations

import inspect
import json
import re
from functools import cache
from typing import Any

from backend.document.layer_table import layer_info
from backend.exchange.keras_file import ModelFileError
from backend.keras_bridge.catalog import (
    EXCLUDED,
    LayerConfigError,
    layer_class,
    make_layer,
    type_for_class_name,
)
from backend.keras_bridge.operations import OPS_MODULES
from backend.keras_env import import_keras

MODEL_CLASSES = ("Functional", "Sequential", "Model")
_BOOKKEEPING = ("shared_object_id", "build_config", "compile_config")
_SERIALIZED_MODULES = ("keras.initializers", "keras.regularizers", "keras.constraints")


class ModelImportError(ModelFileError):
    """A model file that cannot become a project, naming the file and the layer."""


# ----------------------------------------------------------------- the safety check
def check_layers(config: dict[str, Any], source: str) -> None:
    """Refuse, by name, any layer DeepCanvas cannot show or must not run (Lambda, custom),
    and a model config whose shape is not a Keras model's (names the entry)."""
    class_name = str(config.get("class_name", ""))
    inner = config.get("config", {})
    if class_name not in MODEL_CLASSES or not isinstance(inner, dict) or "layers" not in inner:
        what = f"'{class_name}'" if class_name else "this file's model"
        raise ModelImportError(
            f"{source}: {what} is not a Functional or Sequential model (a subclassed model's "
            "code is not in the file, so it cannot be opened)"
        )
    check_structure(inner, source)
    for entry in inner["layers"]:
        _check_layer(entry, source)


def check_structure(inner: dict[str, Any], source: str) -> None:
    """The parts of a model config the importer reads have the types Keras writes: `layers`
    a list of objects with a `class_name` and a `config` object, `inbound_nodes` a list,
    `input_layers` and `output_layers` lists of [name, call, tensor] (indices >= 0)."""
    layers = inner["layers"]
    if not isinstance(layers, list):
        raise ModelImportError(
            f"{source}: the model's 'layers' must be a list of layer objects, "
            f"got {type(layers).__name__}"
        )
    for i, entry in enumerate(layers):
        where = f"{source}: layers[{i}]"
        if not isinstance(entry, dict):
            raise ModelImportError(f"{where} is not an object (got {json.dumps(entry)[:40]})")
        if not isinstance(entry.get("class_name"), str):
            raise ModelImportError(f"{where} has no 'class_name'")
        if not isinstance(entry.get("config", {}), dict):
            raise ModelImportError(f"{where} ('{entry.get('name')}'): 'config' is not an object")
        nested = entry.get("config", {}) or {}
        dtype = nested.get("dtype")
        if isinstance(dtype, dict) and not isinstance(dtype.get("config", {}), dict):
            raise ModelImportError(f"{where} ('{entry.get('name')}'): 'dtype' is malformed")
        if not isinstance(entry.get("inbound_nodes", []), list):
            raise ModelImportError(
                f"{where} ('{entry.get('name')}'): 'inbound_nodes' is not a list"
            )
    for key in ("input_layers", "output_layers"):
        refs = inner.get(key, [])
        try:
            found = tensor_refs(refs)
        except (TypeError, ValueError, KeyError, IndexError):
            found = [("", -1, -1)]
        if any(call < 0 or tensor < 0 for _name, call, tensor in found):
            raise ModelImportError(f"{source}: the model's {key!r} are not [name, call, tensor]")


def _check_layer(entry: dict[str, Any], source: str) -> None:
    class_name = str(entry.get("class_name", ""))
    config = entry.get("config") or {}
    name = entry.get("name") or config.get("name") or "?"
    where = f"{source}: layer '{name}'"
    if class_name == "Lambda":
        raise ModelImportError(
            f"{where} is a Lambda layer: it holds Python code, which DeepCanvas never runs "
            "from a file (Keras safe mode). Replace it with built-in layers."
        )
    if class_name in MODEL_CLASSES:
        check_layers(entry, source)
        return
    raw_module = entry.get("module")  # Keras 2 configs name none: a built-in layer
    module = "keras" if raw_module is None else raw_module if isinstance(raw_module, str) else ""
    if is_operation(entry):  # a keras.ops call recorded in the graph: an Operation node
        if module not in OPS_MODULES:
            raise ModelImportError(
                f"{source}: operation '{name}' comes from {module}, which is not one of "
                "Keras' own keras.ops modules"
            )
        return
    keras_own = module == "keras" or module.startswith("keras.")  # not "kerasevil"
    if entry.get("registered_name") not in (None, class_name) or not keras_own:
        custom = entry.get("registered_name") or class_name
        raise ModelImportError(
            f"{where} is a custom layer ({custom}): its code is not in the file, so it "
            "cannot be opened. Only built-in Keras layers can be imported."
        )
    if class_name == "InputLayer":
        return
    if type_for_class_name(class_name) is None:
        reason = EXCLUDED.get(class_name, "it is not a built-in Keras layer DeepCanvas offers")
        raise ModelImportError(f"{where} ({class_name}) is not supported: {reason}")
    for key in ("layer", "backward_layer"):
        if isinstance(config.get(key), dict):
            _check_layer(config[key], source)


def is_operation(entry: dict[str, Any]) -> bool:
    """A `keras.ops` call recorded in a functional graph (`x + y`, `ops.mean(x)`, or the mask
    of an Embedding with `mask_zero`), not a layer: see `backend.keras_bridge.operations`."""
    return str(entry.get("module") or "").startswith("keras.src.ops.")


# ----------------------------------------------------------------- tensors in call arguments
def tensor_refs(value: Any) -> list[tuple[str, int, int]]:
    """(layer, call, tensor) of every Keras tensor in a serialized call argument, in order.

    Understands Keras 3 (`__keras_tensor__` with `keras_history`) and the `[name, call,
    tensor]` triples of model `input_layers`/`output_layers`.
    """
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, call, tensor = value["config"]["keras_history"]
            return [(str(name), int(call), int(tensor))]
        return [ref for v in value.values() for ref in tensor_refs(v)]
    if isinstance(value, (list, tuple)):
        if len(value) == 3 and isinstance(value[0], str) and isinstance(value[1], int):
            return [(value[0], int(value[1]), int(value[2]))]
        return [ref for v in value for ref in tensor_refs(v)]
    return []


# ----------------------------------------------------------------- config -> node params
def layer_type(class_name: str, where: str) -> str:
    """The palette type of a saved class name; ModelImportError when there is none."""
    type_name = type_for_class_name(class_name)
    if type_name is None:
        raise ModelImportError(f"{where}: {class_name} is not a layer DeepCanvas offers")
    return type_name


_PARAMS: dict[tuple[str, str], str] = {}
"""Node parameters already worked out, by class and config (without the name): an
application repeats a few layers hundreds of times (DenseNet121: 429 layers, 15 configs)."""
MAX_REMEMBERED = 20_000


def layer_params(class_name: str, config: dict[str, Any], where: str) -> dict[str, Any]:
    """A layer's node parameters: the config's values that differ from Keras' defaults.

    Checked the way the compiler will build it: the layer made from the kept parameters must
    give back the same config, else the differing values are kept too (a default that follows
    another argument, such as a pooling layer's strides). Remembered per config: the same
    config always gives the same parameters (a refusal is raised again each time).
    """
    config = _plain(config)
    key = (class_name, _json({k: v for k, v in config.items() if k != "name"}))
    known = _PARAMS.get(key)
    if known is not None:
        params: dict[str, Any] = json.loads(known)
        return params
    params = _worked_out_params(class_name, config, where)
    if len(_PARAMS) < MAX_REMEMBERED:
        _PARAMS[key] = json.dumps(params)  # in the config's order, as a node keeps them
    return params


def _worked_out_params(class_name: str, config: dict[str, Any], where: str) -> dict[str, Any]:
    for key in layer_info(class_name).needs:
        if config.get(key) is None:  # adapted to data: Keras keeps it in the file, not here
            raise ModelImportError(
                f"{where} ({class_name}) was adapted to data: its {key} is stored beside its "
                f"config, and DeepCanvas builds layers from their config. Save the model with "
                f"the {key} given (e.g. {class_name}({key}=layer.get_{key}()))"
            )
    full = {k: _param_value(k, v, where) for k, v in config.items() if k != "name"}
    inner = full.get("layer")
    if class_name == "Bidirectional" and isinstance(inner, dict):  # it renames its copies
        inner["name"] = str(inner.get("name") or "").removeprefix("forward_") or None
    original = {k: _plain(v) for k, v in config.items() if k != "name"}
    try:
        kept = _kept_keys(class_name, _json(full), _json(original))
    except (LayerConfigError, ValueError, TypeError, KeyError) as exc:
        raise ModelImportError(f"{where} ({class_name}): Keras refuses its config: {exc}") from exc
    return {k: v for k, v in full.items() if k in kept}


@cache
def _kept_keys(class_name: str, full_json: str, original_json: str) -> frozenset[str]:
    """The keys of `full` a node must keep (cached: a ResNet repeats the same layers)."""
    full, original = json.loads(full_json), json.loads(original_json)
    required = _required_names(class_name)
    defaults = _default_config(class_name, _json({k: full[k] for k in required if k in full}))
    params = {k: v for k, v in full.items() if k in required or defaults.get(k) != original[k]}
    for _ in range(3):
        rebuilt = _plain(make_layer(class_name, params, "reference").get_config())
        missing = [k for k in full if k not in params and rebuilt.get(k) != original[k]]
        if not missing:
            break
        params.update({k: full[k] for k in missing})
    return frozenset(params)


def _param_value(key: str, value: Any, where: str) -> Any:
    if key in ("layer", "backward_layer") and isinstance(value, dict):
        return inner_layer(_plain(value), where)
    if key == "dtype":
        return _dtype_name(value)
    return simplify(_plain(value))


def inner_layer(serialized: dict[str, Any], where: str) -> dict[str, Any]:
    """A wrapped layer as a node holds it: `{"type", "params", "name"}`."""
    type_name = layer_type(str(serialized["class_name"]), where)
    config = serialized.get("config", {})
    return {
        "type": type_name,
        "params": layer_params(type_name, config, where),
        "name": config.get("name"),
    }


@cache
def _required_names(class_name: str) -> frozenset[str]:
    """What Keras requires, and what DeepCanvas does (a lookup's vocabulary)."""
    signature = inspect.signature(layer_class(class_name).__init__)
    return frozenset(
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.name != "self"
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ) | frozenset(layer_info(class_name).needs)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


@cache
def _default_config(class_name: str, required_json: str) -> dict[str, Any]:
    """The config of a layer built from its required arguments only (cached)."""
    layer = make_layer(class_name, json.loads(required_json), "reference")
    return {k: _plain(v) for k, v in layer.get_config().items()}


def _plain(value: Any) -> Any:
    """Tuples as lists, numpy scalars as Python numbers: a config value as JSON holds it."""
    if isinstance(value, dict):  # a .keras file's bookkeeping is not configuration
        return {str(k): _plain(v) for k, v in value.items() if k not in _BOOKKEEPING}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def simplify(value: Any) -> Any:
    """A serialized initializer/regularizer/constraint as its short name when that is the same
    object (`{"class_name": "HeNormal", "config": {"seed": None}}` -> `"he_normal"`)."""
    if not (isinstance(value, dict) and value.get("module") in _SERIALIZED_MODULES):
        return value
    keras = import_keras()  # quietly: this may be the command's first use of Keras (import)
    module = getattr(keras, str(value["module"]).split(".")[-1])
    short = re.sub(r"(?<!^)(?=[A-Z])", "_", str(value.get("class_name", ""))).lower()
    try:
        rebuilt = module.serialize(module.get(short))
    except Exception:  # no such short name: keep the full form
        return value
    return short if _plain(rebuilt) == value else value


def _dtype_name(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        return value.get("config", {}).get("name", value)
    return value
