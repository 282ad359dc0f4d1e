"""A project as a clean, runnable Keras script (functional API), for `export --format python`.

The script builds the same model the compiler builds (every layer named, only the arguments
that differ from Keras' defaults), compiles it with the project's optimizer, loss and metrics
and trains it on the project's data with DeepCanvas's loader and the app's callbacks, class
weights, precision and device (`backend.exchange.codegen_training` reads them back from the app's
own trainer, so both always agree). Shared layers are one variable called several times, nested
models one builder function each, blocks a commented run of layers.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

from backend.document.graph import LayerGraph, Node, used_nodes
from backend.document.layer_table import INPUT_TYPE, layer_info
from backend.document.project import Project, write_atomically
from backend.exchange.codegen_literals import INDENT
from backend.exchange.codegen_literals import indent as _indent
from backend.exchange.codegen_literals import lit as _lit
from backend.exchange.codegen_literals import same as _same
from backend.exchange.codegen_training import (
    NAMES,
    STARTING,
    imports,
    model_only_functions,
    training_functions,
    training_plan,
    uses_tensorflow,
    weights_path,
)
from backend.keras_bridge.catalog import LayerConfigError, layer_spec
from backend.keras_bridge.compiler import compile_order, model_name
from backend.keras_bridge.operations import call_text, operation_class, operation_config
from backend.keras_bridge.shapes import ShapeInference, block_graph, output_labels, shared_owner

_RESERVED = {"keras", "layers", "model", "data", "build_model", *NAMES}


class CodegenError(ValueError):
    """A project that cannot be written as a script, naming the node."""


def write_script(project: Project, path: str | Path, weights: Any = STARTING) -> Path:
    """Write the project's script atomically; returns the path. `weights`: the `.weights.npz`
    the script's model loads (default: the settings' starting weights; None: none).

    ExportError (`backend.exchange.export_targets`) for a target that is not a `.py` file or
    must not be replaced (the project itself, a folder, a read-only file)."""
    from backend.exchange.export_formats import SCRIPT, check_target

    path = check_target(SCRIPT.name, path, keep=(project.path,))
    text = generate_script(project, weights)
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:  # never name the temporary file the user did not choose
        raise CodegenError(f"cannot be written ({exc.strerror or exc})") from exc
    return path


def generate_script(project: Project, weights: Any = STARTING) -> str:
    writer = _ModelWriter()
    body = writer.model_function(project.graph, "build_model", model_name(project.name))
    standard: list[str] = []
    third_party = ["import keras"]
    if project.dataset is None:
        rest = model_only_functions(project, weights_path(project, weights))
    else:
        plan = training_plan(project, weights)
        standard = imports(plan)
        third_party += ["import tensorflow as tf"] if uses_tensorflow(plan) else []
        rest = training_functions(project, plan)
    first = "".join(f"{line}\n" for line in standard) + ("\n" if standard else "")
    modules = "".join(f"{line}\n" for line in third_party)
    parts = [
        f"{_header(project)}\n\n{first}{modules}from keras import layers\n",
        *writer.helpers,
        body,
        *rest,
    ]
    return "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"


# ----------------------------------------------------------------- the model
class _ModelWriter:
    """Writes `def build_model(): ...` and one builder per nested model (`helpers`)."""

    def __init__(self) -> None:
        self.helpers: list[str] = []
        self.taken = set(_RESERVED)

    def model_function(self, graph: LayerGraph, function: str, name: str) -> str:
        lines, inputs, outputs = _GraphWriter(self, graph).write()
        ins = inputs[0] if len(inputs) == 1 else f"[{', '.join(inputs)}]"
        outs = outputs[0] if len(outputs) == 1 else f"[{', '.join(outputs)}]"
        lines.append(f"return keras.Model(inputs={ins}, outputs={outs}, name={_lit(name)})")
        doc = f'"""The model {_lit(name)}, as DeepCanvas compiles it."""'
        return f"def {function}():\n" + _indent([doc, *lines])

    def sequential_function(self, graph: LayerGraph, function: str, name: str) -> str:
        items: list[str] = []
        for nid in graph.topological_order():
            node = graph.nodes[nid]
            if layer_info(node.layer_type).is_input:
                items.insert(0, _input_call(node))
            else:
                items.append(_layer_expr(node, node.name))
        lines = ["return keras.Sequential(", f"{INDENT}["]
        lines += [f"{INDENT * 2}{item}," for item in items]
        lines += [f"{INDENT}],", f"{INDENT}name={_lit(name)},", ")"]
        return f"def {function}():\n" + _indent(lines)

    def variable(self, base: str) -> str:
        name = re.sub(r"\W+", "_", base).strip("_") or "x"
        if name[0].isdigit() or keyword.iskeyword(name):
            name = f"_{name}"
        candidate, i = name, 1
        while candidate in self.taken:
            i += 1
            candidate = f"{name}_{i}"
        self.taken.add(candidate)
        return candidate


class _GraphWriter:
    """The statements of one graph: tensors as variables named after their layers.

    A call that returns several tensors is unpacked into one variable per output, named after
    the node and the output (`enc, enc_h, enc_c = layers.LSTM(...)(x)`); how many there are
    comes from shape inference, as on the canvas. A keras.ops call (an Operation node) is
    written as the Keras operation class it recorded, with its config.
    """

    def __init__(self, model: _ModelWriter, graph: LayerGraph, prefix: str = "") -> None:
        self.model = model
        self.graph = graph
        self.prefix = prefix
        self.tensors: dict[str, list[str]] = {}  # node id -> a variable per output
        self.layers: dict[str, str] = {}  # owner node id -> variable of a shared layer/model
        self.shapes = ShapeInference().infer(graph)

    def write(self, feed: list[str] | None = None) -> tuple[list[str], list[str], list[str]]:
        lines: list[str] = []
        inputs: list[str] = []
        used = used_nodes(self.graph)
        shared = {
            str(n.params["shares"]) for n in self.graph.nodes.values() if "shares" in n.params
        }
        for nid in compile_order(self.graph):
            if nid not in used:
                continue
            node = self.graph.nodes[nid]
            if node.layer_type == INPUT_TYPE:
                if feed is not None:
                    tensor = feed[len(inputs)]
                else:
                    tensor = self.model.variable(node.name)
                    lines.append(f"{tensor} = {_input_call(node, self.prefix)}")
                self.tensors[nid] = [tensor]
                inputs.append(tensor)
                continue
            lines += self._call(node, nid in shared)
        return lines, inputs, [self._port(nid, port) for nid, port in self.graph.output_ports]

    def _port(self, node_id: str, port: int) -> str:
        names = self.tensors[node_id]
        if port >= len(names):
            node = self.graph.nodes[node_id]
            raise CodegenError(
                f"{node.layer_type} '{node.name}' has {len(names)} output(s), not output {port}"
            )
        return names[port]

    def _outputs(self, node: Node) -> list[str]:
        """A variable per output of the node's call: its name, then `name_h`, `name_c`..."""
        result = self.shapes.get(node.id)
        count = result.output_count if result is not None and result.ok else 1
        base = self.prefix + node.name
        labels = output_labels(self.graph, node, count)
        return [self.model.variable(base if n == "output" else f"{base}_{n}") for n in labels]

    def _call(self, node: Node, is_shared: bool) -> list[str]:
        owner = shared_owner(self.graph, node)
        if owner is None:
            raise CodegenError(f"{node.layer_type} '{node.name}' shares a layer that is gone")
        info = layer_info(owner.layer_type)
        args = [self._port(e.src, e.src_port) for e in self.graph.in_edges(node.id)]
        if info.is_block and not owner.params.get("model"):
            return self._inline_block(node, owner, args)
        if info.is_operation:
            return self._operation(node, args)
        lines: list[str] = []
        layer = self.layers.get(owner.id)
        if layer is None:
            expr = self._layer(owner, lines)
            if is_shared or owner is not node or info.is_block:
                layer = self.model.variable(f"{self.prefix}{owner.name}_layer")
                lines.append(f"{layer} = {expr}")
                self.layers[owner.id] = layer
            else:
                layer = expr
        outs = self._outputs(node)
        kwargs = "".join(
            f", {k}={_lit(v)}" for k, v in (node.params.get("call_kwargs") or {}).items()
        )
        call = args[0] if info.is_block and len(args) == 1 else _call_args(info, args)
        lines.append(_statement(_targets(outs), layer, f"{call}{kwargs}"))
        self.tensors[node.id] = outs
        return lines

    def _operation(self, node: Node, args: list[str]) -> list[str]:
        """A keras.ops call as the same Keras operation class with the same config
        (`keras.src.ops.numpy.Mean(axis=1, keepdims=False, name="mean")(x)`), so the model's
        config comes back unchanged."""
        label = f"Operation '{node.name}'"
        try:
            cls = operation_class(node.params, label)
            config = operation_config(node.params, label)
        except LayerConfigError as exc:
            raise CodegenError(str(exc)) from exc
        settings = [f"{k}={_lit(v)}" for k, v in config.items()]
        settings.append(f"name={_lit(self.prefix + node.name)}")
        op = f"{cls.__module__}.{cls.__name__}({', '.join(settings)})"
        outs = self._outputs(node)
        self.tensors[node.id] = outs
        return [_statement(_targets(outs), op, call_text(node.params, args, _lit))]

    def _layer(self, node: Node, lines: list[str]) -> str:
        info = layer_info(node.layer_type)
        if not info.is_block:
            return _layer_expr(node, self.prefix + node.name)
        inner = block_graph(node.params, f"{node.layer_type} '{node.name}'")
        function = self.model.variable(f"build_{node.name}")
        name = self.prefix + node.name
        if node.params.get("model") == "sequential":
            helper = self.model.sequential_function(inner, function, name)
        else:
            helper = self.model.model_function(inner, function, name)
        self.model.helpers.append(helper)
        if node.params.get("trainable") is False:
            model = self.model.variable(node.name)
            lines += [f"{model} = {function}()", f"{model}.trainable = False"]
            return model
        return f"{function}()"

    def _inline_block(self, node: Node, owner: Node, args: list[str]) -> list[str]:
        if owner is not node:
            raise CodegenError(
                f"{node.layer_type} '{node.name}' applies block '{owner.name}' again: the "
                "script writer cannot share an inline block's layers yet"
            )
        inner = block_graph(node.params, f"{node.layer_type} '{node.name}'")
        writer = _GraphWriter(self.model, inner, f"{self.prefix}{node.name}.")
        lines, _inputs, outputs = writer.write(feed=args)
        self.tensors[node.id] = outputs
        return [f"# block '{node.name}' ({node.layer_type})", *lines]


