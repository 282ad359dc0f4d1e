"""What DeepCanvas knows about layers that Keras does not: categories, ports, help text.

Everything else (parameter names, defaults, types, shape rules, serialization) is read from
Keras itself by `backend.catalog`. This module imports nothing heavy so the GUI can build its
palette before TensorFlow has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VARIADIC = -1
"""`max_inputs` of a merge layer: any number of inputs (at least `min_inputs`)."""

INPUT_TYPE = "Input"


@dataclass(frozen=True)
class LayerInfo:
    """The app's own facts about one layer type."""

    type_name: str
    category: str
    description: str
    input_names: tuple[str, ...] = ("input",)
    min_inputs: int = 1
    max_inputs: int = 1
    required: dict[str, Any] = field(default_factory=dict)
    """Values for constructor arguments that Keras leaves without a default."""
    key_params: tuple[str, ...] = ()
    """Parameters shown on the node face, e.g. `Dense 128 relu`."""
    advanced: tuple[str, ...] = ()
    example_input: tuple[tuple[int | None, ...], ...] = ((16,),)
    """A suitable input shape per port (batch excluded), used by tests and quick previews."""

    @property
    def is_variadic(self) -> bool:
        return self.max_inputs == VARIADIC

    @property
    def is_input(self) -> bool:
        return self.type_name == INPUT_TYPE


_IMG = ((8, 8, 3),)
_SEQ = ((10, 4),)
_VOL = ((4, 8, 8, 2),)
_COMMON_ADVANCED = (
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "recurrent_initializer",
    "recurrent_regularizer",
    "recurrent_constraint",
    "beta_initializer",
    "gamma_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
    "embeddings_initializer",
    "embeddings_regularizer",
    "embeddings_constraint",
    "depthwise_initializer",
    "pointwise_initializer",
    "depthwise_regularizer",
    "pointwise_regularizer",
    "depthwise_constraint",
    "pointwise_constraint",
    "lora_rank",
    "lora_alpha",
    "quantization_config",
    "seed",
)


def _info(
    type_name: str,
    category: str,
    description: str,
    *,
    required: dict[str, Any] | None = None,
    key_params: tuple[str, ...] = (),
    example_input: tuple[tuple[int | None, ...], ...] = ((16,),),
    input_names: tuple[str, ...] = ("input",),
    min_inputs: int = 1,
    max_inputs: int = 1,
) -> LayerInfo:
    return LayerInfo(
        type_name=type_name,
        category=category,
        description=description,
        input_names=input_names,
        min_inputs=min_inputs,
        max_inputs=max_inputs,
        required=dict(required or {}),
        key_params=key_params,
        advanced=_COMMON_ADVANCED,
        example_input=example_input,
    )


def _merge(type_name: str, description: str, max_inputs: int = VARIADIC, **kw: Any) -> LayerInfo:
    return _info(
        type_name,
        "Merging",
        description,
        input_names=("inputs",),
        min_inputs=2,
        max_inputs=max_inputs,
        example_input=((6, 4), (6, 4)),
        **kw,
    )


CATEGORIES: tuple[str, ...] = (
    "Core",
    "Convolution",
    "Pooling",
    "Recurrent",
    "Attention",
    "Normalization",
    "Regularization",
    "Reshaping",
    "Merging",
    "Activations",
    "Preprocessing",
)

