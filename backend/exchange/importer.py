"""Open a Keras model file (`.keras`, legacy `.h5`) as a project: graph, layout and weights.

Nothing in the file is executed: its JSON configuration is read and checked first (a Lambda,
a custom or an unsupported layer is refused by name), then Keras loads it with
`safe_mode=True` for the weights. Each layer becomes a node whose parameters are the
arguments that differ from Keras' defaults (`backend.exchange.keras_config`); a layer applied
several
times becomes one node per call, the later ones sharing the first's layer (`shares`); a nested
model becomes a block node compiled back as a nested model. The weights go to a
`.weights.npz` beside the project, named in its training settings.

A layer whose call returns several tensors keeps them as output ports: the index Keras records
for each tensor read (`keras_history`'s third number) becomes the edge's `src_port`, or the
output entry's port for a model output. A recurrent layer's `initial_state` tensors become
its input ports after the sequence; a nested model with several outputs, a block with as
many output ports.

A `keras.ops` call recorded in the graph (`x + y`, `ops.mean(x, axis=1)`, `x[:, :2]`) becomes
an Operation node (`backend.keras_bridge.operations`: only Keras' own operation classes, constants
only); the ones no output needs (the masks Keras computes again by itself) are left out.
"""

from __future__ import annotations

import inspect
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.document.graph import GraphError, LayerGraph, Node, output_entry, used_nodes
from backend.document.json_text import JsonShapeError, non_finite_path, parse
from backend.document.layer_table import (
    BLOCK_TYPE,
    INPUT_TYPE,
    OPERATION_TYPE,
    LayerInfo,
    layer_info,
)
from backend.document.project import Project, save_project
from backend.document.training_config import LOSSES, OPTIMIZERS, TrainingConfig
from backend.editing.layout import layered_layout
from backend.exchange.keras_config import (
    MODEL_CLASSES,
    ModelImportError,
    check_layers,
    is_operation,
    layer_params,
    layer_type,
    tensor_refs,
)
from backend.keras_bridge.catalog import LayerConfigError, layer_class
from backend.keras_bridge.operations import operation_class, template
from backend.keras_bridge.weight_budget import built_weights, memory_problem, weight_memory_problem
from backend.keras_bridge.weights import collect_weights, save_weights, weights_path_for
from backend.keras_env import import_keras
from backend.paths import data_dir

__all__ = ["ModelImportError", "import_model", "read_model_config"]
SUFFIXES = (".keras", ".h5", ".hdf5")


def import_model(path: str | Path, project_path: str | Path | None = None) -> Project:
    """The model at `path` as a project. Raises ModelImportError naming the file and layer.

    With `project_path` the project and its weights (`NAME.weights.npz`) are saved there;
    without it the weights go to the app's data folder and the project is left unsaved.
    """
    path = Path(path)
    config = read_model_config(path)
    check_layers(config, str(path))
    checked = check_weight_memory(config, path)  # Keras allocates every weight before reading
    model = _load(path)
    # A .keras file's own config is the truth (Keras loses e.g. a frozen nested Sequential's
    # `trainable`); a legacy .h5 holds a Keras 2 config, so take Keras 3's reading of it.
    own = config.get("config") if path.suffix.lower() == ".keras" else None
    layers_config = own if isinstance(own, dict) else model.get_config()
    layers_config = with_adapted_vocabularies(layers_config, model)
    kind = _model_class(model)
    try:  # the checked graph, unless Keras' reading added something (an adapted vocabulary)
        if checked is not None and checked[0] == kind and layers_config == own:
            graph = checked[1]
        else:
            graph = model_graph(layers_config, kind, str(path))
    except ModelImportError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, GraphError) as exc:
        # Keras loaded the file, so its config is odd rather than broken: say what is odd
        raise ModelImportError(
            f"{path}: its model configuration is malformed ({type(exc).__name__}: {exc})"
        ) from exc
    project = Project(graph, name=model.name)
    project.description = f"Imported from {path.name}"
    project.training = training_from(config.get("compile_config"), project.training)
    arrays = collect_weights(model)
    if project_path is not None:
        target = weights_path_for(project_path)
        save_weights(arrays, target)
        project.training.initial_weights = target.name
        try:
            save_project(project, project_path)
        except BaseException:  # no weights file without its project
            target.unlink(missing_ok=True)
            raise
    else:
        folder = data_dir() / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        target = save_weights(arrays, folder / f"{path.stem}{_stamp(path)}.weights.npz")
        project.training.initial_weights = str(target)
    project.dirty = project_path is None
    return project