def _statement(out: str, layer: str, call: str) -> str:
    """`out = layer(call)`, the layer's arguments on their own line when it is too long."""
    line = f"{out} = {layer}({call})"
    head, paren, args = layer.partition("(")
    if len(line) <= 95 or not paren:
        return line
    return f"{out} = {head}(\n{INDENT}{args[:-1]}\n)({call})"


def _input_call(node: Node, prefix: str = "") -> str:
    shape = node.params.get("shape", ())
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    args = [f"shape={_lit(shape)}"]
    dtype = node.params.get("dtype", "float32")
    if dtype != "float32":
        args.append(f"dtype={_lit(dtype)}")
    if node.params.get("batch_size") is not None:
        args.append(f"batch_size={_lit(node.params['batch_size'])}")
    args.append(f"name={_lit(prefix + node.name)}")
    return f"keras.Input({', '.join(args)})"


def _layer_expr(node: Node, name: str | None) -> str:
    """`layers.Dense(64, activation="relu", name="fc")`: the leading required arguments by
    position (a lookup's `vocabulary`, required by the app but not first, by name)."""
    spec = layer_spec(node.layer_type)
    args: list[str] = []
    positional = True  # while every argument so far was written by position
    for param in spec.params:
        if param.name not in node.params:
            positional = False
            continue
        value = node.params[param.name]
        if param.kind == "layer":
            text = "None" if value is None else _inner_expr(value, name)
        else:
            if not param.required and _same(value, param.default):
                positional = False
                continue
            text = _lit(param.coerce(value))
        if param.required and positional:
            args.append(text)
        else:
            positional = False
            args.append(f"{param.name}={text}")
    if name is not None:
        args.append(f"name={_lit(name)}")
    return f"layers.{node.layer_type}({', '.join(args)})"


