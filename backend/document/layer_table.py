"""What DeepCanvas knows about layers that Keras does not: categories, ports, help text.

Everything else (parameter names, defaults, types, shape rules, serialization) is read from
Keras itself by `backend.keras_bridge.catalog`. The palette covers every built-in Keras 3 layer
that makes
sense in a model graph (a test checks the table against `keras.layers`); `EXCLUDED` names the
rest and why. This module imports nothing heavy so the GUI can build its palette before
TensorFlow has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.document import block_library

VARIADIC = -1
"""`max_inputs` of a merge layer: any number of inputs (at least `min_inputs`)."""

INPUT_TYPE = "Input"
BLOCK_TYPE = "Block"
"""A user's block (made by grouping nodes, or an imported nested model)."""
OPERATION_TYPE = "Operation"
"""A `keras.ops` call recorded in an imported functional model
(`backend.keras_bridge.operations`)."""
BLOCKS = "Blocks"
"""The category of composite blocks: one node holding a subgraph in `params['graph']`."""

Shapes = tuple[tuple[int | None, ...], ...]


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
    """Starting values of a new node: the arguments Keras leaves without a default, and the
    few whose Keras default rarely fits a first graph."""
    key_params: tuple[str, ...] = ()
    """Parameters shown on the node face, e.g. `Dense 128 relu`."""
    advanced: tuple[str, ...] = ()
    example_input: Shapes = ((16,),)
    """A suitable input shape per port (batch excluded), used by tests and quick previews."""
    example_dtypes: tuple[str, ...] = ()
    """The dtype of each `example_input` port, when not float32 (strings for text lookups)."""
    needs: tuple[str, ...] = ()
    """Parameters Keras lets default, to adapt them to data later, that a model built from a
    project file cannot do without: a lookup's `vocabulary` (nothing adapts it there, and a
    saved model without one does not load). The inspector asks for them as required."""
    positional_inputs: bool = False
    """Called as `layer(query, value, key)` rather than `layer([a, b, ...])` (attention)."""
    state_inputs: bool = False
    """Called as `layer(x, initial_state=[...])`: the ports after the first are the starting
    states of a recurrent layer (how many it needs depends on its cell: Keras checks)."""
    inner_layers: tuple[str, ...] = ()
    """For a wrapper (Bidirectional...): the layer types it can wrap, in `params['layer']`."""
    in_palette: bool = True
    keras_module: str = ""
    """For a layer class that `keras.layers` does not export but a `keras.applications`
    architecture uses (ConvNeXt's LayerScale): the Keras module that defines it."""

    @property
    def is_variadic(self) -> bool:
        return self.max_inputs == VARIADIC

    @property
    def is_input(self) -> bool:
        return self.type_name == INPUT_TYPE

    @property
    def is_block(self) -> bool:
        return self.category == BLOCKS

    @property
    def is_operation(self) -> bool:
        return self.type_name == OPERATION_TYPE

    @property
    def is_wrapper(self) -> bool:
        return bool(self.inner_layers)


_IMG: Shapes = ((8, 8, 3),)
_SEQ: Shapes = ((10, 4),)
_VOL: Shapes = ((4, 8, 8, 2),)
_WEIGHTS = ("kernel", "bias", "recurrent", "beta", "gamma", "embeddings", "depthwise")
_WEIGHTS_MORE = ("pointwise", "alpha", "moving_mean", "moving_variance")
_COMMON_ADVANCED = (
    *(
        f"{w}_{k}"
        for w in _WEIGHTS + _WEIGHTS_MORE
        for k in ("initializer", "regularizer", "constraint")
    ),
    *("activity_regularizer", "lora_rank", "lora_alpha", "gptq_unpacked_column_size", "seed"),
    *("quantization_config", "data_format", "trainable", "dtype", "backward_layer", "graph"),
    "model",
)

_LAYERS: list[LayerInfo] = []


