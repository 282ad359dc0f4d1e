"""FLOPs per sample of one built Keras layer, where its type allows an estimate.

The convention is TensorFlow's profiler's: a multiply-add counts 2, a bias add 1 per output
element, a pooling window 1 per input it reads, a softmax 5 per element. Dense and
convolution counts are read from the weight shapes Keras created (kernel size times the
positions it slides over), so they follow any parameter the layer has; recurrent layers count
their kernels once per timestep. Shapes here exclude the batch axis; `None` counts as 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Shape = tuple[int | None, ...]
Rule = Callable[[Any, list[Shape], Shape], int | None]

SOFTMAX_FLOPS = 5
"""Per element: exponent, max, sum, subtract, divide (TensorFlow's profiler counts 5)."""

_FREE = (
    "Input",
    "InputLayer",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "Dropout",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Concatenate",
    "Embedding",
    "ReversibleEmbedding",
    "Masking",
    "Identity",
    "CenterCrop",
    "AugMix",
    "RandAugment",
    "CutMix",
    "MixUp",
)
_FREE_PREFIXES = ("SpatialDropout", "ZeroPadding", "Cropping", "Random")
"""Layers that only move data, and augmentations (identity in a forward pass at inference)."""
_LOOKUPS = ("StringLookup", "IntegerLookup", "Hashing", "HashedCrossing", "TextVectorization")
"""Hash-table lookups, hashing and string splitting: no floating-point work to count."""
_PER_ELEMENT = {
    "Activation": 1,
    "ReLU": 1,
    "LeakyReLU": 1,
    "ELU": 1,
    "PReLU": 2,
    "Softmax": SOFTMAX_FLOPS,
    "Rescaling": 2,
    "Normalization": 2,
    "BatchNormalization": 2,
    "LayerNormalization": 5,
    "GroupNormalization": 5,
    "UnitNormalization": 3,
    "RMSNormalization": 4,
    "Discretization": 1,
    "CategoryEncoding": 1,
    "Solarization": 1,
    "AutoContrast": 3,
}
_ELEMENTWISE_MERGES = {"Add", "Subtract", "Multiply", "Maximum", "Minimum"}
_RECURRENT = {"SimpleRNN", "LSTM", "GRU"}


def _size(shape: Sequence[int | None]) -> int:
    return math.prod(d or 1 for d in shape)


def _weights(layer: Any, suffix: str) -> list[Any]:
    return [w for w in layer.weights if str(w.name).endswith(suffix)]


def _bias_flops(layer: Any, out: Shape) -> int:
    return _size(out) if getattr(layer, "use_bias", False) else 0


def _kernel_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    """Dense, Conv1D/2D/3D, depthwise and separable convolutions, transposed convolutions."""
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    transposed = type(layer).__name__.endswith("Transpose")
    slid = ins[0] if transposed else out  # a transposed kernel scatters each input position
    positions = _size(slid[1:] if channels_first else slid[:-1])
    kernels = sum(_size(w.shape) for w in _weights(layer, "kernel"))
    return 2 * kernels * positions + _bias_flops(layer, out)


def _recurrent_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    steps = ins[0][0] or 1
    kernels = sum(_size(w.shape) for w in _weights(layer, "kernel"))
    biases = sum(_size(w.shape) for w in _weights(layer, "bias"))
    return steps * (2 * kernels + biases)


def _mha_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    query, value = ins[0], ins[1]
    key = ins[2] if len(ins) > 2 else value
    tq, tv, tk = _size(query[:-1]), _size(value[:-1]), _size(key[:-1])
    heads = int(getattr(layer, "num_heads", None) or layer.num_query_heads)
    key_dim = int(getattr(layer, "key_dim", None) or layer.head_dim)
    value_dim = int(getattr(layer, "value_dim", None) or key_dim)
    positions = {"query": tq, "key": tk, "value": tv, "attention_output": tq}
    projections = 0
    for w in layer.weights:
        part = str(w.path).rsplit("/", 2)[-2]
        if part in positions:
            per_position = _size(w.shape) * (2 if str(w.name) == "kernel" else 1)
            projections += per_position * positions[part]
    scores = 2 * heads * tq * tk * key_dim
    context = 2 * heads * tq * tk * value_dim
    return projections + scores + context + SOFTMAX_FLOPS * heads * tq * tk


def _attention_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    """Dot-product attention; the additive kind adds a tanh of a sum per score and feature."""
    query, value = ins[0], ins[1]
    key = ins[2] if len(ins) > 2 else value
    tq, tv = _size(query[:-1]), _size(value[:-1])
    scores = 2 * tq * tv * (key[-1] or 1)
    if type(layer).__name__ == "AdditiveAttention":
        scores *= 2
    return scores + 2 * tq * tv * (value[-1] or 1) + SOFTMAX_FLOPS * tq * tv


def _einsum_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    """Every index of the equation once (a multiply-add each), the batch index excluded."""
    equation = str(layer.equation)
    if "." in equation:
        raise ValueError("an ellipsis equation")
    operands, rhs = equation.split("->")
    lhs, kernel_letters = operands.split(",")
    sizes: dict[str, int] = {}
    kernel = next(w for w in layer.weights if str(w.name) == "kernel")
    shapes = ((lhs[1:], ins[0]), (kernel_letters, tuple(kernel.shape)), (rhs[1:], out))
    for letters, shape in shapes:
        for letter, size in zip(letters, shape, strict=False):
            sizes[letter] = max(sizes.get(letter, 1), size or 1)
    sizes.pop(lhs[0], None)
    bias = sum(_size(w.shape) for w in _weights(layer, "bias"))
    return 2 * math.prod(sizes.values()) + (_size(out) if bias else 0)


def _dot_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    axes = layer.axes if isinstance(layer.axes, int) else layer.axes[0]
    depth = ins[0][axes - 1] if axes > 0 else ins[0][axes]
    return 2 * _size(out) * (depth or 1)


def _wrapper_flops(layer: Any, ins: list[Shape], out: Shape) -> int | None:
    """Bidirectional: both directions; TimeDistributed: the inner layer once per step."""
    kind = type(layer).__name__
    if kind == "Bidirectional":
        halves = [layer.forward_layer, layer.backward_layer]
        counts = [estimate_flops(type(h).__name__, h, ins, out) for h in halves]
        return None if None in counts else sum(c or 0 for c in counts)
    inner = layer.layer
    if kind == "TimeDistributed":
        steps = ins[0][0] or 1
        each = estimate_flops(type(inner).__name__, inner, [ins[0][1:]], out[1:])
        return None if each is None else steps * each
    return estimate_flops(type(inner).__name__, inner, ins, out)  # SpectralNormalization


def _pooling_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    if type(layer).__name__.startswith(("Global", "Adaptive")):
        return _size(ins[0])
    return _size(out) * _size(layer.pool_size)


def _rule(type_name: str) -> Rule | None:
    if type_name in _FREE or type_name in _LOOKUPS or type_name.startswith(_FREE_PREFIXES):
        return lambda layer, ins, out: 0
    if type_name in _PER_ELEMENT:
        per = _PER_ELEMENT[type_name]
        return lambda layer, ins, out: per * _size(out)
    if type_name in _ELEMENTWISE_MERGES:
        return lambda layer, ins, out: (len(ins) - 1) * _size(out)
    if type_name == "Average":
        return lambda layer, ins, out: len(ins) * _size(out)
    if type_name in _RECURRENT:
        return _recurrent_flops
    if type_name in ("MultiHeadAttention", "GroupQueryAttention"):
        return _mha_flops
    if type_name in ("Attention", "AdditiveAttention"):
        return _attention_flops
    if type_name in ("Bidirectional", "TimeDistributed", "SpectralNormalization"):
        return _wrapper_flops
    if type_name == "EinsumDense":
        return _einsum_flops
    if type_name == "Dot":
        return _dot_flops
    if "Pooling" in type_name:
        return _pooling_flops
    if type_name == "Dense" or type_name.startswith(("Conv", "DepthwiseConv", "SeparableConv")):
        return _kernel_flops
    if type_name.startswith("UpSampling") or type_name == "Resizing":
        return _resampling_flops
    return None


def _resampling_flops(layer: Any, ins: list[Shape], out: Shape) -> int:
    """Nearest neighbours copy; interpolation weighs about four neighbours per output."""
    nearest = getattr(layer, "interpolation", "nearest") == "nearest"
    return 0 if nearest else 4 * _size(out)


def estimate_flops(type_name: str, layer: Any, ins: list[Shape], out: Shape) -> int | None:
    """FLOPs of one forward pass of one sample, or None for a layer type with no rule.

    `layer` is the built Keras layer; `ins` and `out` are shapes without the batch axis.
    """
    rule = _rule(type_name)
    if rule is None:
        return None
    activation = getattr(layer, "activation", None) if type_name == "Activation" else None
    if getattr(activation, "__name__", "") == "softmax":
        return SOFTMAX_FLOPS * _size(out)
    try:
        flops = rule(layer, ins, out)
    except (AttributeError, ValueError, TypeError, IndexError, StopIteration):
        return None  # a layer configured beyond what the rule knows: no estimate
    return None if flops is None else int(flops)