ADAPTED_LAYERS = ("StringLookup", "IntegerLookup", "TextVectorization")
"""Layers whose vocabulary `adapt()` fills in: Keras saves it beside the config, not in it."""


def with_adapted_vocabularies(config: dict[str, Any], model: Any) -> dict[str, Any]:
    """The config with each adapted lookup's vocabulary written in, read from the loaded
    layer (`get_vocabulary`, without the mask and OOV tokens the layer adds back itself).

    A node is built from its config alone, so this is what lets a model whose
    TextVectorization or StringLookup was adapted to data open on the canvas; the layer
    gives the same ids for the same words.
    """
    layers: dict[str, Any] = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        layers.setdefault(layer.name, layer)

    def fill(entry: Any) -> Any:
        if isinstance(entry, list):
            return [fill(e) for e in entry]
        if not isinstance(entry, dict):
            return entry
        entry = {k: fill(v) if k in ("layers", "config", "layer") else v for k, v in entry.items()}
        inner = entry.get("config")
        if entry.get("class_name") in ADAPTED_LAYERS and isinstance(inner, dict):
            layer = layers.get(str(inner.get("name")))
            if layer is not None and inner.get("vocabulary") is None:
                words = layer.get_vocabulary(include_special_tokens=False)
                if len(words):
                    vocabulary = [w.item() if hasattr(w, "item") else w for w in words]
                    entry["config"] = {**inner, "vocabulary": vocabulary}
        return entry

    result: dict[str, Any] = fill(config)
    return result