def _add(
    type_name: str,
    category: str,
    description: str,
    *,
    required: dict[str, Any] | None = None,
    key: tuple[str, ...] = (),
    example: Shapes = ((16,),),
    inputs: tuple[str, ...] = ("input",),
    min_inputs: int = 1,
    max_inputs: int = 1,
    **extra: Any,
) -> None:
    _LAYERS.append(
        LayerInfo(
            type_name=type_name,
            category=category,
            description=description,
            input_names=inputs,
            min_inputs=min_inputs,
            max_inputs=max_inputs,
            required=dict(required or {}),
            key_params=key,
            advanced=_COMMON_ADVANCED,
            example_input=example,
            **extra,
        )
    )


def _merge(type_name: str, description: str, max_inputs: int = VARIADIC, **kw: Any) -> None:
    kw.setdefault("example", ((6, 4), (6, 4)))
    _add(type_name, "Merging", description, inputs=("inputs",), min_inputs=2, **kw,
         max_inputs=max_inputs)  # fmt: skip


def _attention(type_name: str, description: str, **kw: Any) -> None:
    _add(type_name, "Attention", description, inputs=("query", "value", "key"), min_inputs=2,
         max_inputs=3, example=((6, 8), (6, 8)), **kw)  # fmt: skip


def _block(type_name: str, description: str, graph: dict[str, Any], example: Shapes) -> None:
    _add(type_name, BLOCKS, description, required={"graph": graph}, example=example)


def _each(dims: str, fn: Any) -> None:
    for d in dims:
        fn(d)


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
    "Augmentation",
    BLOCKS,
)
_EXAMPLE_BY_DIM: dict[str, Shapes] = {"1": _SEQ, "2": _IMG, "3": _VOL}
_ND = {"1": "a sequence", "2": "an image", "3": "a volume"}
_TUPLE = {"1": 3, "2": [3, 3], "3": [3, 3, 3]}

# ----------------------------------------------------------------- core
_LAYERS.append(
    LayerInfo(
        INPUT_TYPE,
        "Core",
        "Entry point of the model: the shape of one sample, without the batch axis.",
        input_names=(),
        min_inputs=0,
        max_inputs=0,
        required={"shape": (16,)},
        key_params=("shape",),
        advanced=("batch_size",),
    )
)
_add("Dense", "Core", "Fully connected layer: every output neuron sees every input feature.",
     required={"units": 32}, key=("units", "activation"))  # fmt: skip
_add("EinsumDense", "Core", "A dense layer over any axes, written as an einsum equation.",
     required={"equation": "ab,bc->ac", "output_shape": 8, "bias_axes": "c"},
     key=("equation",))  # fmt: skip
_add("Activation", "Core", "Applies a non-linearity (ReLU, tanh, sigmoid...) element-wise.",
     required={"activation": "relu"}, key=("activation",))  # fmt: skip
_add("Embedding", "Core", "Turns integer token ids into dense trainable vectors.",
     required={"input_dim": 1000, "output_dim": 32}, key=("input_dim", "output_dim"),
     example=((10,),))  # fmt: skip
_add("ReversibleEmbedding", "Core",
     "An embedding whose matrix can also project vectors back to token scores (tied weights).",
     required={"input_dim": 1000, "output_dim": 32}, key=("input_dim", "output_dim"),
     example=((10,),))  # fmt: skip
_add("Masking", "Core", "Marks time steps equal to a value as padding for later layers.",
     key=("mask_value",), example=_SEQ)  # fmt: skip
_add("Identity", "Core", "Passes its input through unchanged (a named tap in the graph).")

# ----------------------------------------------------------------- convolution


def _conv(d: str) -> None:
    ex = _EXAMPLE_BY_DIM[d]
    k = {"filters": 8, "kernel_size": _TUPLE[d]}
    _add(f"Conv{d}D", "Convolution", f"{d}-D convolution: slides learned filters over {_ND[d]}.",
         required=k, key=("filters", "kernel_size", "activation"), example=ex)  # fmt: skip
    _add(f"Conv{d}DTranspose", "Convolution",
         f"Transposed {d}-D convolution: learnable upsampling (decoders, GANs).",
         required=k, key=("filters", "kernel_size", "strides"), example=ex)  # fmt: skip
    if d == "3":
        return
    _add(f"SeparableConv{d}D", "Convolution",
         "Depthwise then pointwise convolution: far fewer parameters than a full one.",
         required=k, key=("filters", "kernel_size"), example=ex)  # fmt: skip
    _add(f"DepthwiseConv{d}D", "Convolution",
         "One filter per input channel (the first half of a separable convolution).",
         required={"kernel_size": _TUPLE[d]}, key=("kernel_size",), example=ex)  # fmt: skip