_LAYERS: tuple[LayerInfo, ...] = (
    LayerInfo(
        INPUT_TYPE,
        "Core",
        "Entry point of the model: the shape of one sample, without the batch axis.",
        input_names=(),
        min_inputs=0,
        max_inputs=0,
        required={"shape": (16,)},
        key_params=("shape",),
    ),
    _info(
        "Dense",
        "Core",
        "Fully connected layer: every output neuron sees every input feature.",
        required={"units": 32},
        key_params=("units", "activation"),
    ),
    _info(
        "Activation",
        "Core",
        "Applies a non-linearity (ReLU, sigmoid, softmax...) element-wise.",
        required={"activation": "relu"},
        key_params=("activation",),
    ),
    _info(
        "Embedding",
        "Core",
        "Turns integer token ids into dense trainable vectors.",
        required={"input_dim": 1000, "output_dim": 32},
        key_params=("input_dim", "output_dim"),
        example_input=((10,),),
    ),
    _info(
        "Conv1D",
        "Convolution",
        "1-D convolution: slides filters along a sequence or time axis.",
        required={"filters": 16, "kernel_size": 3},
        key_params=("filters", "kernel_size", "activation"),
        example_input=_SEQ,
    ),
    _info(
        "Conv2D",
        "Convolution",
        "2-D convolution: slides small learned filters over an image to detect local patterns.",
        required={"filters": 16, "kernel_size": (3, 3)},
        key_params=("filters", "kernel_size", "activation"),
        example_input=_IMG,
    ),
    _info(
        "Conv3D",
        "Convolution",
        "3-D convolution over volumes or video.",
        required={"filters": 8, "kernel_size": (3, 3, 3)},
        key_params=("filters", "kernel_size"),
        example_input=_VOL,
    ),
    _info(
        "Conv2DTranspose",
        "Convolution",
        "Transposed 2-D convolution: learnable upsampling (decoders, GANs).",
        required={"filters": 16, "kernel_size": (3, 3)},
        key_params=("filters", "kernel_size", "strides"),
        example_input=_IMG,
    ),
    _info(
        "SeparableConv2D",
        "Convolution",
        "Depthwise then pointwise convolution: far fewer parameters than Conv2D.",
        required={"filters": 16, "kernel_size": (3, 3)},
        key_params=("filters", "kernel_size"),
        example_input=_IMG,
    ),
    _info(
        "DepthwiseConv2D",
        "Convolution",
        "One filter per input channel (the first half of a separable convolution).",
        required={"kernel_size": (3, 3)},
        key_params=("kernel_size",),
        example_input=_IMG,
    ),
    _info(
        "MaxPooling1D",
        "Pooling",
        "Keeps the largest value in each window along a sequence.",
        key_params=("pool_size",),
        example_input=_SEQ,
    ),
    _info(
        "MaxPooling2D",
        "Pooling",
        "Downsamples an image by keeping the largest value in each window.",
        key_params=("pool_size",),
        example_input=_IMG,
    ),
    _info(
        "AveragePooling2D",
        "Pooling",
        "Downsamples an image by averaging each window.",
        required={"pool_size": (2, 2)},  # Keras 3 gives AveragePooling2D no default
        key_params=("pool_size",),
        example_input=_IMG,
    ),
    _info(
        "GlobalAveragePooling1D",
        "Pooling",
        "Averages over the whole sequence: one vector per sample.",
        example_input=_SEQ,
    ),
    _info(
        "GlobalAveragePooling2D",
        "Pooling",
        "Averages each feature map to one number: a light alternative to Flatten.",
        example_input=_IMG,
    ),
    _info(
        "GlobalMaxPooling2D",
        "Pooling",
        "Keeps the largest value of each feature map.",
        example_input=_IMG,
    ),
    _info(
        "SimpleRNN",
        "Recurrent",
        "The plainest recurrent layer: a hidden state updated at each time step.",
        required={"units": 16},
        key_params=("units", "return_sequences"),
        example_input=_SEQ,
    ),
    _info(
        "LSTM",
        "Recurrent",
        "Long short-term memory: a recurrent layer with gates that remember over long spans.",
        required={"units": 16},
        key_params=("units", "return_sequences"),
        example_input=_SEQ,
    ),
    _info(
        "GRU",
        "Recurrent",
        "Gated recurrent unit: a lighter LSTM with two gates.",
        required={"units": 16},
        key_params=("units", "return_sequences"),
        example_input=_SEQ,
    ),
    _info(
        "MultiHeadAttention",
        "Attention",
        "Several attention heads in parallel: each position looks at every other (Transformer).",
        required={"num_heads": 2, "key_dim": 16},
        key_params=("num_heads", "key_dim"),
        input_names=("query", "value", "key"),
        min_inputs=2,
        max_inputs=3,
        example_input=((6, 8), (6, 8)),
    ),
    _info(
        "Attention",
        "Attention",
        "Dot-product attention of a query sequence over a value sequence.",
        input_names=("query", "value", "key"),
        min_inputs=2,
        max_inputs=3,
        example_input=((6, 8), (6, 8)),
    ),
    _info(
        "BatchNormalization",
        "Normalization",
        "Normalizes each feature over the batch; speeds up and stabilises training.",
        example_input=_IMG,
    ),
    _info(
        "LayerNormalization",
        "Normalization",
        "Normalizes each sample over its features (Transformers use it).",
        example_input=_SEQ,
    ),
    _info(
        "Dropout",
        "Regularization",
        "Randomly zeroes a fraction of inputs while training, against overfitting.",
        required={"rate": 0.5},
        key_params=("rate",),
    ),
    _info(
        "SpatialDropout2D",
        "Regularization",
        "Drops whole feature maps of a convolution while training.",
        required={"rate": 0.2},
        key_params=("rate",),
        example_input=_IMG,
    ),
    _info(
        "GaussianNoise",
        "Regularization",
        "Adds random noise to inputs while training.",
        required={"stddev": 0.1},
        key_params=("stddev",),
    ),
    _info(
        "Flatten",
        "Reshaping",
        "Unrolls a feature map into one long vector, e.g. before a Dense layer.",
        example_input=_IMG,
    ),
    _info(
        "Reshape",
        "Reshaping",
        "Rearranges the features of each sample into a new shape with the same size.",
        required={"target_shape": (4, 4)},
        key_params=("target_shape",),
    ),
    _info(
        "Permute",
        "Reshaping",
        "Swaps the axes of each sample.",
        required={"dims": (2, 1)},
        key_params=("dims",),
        example_input=_SEQ,
    ),
    _info(
        "RepeatVector",
        "Reshaping",
        "Repeats a vector n times to make a sequence.",
        required={"n": 4},
        key_params=("n",),
    ),
    _info(
        "UpSampling2D",
        "Reshaping",
        "Enlarges an image by repeating rows and columns.",
        key_params=("size",),
        example_input=_IMG,
    ),
    _info(
        "ZeroPadding2D",
        "Reshaping",
        "Adds rows and columns of zeros around an image.",
        key_params=("padding",),
        example_input=_IMG,
    ),
    _merge("Add", "Adds its inputs element-wise: the join of a residual (skip) connection."),
    _merge("Subtract", "Subtracts the second input from the first.", max_inputs=2),
    _merge("Multiply", "Multiplies its inputs element-wise (gating)."),
    _merge("Average", "Averages its inputs element-wise (ensembles)."),
    _merge("Maximum", "Element-wise maximum of its inputs."),
    _merge(
        "Concatenate",
        "Joins its inputs side by side along an axis (the last by default).",
        key_params=("axis",),
    ),
    _info(
        "ReLU",
        "Activations",
        "Rectified linear unit: max(0, x).",
    ),
    _info(
        "LeakyReLU",
        "Activations",
        "ReLU that lets a small slope through for negative inputs.",
        key_params=("negative_slope",),
    ),
    _info(
        "Softmax",
        "Activations",
        "Turns scores into probabilities that sum to one.",
    ),
    _info(
        "Rescaling",
        "Preprocessing",
        "Multiplies inputs by a scale and adds an offset, e.g. pixels 0..255 to 0..1.",
        required={"scale": 1.0 / 255.0},
        key_params=("scale",),
        example_input=_IMG,
    ),
)

LAYERS: dict[str, LayerInfo] = {info.type_name: info for info in _LAYERS}


class UnknownLayerError(KeyError):
    """A layer type that DeepCanvas does not offer."""

    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name

    def __str__(self) -> str:
        return f"unknown layer type {self.type_name!r}"


def layer_info(type_name: str) -> LayerInfo:
    try:
        return LAYERS[type_name]
    except KeyError:
        raise UnknownLayerError(type_name) from None


def layers_by_category() -> dict[str, list[LayerInfo]]:
    grouped: dict[str, list[LayerInfo]] = {c: [] for c in CATEGORIES}
    for info in _LAYERS:
        grouped[info.category].append(info)
    return grouped