def read_model_config(path: Path) -> dict[str, Any]:
    """The model's JSON configuration, read without Keras: nothing in the file runs."""
    if not path.exists():
        raise ModelImportError(f"{path}: no such file")
    if path.suffix.lower() not in SUFFIXES:
        raise ModelImportError(f"{path}: not a Keras model file (.keras, or legacy .h5)")
    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json").decode("utf-8")
        else:
            import h5py

            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
                if raw is None:
                    raise ModelImportError(
                        f"{path}: holds weights only, no model (save it with model.save)"
                    )
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        config = parse(text)
    except ModelImportError:
        raise
    except JsonShapeError as exc:
        raise ModelImportError(f"{path}: its model configuration: {exc}") from None
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ModelImportError(
            f"{path}: not a readable Keras model file (damaged or truncated?): {exc}"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ModelImportError(f"{path}: its model configuration is not valid JSON") from exc
    if not isinstance(config, dict):
        raise ModelImportError(f"{path}: its model configuration is not a JSON object")
    where = non_finite_path(config)
    if where is not None:
        raise ModelImportError(
            f"{path}: its model configuration holds NaN or infinity at {where}, which no "
            "setting takes"
        )
    return config


def check_weight_memory(config: dict[str, Any], path: Path) -> tuple[str, LayerGraph] | None:
    """ModelImportError when the weights the config declares cannot be created in the free
    memory (a few KB of config can ask for hundreds of GB). Counted from each layer's saved
    input shape (`build_config`) when every layer has one, else on the graph built from the
    config alone, returned with its model class for reuse; None when there is nothing to
    count with (Keras' own loading then says what is wrong) or for a legacy `.h5`."""
    inner = config.get("config")
    if path.suffix.lower() != ".keras" or not isinstance(inner, dict):
        return None
    declared = _declared_weights(inner, str(path))
    if declared is not None:
        total, biggest = declared
        problem = memory_problem(total, biggest) if biggest else None
        if problem is not None:
            raise ModelImportError(f"{path}: {problem}")
        return None
    kind = "Sequential" if config.get("class_name") == "Sequential" else "Functional"
    try:
        graph = model_graph(inner, kind, str(path))
    except Exception:
        return None
    too_big = weight_memory_problem(graph)
    if too_big is not None:
        raise ModelImportError(f"{path}: {too_big[0]}")
    return kind, graph


def _declared_weights(
    inner: dict[str, Any], source: str
) -> tuple[int, tuple[str, int, int] | None] | None:
    """(bytes, biggest layer) of the weights a model config declares, from each layer's saved
    input shape; None when a layer has none (or cannot be built alone)."""
    total, biggest = 0, None
    for entry in inner.get("layers", []):
        class_name = entry["class_name"]
        if class_name == "InputLayer" or is_operation(entry):
            continue
        if class_name in MODEL_CLASSES:
            nested = _declared_weights(entry.get("config") or {}, source)
            if nested is None:
                return None
            total += nested[0]
            if nested[1] and (biggest is None or nested[1][1] > biggest[1]):
                biggest = nested[1]
            continue
        where = f"{source}: layer '{entry.get('name')}'"
        try:
            type_name = layer_type(class_name, where)
            params = layer_params(type_name, entry.get("config") or {}, where)
            built = built_weights(type_name, params, entry.get("build_config"))
        except Exception:
            return None
        if built is None:
            return None
        size, count = built
        total += size
        if biggest is None or size > biggest[1]:
            biggest = (f"{type_name} '{entry.get('name')}'", size, count)
    return total, biggest


def _load(path: Path) -> Any:
    keras = import_keras()
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        first = lines[0] if lines else type(exc).__name__
        raise ModelImportError(f"{path}: Keras cannot load it: {first}") from exc


def _model_class(model: Any) -> str:
    keras = import_keras()
    return "Sequential" if isinstance(model, keras.Sequential) else "Functional"


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"-{int(stat.st_mtime)}-{stat.st_size}"


def training_from(compile_config: Any, training: TrainingConfig) -> TrainingConfig:
    """The saved model's optimizer, learning rate, loss and metrics as training settings,
    where DeepCanvas offers them; anything else keeps the defaults."""
    if not isinstance(compile_config, dict):
        return training
    changes: dict[str, Any] = {}
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict):
        settings = optimizer.get("config") or {}
        if str(optimizer.get("class_name", "")).lower() in OPTIMIZERS:
            changes["optimizer"] = str(optimizer["class_name"]).lower()
        for key in ("learning_rate", "momentum"):
            if isinstance(settings.get(key), (int, float)):
                changes[key] = float(f"{settings[key]:.6g}")  # float32 back to 0.05
    loss = compile_config.get("loss")
    if isinstance(loss, str) and loss in LOSSES:
        changes["loss"] = loss
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list) and all(isinstance(m, str) for m in metrics):
        changes["metrics"] = list(metrics)
    candidate = replace(training, **changes)
    try:
        candidate.validate()
    except ValueError:
        return training
    return candidate


# ----------------------------------------------------------------- config -> graph
def model_graph(config: dict[str, Any], class_name: str, source: str) -> LayerGraph:
    """The graph of a Functional or Sequential model config (`model.get_config()`), laid out."""
    if class_name == "Sequential":
        graph = _sequential_graph(config, source)
    else:
        graph = _functional_graph(config, source)
    for nid, pos in layered_layout(graph).items():
        graph.nodes[nid].position = pos
    return graph