_each("123", _conv)


# ----------------------------------------------------------------- pooling
def _pool(d: str) -> None:
    ex = _EXAMPLE_BY_DIM[d]
    pool = {"1": 2, "2": [2, 2], "3": [2, 2, 2]}[d]
    _add(f"MaxPooling{d}D", "Pooling", f"Downsamples {_ND[d]}: the largest value per window.",
         key=("pool_size",), example=ex)  # fmt: skip
    _add(f"AveragePooling{d}D", "Pooling", f"Downsamples {_ND[d]}: the mean of each window.",
         required={"pool_size": pool}, key=("pool_size",), example=ex)  # fmt: skip
    _add(f"GlobalAveragePooling{d}D", "Pooling",
         "Averages each feature map to one number: a light alternative to Flatten.",
         example=ex)  # fmt: skip
    _add(f"GlobalMaxPooling{d}D", "Pooling", "Keeps the largest value of each feature map.",
         example=ex)  # fmt: skip
    size = {"1": 2, "2": [2, 2], "3": [2, 2, 2]}[d]
    for kind in ("Average", "Max"):
        _add(f"Adaptive{kind}Pooling{d}D", "Pooling",
             f"{kind} pooling to a fixed output size, whatever the input size.",
             required={"output_size": size}, key=("output_size",), example=ex)  # fmt: skip


_each("123", _pool)

# ----------------------------------------------------------------- recurrent
_ONE_STATE = ("input", "initial state")
_TWO_STATES = ("input", "initial h", "initial c")
_RNN_KW: dict[str, Any] = {
    "key": ("units", "return_sequences"),
    "example": _SEQ,
    "state_inputs": True,
}
_add("SimpleRNN", "Recurrent", "The plainest recurrent layer: a state updated at each step.",
     required={"units": 16}, inputs=_ONE_STATE, max_inputs=2, **_RNN_KW)  # fmt: skip
_add("LSTM", "Recurrent",
     "Long short-term memory: gates decide what its cell state keeps, across long spans.",
     required={"units": 16}, inputs=_TWO_STATES, max_inputs=3, **_RNN_KW)  # fmt: skip
_add("GRU", "Recurrent", "Gated recurrent unit: a lighter LSTM with two gates and no cell.",
     required={"units": 16}, inputs=_ONE_STATE, max_inputs=2, **_RNN_KW)  # fmt: skip
_CONV_LSTM_EXAMPLE = {"1": ((4, 8, 2),), "2": ((4, 8, 8, 2),), "3": ((2, 4, 4, 4, 1),)}
for _d in "123":
    _add(f"ConvLSTM{_d}D", "Recurrent",
         f"An LSTM whose gates are {_d}-D convolutions: sequences of "
         f"{_ND[_d].split()[-1]}s (video...).",
         required={"filters": 4, "kernel_size": _TUPLE[_d]}, key=("filters", "kernel_size"),
         example=_CONV_LSTM_EXAMPLE[_d], inputs=_TWO_STATES, max_inputs=3,
         state_inputs=True)  # fmt: skip
RNN_TYPES = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
_add("Bidirectional", "Recurrent",
     "Runs a recurrent layer forwards and backwards and merges both (choose the inner layer).",
     required={"layer": {"type": "LSTM", "params": {"units": 16}}},
     key=("merge_mode",), example=_SEQ, inner_layers=RNN_TYPES,
     inputs=("input", *(f"initial state {i}" for i in range(1, 5))), max_inputs=5,
     state_inputs=True)  # fmt: skip