def _inner_expr(value: dict[str, Any], wrapper_name: str | None) -> str:
    """A wrapped layer; unnamed, it takes its wrapper's name, as the compiler does."""
    inner = Node("inner", str(value["type"]), "", dict(value.get("params") or {}))
    return _layer_expr(inner, value.get("name") or wrapper_name)


def _targets(outs: list[str]) -> str:
    """`x` or `out, h, c`; a long unpacking one name per line, as a formatter writes it."""
    targets = ", ".join(outs)
    if len(targets) > 60:
        targets = "(\n" + "".join(f"{INDENT}{out},\n" for out in outs) + ")"
    return targets


def _call_args(info: Any, args: list[str]) -> str:
    if info.positional_inputs:
        return ", ".join(args)
    if info.state_inputs:  # the sequence, then its starting states
        states = f", initial_state=[{', '.join(args[1:])}]" if len(args) > 1 else ""
        return args[0] + states
    if info.is_variadic or info.max_inputs > 1:
        return f"[{', '.join(args)}]"
    return args[0]


def _header(project: Project) -> str:
    title = project.name.replace('"""', "'''")
    return (
        f'"""{title}: a Keras model written by DeepCanvas.\n\n'
        "`build_model()` rebuilds the model exactly as the app compiles it; run the script to\n"
        "train it on the project's data with the project's settings:\n\n"
        "    python this_script.py\n"
        '"""'
    )
