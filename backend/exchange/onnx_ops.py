"""TensorFlow operations tf2onnx lacks, registered with it before an ONNX export.

Only operations with an exact ONNX equivalent are added. `Erfc` (Keras' exact GELU,
`gelu(approximate=False)`, computes `0.5 * x * erfc(-x / sqrt(2))`) becomes `1 - Erf(x)`
with ONNX's own `Erf` (opset 9 and later). Importing this module registers the handlers once.
"""

from __future__ import annotations

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