# ----------------------------------------------------------------- attention
_attention("Attention", "Dot-product attention of a query sequence over a value sequence.")
_attention("AdditiveAttention", "Additive (Bahdanau) attention of a query over a value sequence.")
_attention("MultiHeadAttention",
           "Attention heads in parallel: each position looks at every other. Blind to order "
           "unless positions are added to the inputs (Transformer).",
           required={"num_heads": 2, "key_dim": 16}, key=("num_heads", "key_dim"),
           positional_inputs=True)  # fmt: skip
_attention("GroupQueryAttention",
           "Multi-head attention where groups of query heads share key/value heads (LLMs).",
           required={"head_dim": 8, "num_query_heads": 4, "num_key_value_heads": 2},
           key=("num_query_heads", "num_key_value_heads"), positional_inputs=True)  # fmt: skip

# ----------------------------------------------------------------- normalization
_add("BatchNormalization", "Normalization",
     "Normalizes each feature over the batch; speeds up and stabilises training.",
     example=_IMG)  # fmt: skip
_add(
    "LayerNormalization",
    "Normalization",
    "Normalizes each sample over its features (Transformers use it).",
    example=_SEQ,
)
_add("GroupNormalization", "Normalization",
     "Normalizes groups of channels per sample: BatchNormalization for small batches.",
     required={"groups": 4}, key=("groups",), example=((6, 8),))  # fmt: skip
_add("UnitNormalization", "Normalization", "Scales each sample to unit length (L2 norm 1).")
_add(
    "RMSNormalization",
    "Normalization",
    "Divides by the root mean square of the features: a lighter LayerNormalization.",
)
KERNEL_TYPES = (
    "Dense",
    "EinsumDense",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
)
_add("SpectralNormalization", "Normalization",
     "Keeps a layer's kernel at spectral norm 1 (stable GAN discriminators; choose the layer).",
     required={"layer": {"type": "Dense", "params": {"units": 8}}}, key=("power_iterations",),
     inner_layers=KERNEL_TYPES)  # fmt: skip

# ----------------------------------------------------------------- regularization
_add("Dropout", "Regularization",
     "Zeroes a random fraction of inputs while training (scaling up the rest), against "
     "overfitting; passes everything at test time.",
     required={"rate": 0.5}, key=("rate",))  # fmt: skip
for _d in "123":
    _add(f"SpatialDropout{_d}D", "Regularization",
         f"Drops whole feature maps of a {_d}-D convolution while training.",
         required={"rate": 0.2}, key=("rate",), example=_EXAMPLE_BY_DIM[_d])  # fmt: skip
_add("GaussianNoise", "Regularization", "Adds random noise to inputs while training.",
     required={"stddev": 0.1}, key=("stddev",))  # fmt: skip
_add("GaussianDropout", "Regularization", "Multiplies inputs by noise around 1 while training.",
     required={"rate": 0.1}, key=("rate",))  # fmt: skip
_add("AlphaDropout", "Regularization",
     "Dropout that keeps the mean and variance (for SELU networks).",
     required={"rate": 0.1}, key=("rate",))  # fmt: skip
_add(
    "ActivityRegularization",
    "Regularization",
    "Adds an L1/L2 penalty on the activations that pass through it.",
    key=("l1", "l2"),
)

# ----------------------------------------------------------------- reshaping
_add(
    "Flatten",
    "Reshaping",
    "Unrolls a feature map into one long vector, e.g. before a Dense layer.",
    example=_IMG,
)
_add("Reshape", "Reshaping",
     "Rearranges the features of each sample into a new shape with the same size.",
     required={"target_shape": (4, 4)}, key=("target_shape",))  # fmt: skip
_add("Permute", "Reshaping", "Swaps the axes of each sample.",
     required={"dims": (2, 1)}, key=("dims",), example=_SEQ)  # fmt: skip
_add("RepeatVector", "Reshaping", "Repeats a vector n times to make a sequence.",
     required={"n": 4}, key=("n",))  # fmt: skip
for _d in "123":
    _ex = _EXAMPLE_BY_DIM[_d]
    _add(f"Cropping{_d}D", "Reshaping", f"Cuts rows off the borders of {_ND[_d]}.",
         key=("cropping",), example=_ex)  # fmt: skip
    _add(f"ZeroPadding{_d}D", "Reshaping", f"Adds zeros around the borders of {_ND[_d]}.",
         key=("padding",), example=_ex)  # fmt: skip
    _add(f"UpSampling{_d}D", "Reshaping", f"Enlarges {_ND[_d]} by repeating its entries.",
         key=("size",), example=_ex)  # fmt: skip