def _functional_graph(config: dict[str, Any], source: str) -> LayerGraph:
    graph = LayerGraph()
    entries = {e["name"]: e for e in config.get("layers", [])}
    calls: dict[tuple[str, int], str] = {}
    for name, index, _tensor in tensor_refs(config.get("input_layers")):
        entry = entries[name]
        calls[(name, index)] = _add_input(graph, entry["config"], source).id
    names = set(entries)
    operations = {name for name, entry in entries.items() if is_operation(entry)}
    pending: list[tuple[Node, Any, str]] = []
    recorded: list[str] = []  # the Operation nodes
    for entry in config.get("layers", []):
        if entry["name"] in operations:
            inbound_nodes = entry.get("inbound_nodes", [])
            if len(inbound_nodes) > 1:
                raise ModelImportError(
                    f"{source}: operation '{entry['name']}' ({entry['class_name']}) is one "
                    f"operation object applied {len(inbound_nodes)} times, which an Operation "
                    "node cannot show: call keras.ops once per use"
                )
            for inbound in inbound_nodes:
                node = graph.add_node(OPERATION_TYPE, name=entry["name"])
                node.params = {"op": _operation_entry(entry)}
                recorded.append(node.id)
                calls[(entry["name"], 0)] = node.id
                pending.append((node, inbound, entry["name"]))
            continue
        if entry["class_name"] == "InputLayer":
            if (entry["name"], 0) not in calls:
                calls[(entry["name"], 0)] = _add_input(graph, entry["config"], source).id
            continue
        owner: Node | None = None
        for k, inbound in enumerate(entry.get("inbound_nodes", [])):
            if owner is None:
                owner = graph.add_node(
                    _node_type(entry), _entry_params(entry, source), name=entry["name"]
                )
                node = owner
            else:
                name = _call_name(entry["name"], k, names)
                node = graph.add_node(owner.layer_type, name=name)
                node.params = {"shares": owner.id}  # not the type's starting values
            calls[(entry["name"], k)] = node.id
            pending.append((node, inbound, entry["name"]))
    for node, inbound, layer_name in pending:
        if node.layer_type == OPERATION_TYPE:
            _connect_operation(graph, node, inbound, calls, f"{source}: operation '{layer_name}'")
        else:
            _connect(graph, node, inbound, calls, f"{source}: layer '{layer_name}'")
    outputs = []
    for name, index, tensor in tensor_refs(config["output_layers"]):
        if _is_functional(entries[name]):  # Keras counts a nested model's own node first
            index -= 1
        outputs.append(output_entry(calls[(name, index)], tensor))
    graph.set_outputs(outputs)
    _keep_used_operations(graph, recorded, source)
    return graph


def _operation_entry(entry: dict[str, Any]) -> dict[str, Any]:
    config = {k: v for k, v in dict(entry.get("config") or {}).items() if k != "name"}
    return {"module": entry.get("module"), "class_name": entry["class_name"], "config": config}


def _keep_used_operations(graph: LayerGraph, recorded: list[str], source: str) -> None:
    """Drop the operations no output needs (the masks Keras computes again by itself when the
    graph is compiled), and refuse, by name, any other that DeepCanvas cannot hold."""
    used = used_nodes(graph)
    for nid in [n for n in recorded if n not in used]:
        graph.remove_node(nid)
    for nid in recorded:
        if nid not in graph.nodes:
            continue
        node = graph.nodes[nid]
        where = f"{source}: operation '{node.name}'"
        if "refused" in node.params:
            raise ModelImportError(str(node.params["refused"]))
        try:
            operation_class(node.params, where)
        except LayerConfigError as exc:
            raise ModelImportError(str(exc)) from exc


def _is_functional(entry: dict[str, Any]) -> bool:
    return entry["class_name"] in MODEL_CLASSES and entry["class_name"] != "Sequential"


def _sequential_graph(config: dict[str, Any], source: str) -> LayerGraph:
    graph = LayerGraph()
    layers = list(config.get("layers", []))
    if layers and layers[0]["class_name"] == "InputLayer":
        previous = _add_input(graph, layers.pop(0)["config"], source)
    else:
        shape = config.get("build_input_shape")
        if not shape:
            raise ModelImportError(f"{source}: the Sequential model was never built: no inputs")
        previous = _add_input(graph, {"batch_shape": shape, "name": "input"}, source)
    for entry in layers:
        node = graph.add_node(_node_type(entry), _entry_params(entry, source), name=_name(entry))
        graph.connect(previous.id, node.id, 0)
        previous = node
    graph.set_outputs([previous.id])
    return graph


def _add_input(graph: LayerGraph, config: dict[str, Any], source: str) -> Node:
    name = config.get("name", "input")
    for flag in ("sparse", "ragged", "optional"):
        if config.get(flag):
            raise ModelImportError(f"{source}: input '{name}' is {flag}, which is not supported")
    batch_shape = list(config.get("batch_shape") or config.get("batch_input_shape") or [])
    params: dict[str, Any] = {"shape": batch_shape[1:], "dtype": config.get("dtype", "float32")}
    if batch_shape and batch_shape[0] is not None:
        params["batch_size"] = batch_shape[0]
    return graph.add_node(INPUT_TYPE, params, name=name)


