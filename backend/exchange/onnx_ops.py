"""What tf2onnx lacks for Keras models: operations, and constants it takes for inputs.

Only operations with an exact ONNX equivalent are added. `Erfc` (Keras' exact GELU,
`gelu(approximate=False)`, computes `0.5 * x * erfc(-x / sqrt(2))`) becomes `1 - Erf(x)`
with ONNX's own `Erf` (opset 9 and later). Importing this module registers the handlers once.
A model that captured constants (a Normalization layer) is converted again through a SavedModel
(`convert_from_saved_model`), where they are constants.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tf2onnx import utils
from tf2onnx.handler import tf_op


@tf_op("Erfc")
class Erfc:
    """erfc(x) = 1 - erf(x): the node becomes ONNX `Erf`, followed by a subtraction from 1."""

    @classmethod
    def version_9(cls, ctx: Any, node: Any, **kwargs: Any) -> None:
        dtype = ctx.get_dtype(node.output[0])
        node.type = "Erf"
        one = ctx.make_const(
            utils.make_name(f"{node.name}_one"),
            np.array(1, dtype=utils.map_onnx_to_numpy_type(dtype)),
        )
        minus = ctx.insert_new_node_on_output(
            "Sub", node.output[0], name=utils.make_name(f"{node.name}_erfc")
        )
        ctx.replace_inputs(minus, [one.output[0], node.output[0]])
        ctx.set_dtype(minus.output[0], dtype)
        ctx.copy_shape(node.output[0], minus.output[0])


def has_extra_inputs(path: Path, model: Any) -> bool:
    """True when tf2onnx turned constants the model captured (a Normalization layer's mean and
    variance, as in EfficientNet) into graph inputs: the file would want them fed."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in initializers]
    return len(inputs) > len(model.inputs)


def convert_from_saved_model(model: Any, path: Path, opset: int = 17) -> None:
    """Convert through a SavedModel, where captured constants are constants: the ONNX graph
    then takes exactly the model's inputs (named as in Keras) and gives `output_0`, ...."""
    from keras.src.export.tf2onnx_lib import patch_tf2onnx
    from tf2onnx import convert, tf_loader

    patch_tf2onnx()  # as Keras' own ONNX export does (tf2onnx and NumPy 2)
    with tempfile.TemporaryDirectory(prefix="deepcanvas-onnx-") as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        graph_def, inputs, outputs = tf_loader.from_saved_model(
            folder, None, None, "serve", ["serving_default"]
        )
    names = [str(t.name).split(":")[0] for t in model.inputs]
    renames = dict(zip(inputs, names, strict=False))
    renames.update({name: f"output_{i}" for i, name in enumerate(outputs)})
    convert.from_graph_def(
        graph_def,
        input_names=inputs,
        output_names=outputs,
        opset=opset,
        tensors_to_rename=renames,
        output_path=str(path),
    )