# ----------------------------------------------------------------- merging
_merge(
    "Add",
    "Adds its inputs element-wise; with a block's own input as one of them, the "
    "join of a residual (skip) connection.",
)
_merge("Subtract", "Subtracts the second input from the first.", max_inputs=2)
_merge("Multiply", "Multiplies its inputs element-wise (gating).")
_merge("Average", "Averages its inputs element-wise (ensembles).")
_merge("Maximum", "Element-wise maximum of its inputs.")
_merge("Minimum", "Element-wise minimum of its inputs.")
_merge("Concatenate", "Joins its inputs side by side along an axis (the last by default).",
       key=("axis",))  # fmt: skip
_merge("Dot", "Dot product of two inputs along the given axes (similarities).", max_inputs=2,
       required={"axes": -1}, key=("axes",), example=((8,), (8,)))  # fmt: skip

# ----------------------------------------------------------------- activations
_add("ReLU", "Activations", "Rectified linear unit: max(0, x).", key=("max_value",))
_add("LeakyReLU", "Activations", "ReLU that lets a small slope through for negative inputs.",
     key=("negative_slope",))  # fmt: skip
_add("PReLU", "Activations", "Leaky ReLU whose negative slope is learned.")
_add("ELU", "Activations", "Exponential linear unit: smooth below zero.", key=("alpha",))
_add("Softmax", "Activations", "Turns scores into probabilities that sum to one.")

# ----------------------------------------------------------------- preprocessing (in-model)
_add("Rescaling", "Preprocessing",
     "Multiplies inputs by a scale and adds an offset, e.g. pixels 0..255 to 0..1.",
     required={"scale": 1.0 / 255.0}, key=("scale",), example=_IMG)  # fmt: skip
_add(
    "Normalization",
    "Preprocessing",
    "Standardises features with a given (or imported) mean and variance.",
    key=("axis",),
)
_add("Discretization", "Preprocessing", "Buckets numbers into bins with given boundaries.",
     required={"bin_boundaries": [0.0, 1.0, 2.0]}, key=("bin_boundaries",))  # fmt: skip
_add(
    "CategoryEncoding",
    "Preprocessing",
    "One-hot or multi-hot encodes integer categories.",
    required={"num_tokens": 10},
    key=("num_tokens", "output_mode"),
    example=((4,),),
)
_add("Resizing", "Preprocessing", "Resizes images to a fixed height and width.",
     required={"height": 16, "width": 16}, key=("height", "width"), example=_IMG)  # fmt: skip
_add("CenterCrop", "Preprocessing", "Crops the centre of images to a fixed size.",
     required={"height": 4, "width": 4}, key=("height", "width"), example=_IMG)  # fmt: skip
_add("StringLookup", "Preprocessing",
     "Maps strings to integer ids by a vocabulary you type (unknown ones to the OOV id 0).",
     required={"vocabulary": ["red", "green", "blue"]}, needs=("vocabulary",),
     key=("output_mode",), example=((1,),), example_dtypes=("string",))  # fmt: skip
_add("IntegerLookup", "Preprocessing",
     "Maps integer categories (ids, codes) to consecutive ids by a vocabulary you type.",
     required={"vocabulary": [10, 20, 30]}, needs=("vocabulary",), key=("output_mode",),
     example=((1,),), example_dtypes=("int64",))  # fmt: skip
_add("Hashing", "Preprocessing",
     "Hashes strings or integers into a fixed number of bins: categories without a vocabulary.",
     required={"num_bins": 16}, key=("num_bins",), example=((1,),),
     example_dtypes=("string",))  # fmt: skip
_add("HashedCrossing", "Preprocessing",
     "Crosses two categorical features (strings or integers) into hashed bins of pairs.",
     required={"num_bins": 16}, key=("num_bins",), inputs=("a", "b"), min_inputs=2,
     max_inputs=2, example=((1,), (1,)), example_dtypes=("string", "int64"))  # fmt: skip