def _node_type(entry: dict[str, Any]) -> str:
    if entry["class_name"] in MODEL_CLASSES:
        return BLOCK_TYPE
    return layer_type(str(entry["class_name"]), f"layer '{_name(entry)}'")


def _entry_params(entry: dict[str, Any], source: str) -> dict[str, Any]:
    class_name = entry["class_name"]
    if class_name not in MODEL_CLASSES:
        where = f"{source}: layer '{_name(entry)}'"
        return layer_params(layer_type(class_name, where), entry["config"], where)
    config = entry["config"]
    nested = "Sequential" if class_name == "Sequential" else "Functional"
    sub = model_graph(config, nested, f"{source}: model '{config.get('name')}'")
    params: dict[str, Any] = {"graph": sub.to_dict(), "model": nested.lower()}
    if config.get("trainable") is False:
        params["trainable"] = False
    return params


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or entry.get("config", {}).get("name") or "layer")


def _call_name(layer: str, call: int, taken: set[str]) -> str:
    """`dense_call2` for the second call of a shared `dense` (never a name already in use)."""
    name = f"{layer}_call{call + 1}"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _default_training(info: LayerInfo, kwargs: dict[str, Any]) -> bool:
    """Whether a recorded `training` is the one Keras fills in from the call's signature."""
    if "training" not in kwargs or info.is_block:
        return "training" not in kwargs
    try:
        parameter = inspect.signature(layer_class(info.type_name).call).parameters.get("training")
    except (LayerConfigError, TypeError, ValueError):
        return False
    return parameter is not None and parameter.default == kwargs["training"]


def _connect_operation(
    graph: LayerGraph,
    node: Node,
    inbound: dict[str, Any],
    calls: dict[tuple[str, int], str],
    where: str,
) -> None:
    """An operation's call: its arguments with a placeholder per tensor, an edge per tensor."""
    args, kwargs = inbound.get("args", []), inbound.get("kwargs", {})
    refs = tensor_refs([args, kwargs])
    try:
        node.params.update(template(args, kwargs, _is_keras_tensor, where))
    except LayerConfigError as exc:
        node.params["refused"] = str(exc)  # said only if an output needs this operation
    for port, (src_layer, src_call, tensor) in enumerate(refs):
        try:
            graph.connect(calls[(src_layer, src_call)], node.id, port, src_port=tensor)
        except GraphError as exc:
            raise ModelImportError(f"{where}: {exc}") from exc


def _is_keras_tensor(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _connect(
    graph: LayerGraph,
    node: Node,
    inbound: dict[str, Any],
    calls: dict[tuple[str, int], str],
    where: str,
) -> None:
    """Edges for one call: tensors in positional order, then the tensor keyword arguments
    the layer takes as inputs (query, value, key; a recurrent layer's `initial_state`);
    other constants become `call_kwargs`. Each edge reads the output its tensor came from.
    A `mask` is left out, with the `training` flag Keras set alongside: compiling the graph
    propagates both again from the Embedding or Masking layer."""
    info = layer_info(node.layer_type)
    args = list(inbound.get("args", []))
    kwargs = dict(inbound.get("kwargs", {}))
    if tensor_refs(kwargs.get("mask")) or (
        "mask" in kwargs and kwargs["mask"] is None and _default_training(info, kwargs)
    ):  # what Keras fills in by itself when a layer is called on one tensor
        kwargs.pop("mask")
        kwargs.pop("training", None)
    refs = tensor_refs(args)
    for port_name in info.input_names[len(refs) :]:
        if port_name in kwargs:
            refs += tensor_refs(kwargs.pop(port_name))
    if info.state_inputs and len(refs) == 1 and tensor_refs(kwargs.get("initial_state")):
        refs += tensor_refs(kwargs.pop("initial_state"))
    leftover = [k for k, v in kwargs.items() if tensor_refs(v)]
    if leftover:
        raise ModelImportError(
            f"{where} takes the tensor argument '{leftover[0]}', which the canvas cannot show"
        )
    if kwargs:
        node.params["call_kwargs"] = kwargs
    for port, (src_layer, src_call, tensor) in enumerate(refs):
        try:
            graph.connect(calls[(src_layer, src_call)], node.id, port, src_port=tensor)
        except GraphError as exc:
            raise ModelImportError(f"{where}: {exc}") from exc