_add("TextVectorization", "Preprocessing",
     "Splits raw text into words and maps them to ids by a vocabulary you type.",
     required={"vocabulary": ["the", "a", "good", "bad"], "output_sequence_length": 8},
     needs=("vocabulary",), key=("output_mode", "output_sequence_length"), example=((1,),),
     example_dtypes=("string",))  # fmt: skip
_add("MelSpectrogram", "Preprocessing", "Turns raw audio into a mel spectrogram.",
     required={"fft_length": 256, "sequence_stride": 128, "num_mel_bins": 32},
     key=("num_mel_bins",), example=((1024,),))  # fmt: skip
_add("STFTSpectrogram", "Preprocessing",
     "Short-time Fourier transform of raw audio (a trainable-free spectrogram).",
     key=("frame_length",), example=((1024, 1),))  # fmt: skip

# ----------------------------------------------------------------- image augmentation
_AUGMENT: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("RandomFlip", "Flips images at random (horizontally and/or vertically).", {}),
    ("RandomRotation", "Rotates images by a random angle.", {"factor": 0.1}),
    ("RandomZoom", "Zooms images in or out at random.", {"height_factor": 0.1}),
    (
        "RandomTranslation",
        "Shifts images at random.",
        {"height_factor": 0.1, "width_factor": 0.1},
    ),
    ("RandomContrast", "Changes image contrast at random.", {"factor": 0.2}),
    ("RandomBrightness", "Changes image brightness at random.", {"factor": 0.2}),
    ("RandomCrop", "Crops a random window of a fixed size.", {"height": 4, "width": 4}),
    ("RandomHue", "Shifts image hue at random.", {"factor": 0.2}),
    ("RandomSaturation", "Changes image saturation at random.", {"factor": 0.2}),
    ("RandomSharpness", "Changes image sharpness at random.", {"factor": 0.2}),
    ("RandomShear", "Shears images at random.", {"x_factor": 0.1}),
    ("RandomGrayscale", "Turns images grey at random.", {}),
    ("RandomInvert", "Inverts image colours at random.", {}),
    ("RandomPosterization", "Reduces the bits per colour channel at random.", {"factor": 4}),
    (
        "RandomColorDegeneration",
        "Blends images with their grey version at random.",
        {"factor": 0.2},
    ),
    ("RandomColorJitter", "Random brightness, contrast, saturation and hue together.", {}),
    ("RandomElasticTransform", "Warps images with a random elastic deformation.", {}),
    ("RandomErasing", "Erases random rectangles of images.", {}),
    ("RandomGaussianBlur", "Blurs images at random.", {}),
    ("RandomPerspective", "Applies a random perspective warp.", {}),
    ("AutoContrast", "Stretches each image's contrast to the full value range.", {}),
    ("Solarization", "Inverts the pixels above a threshold at random.", {}),
    (
        "ContrastLimitedAdaptiveHistogramEqualization",
        "Local histogram equalization with a contrast limit (CLAHE).",
        {},
    ),
    ("AugMix", "Mixes several random augmentation chains of each image.", {}),
    ("RandAugment", "Applies a few random augmentations from a fixed list.", {}),
    ("CutMix", "Pastes patches of other images of the batch (training only).", {}),
    ("MixUp", "Blends images of the batch with each other (training only).", {}),
)
for _name, _text, _req in _AUGMENT:
    _add(_name, "Augmentation", _text + " Active only while training.", required=_req,
         key=tuple(_req), example=_IMG)  # fmt: skip

# ----------------------------------------------------------------- wrapper over time
_add("TimeDistributed", "Recurrent",
     "Applies one layer to every time step of a sequence (choose the inner layer).",
     required={"layer": {"type": "Dense", "params": {"units": 8}}}, example=_SEQ,
     inner_layers=("Dense", "EinsumDense", "Conv1D", "Conv2D", "MaxPooling2D", "Flatten",
                   "GlobalAveragePooling2D", "BatchNormalization", "Dropout", "Embedding",
                   "LayerNormalization", "Activation"))  # fmt: skip

# ----------------------------------------------------------------- blocks
_block("ResidualBlock",
       "Two 3x3 convolutions with batch norm plus a 1x1 shortcut, added (ResNet style).",
       block_library.residual_block(), _IMG)  # fmt: skip
_block("TransformerEncoderBlock",
       "Self-attention and a feed-forward net, each with Add and LayerNormalization "
       "(inputs of width 32; no positional encoding: add one before it for order).",
       block_library.transformer_encoder_block(), ((10, 32),))  # fmt: skip
_block("InceptionBlock", "Parallel 1x1, 3x3, 5x5 and pooling branches, concatenated.",
       block_library.inception_block(), _IMG)  # fmt: skip
_block("SqueezeExcitationBlock",
       "Re-weights the channels of a feature map by learned gates (32 channels).",
       block_library.squeeze_excitation_block(), ((8, 8, 32),))  # fmt: skip
_LAYERS.append(
    LayerInfo(
        BLOCK_TYPE,
        BLOCKS,
        "A group of layers shown as one node; ungroup it to edit the inside.",
        input_names=("input",),
        min_inputs=1,
        max_inputs=VARIADIC,
        required={"graph": {"nodes": [], "edges": [], "outputs": []}},
        advanced=_COMMON_ADVANCED,
        in_palette=False,
    )
)

# ----------------------------------------------------------------- keras.applications' own
# Layers Keras defines inside an application module, not in keras.layers: met when a
# pretrained backbone is imported; never dragged from the palette.
_add("LayerScale", "Core", "Multiplies each channel by a learned factor (ConvNeXt).",
     required={"init_values": 1e-6, "projection_dim": 3}, example=((4, 4, 3),),
     in_palette=False, keras_module="keras.src.applications.convnext")  # fmt: skip
_add("CustomScaleLayer", "Merging",
     "Adds a scaled residual to its shortcut: shortcut + residual * scale (Inception-ResNet).",
     required={"scale": 0.17}, example=((4, 4, 3), (4, 4, 3)), inputs=("inputs",),
     min_inputs=2, max_inputs=2, in_palette=False,
     keras_module="keras.src.applications.inception_resnet_v2")  # fmt: skip

_LAYERS.append(
    LayerInfo(
        OPERATION_TYPE,
        "Core",
        "A keras.ops operation applied to tensors (x + y, ops.mean...), as a model recorded it.",
        input_names=("input",),
        min_inputs=1,
        max_inputs=VARIADIC,
        required={
            "op": {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {}},
            "args": [{"__input__": 0}, {"__input__": 1}],
            "kwargs": {},
        },
        in_palette=False,
    )
)

LAYERS: dict[str, LayerInfo] = {info.type_name: info for info in _LAYERS}


class UnknownLayerError(KeyError):
    """A layer type that DeepCanvas does not offer."""

    def __init__(self, type_name: str, node_name: str | None = None) -> None:
        super().__init__(type_name)
        self.type_name = type_name
        self.node_name = node_name
        """The node of that type, when the type comes from a file."""

    def __str__(self) -> str:
        where = f" (layer '{self.node_name}')" if self.node_name else ""
        return f"unknown layer type {self.type_name!r}{where}"


def example_inputs(info: LayerInfo) -> list[dict[str, Any]]:
    """The parameters of an Input node for each example port: its shape, and its dtype when
    that is not float32."""
    dtypes = info.example_dtypes or ("float32",) * len(info.example_input)
    return [
        {"shape": list(shape), **({"dtype": dtype} if dtype != "float32" else {})}
        for shape, dtype in zip(info.example_input, dtypes, strict=True)
    ]


def layer_info(type_name: str) -> LayerInfo:
    try:
        return LAYERS[type_name]
    except KeyError:
        raise UnknownLayerError(type_name) from None


def layers_by_category() -> dict[str, list[LayerInfo]]:
    """The palette: every offered layer by category (the generic Block is not offered)."""
    grouped: dict[str, list[LayerInfo]] = {c: [] for c in CATEGORIES}
    for info in _LAYERS:
        if info.in_palette:
            grouped[info.category].append(info)
    return grouped
