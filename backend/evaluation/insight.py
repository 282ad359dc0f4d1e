"""Inside the network: activations, saliency, first-layer filters and decision boundaries.

Everything works on one trained Keras model and plain NumPy samples, and returns NumPy:
- `layer_activations(model, sample)`: every layer's output for one sample, through one
  probe model per trained model (`keras.Model(inputs, [layer outputs])`, built once, cached).
- `saliency(model, sample)`: |d score / d input| for the predicted (or a chosen) class.
- `first_layer_filters(model)`: the first Conv or Dense kernel, one small image per unit.
- `decision_grid(model, dataset)`: the model's output over a grid covering 2-D data: one
  batched forward pass, cheap enough to call at every epoch end from the training thread.

Models are called eagerly (`model(x, training=False)`), never through `predict`, so nothing
here builds a `tf.function` or touches `fit`'s state. Keras is imported inside the functions.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.evaluation.attention import AttentionMap, attention_maps
from backend.evaluation.evaluate import CLASSIFICATION, REGRESSION, to_probabilities
from backend.evaluation.neuron import NeuronReadout, single_neuron
from backend.keras_env import import_keras, import_tensorflow

GRID_STEPS = 60
GRID_MARGIN = 0.1


class InsightError(ValueError):
    """A model or sample the insight views cannot work with, with the reason."""


# ----------------------------------------------------------------- activations
@dataclass(frozen=True)
class LayerActivation:
    name: str
    layer_type: str
    values: np.ndarray  # the layer's output for the sample, without the batch axis

    @property
    def is_feature_maps(self) -> bool:
        """(height, width, channels): a convolution's (or pooling's) feature maps."""
        return self.values.ndim == 3

    def feature_maps(self) -> np.ndarray:
        """(channels, height, width), ready to tile."""
        return np.moveaxis(self.values, -1, 0)


class ActivationProbe:
    """A model that returns every layer's output for an input: built once per trained model."""

    def __init__(self, model: Any) -> None:
        keras = import_keras()
        _single_input(model)
        layers, outputs = [], []
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            try:
                output = layer.output  # raises for a layer called more than once
            except (AttributeError, ValueError):
                continue
            if isinstance(output, list | tuple | dict):
                continue
            layers.append(layer)
            outputs.append(output)
        self.layer_names = [layer.name for layer in layers]
        self.layer_types = [type(layer).__name__ for layer in layers]
        self.model = keras.Model(model.inputs[0], outputs) if outputs else None

    def __call__(self, sample: np.ndarray) -> list[LayerActivation]:
        if self.model is None:
            return []
        keras = import_keras()
        values = self.model(_batch_of_one(sample), training=False)
        if not isinstance(values, list | tuple):
            values = [values]
        return [
            LayerActivation(name, kind, np.asarray(keras.ops.convert_to_numpy(v))[0])
            for name, kind, v in zip(self.layer_names, self.layer_types, values, strict=True)
        ]


_probes: weakref.WeakKeyDictionary[Any, ActivationProbe] = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def activation_probe(model: Any) -> ActivationProbe:
    """The cached probe of `model` (built on first use; dropped with the model)."""
    with _probes_lock:
        probe = _probes.get(model)
        if probe is None:
            probe = ActivationProbe(model)
            _probes[model] = probe
        return probe


def layer_activations(model: Any, sample: np.ndarray) -> list[LayerActivation]:
    """Each layer's output for one sample (no batch axis), in the model's layer order."""
    return activation_probe(model)(sample)


# ----------------------------------------------------------------- saliency
@dataclass(frozen=True)
class Saliency:
    values: np.ndarray  # |gradient|, the sample's shape
    class_index: int | None  # the class whose score was differentiated (None: regression)

    @property
    def image(self) -> np.ndarray:
        """A 2-D map for an image sample: the largest gradient over its channels."""
        if self.values.ndim == 3:
            return np.asarray(self.values.max(axis=-1))
        return self.values


def saliency(
    model: Any,
    sample: np.ndarray,
    class_index: int | None = None,
    output_index: int = 0,
    classifier: bool | None = None,
) -> Saliency:
    """Input gradients of the chosen (default: predicted) class score for one sample.

    `classifier` says whether the output holds class scores; by default a softmax or sigmoid
    output does. For a regression output, the gradient is of the sum of the predictions.
    """
    if classifier is None:
        classifier = _is_classifier(model, output_index)
    tf = import_tensorflow()
    _single_input(model)
    x = tf.convert_to_tensor(_batch_of_one(sample))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        if isinstance(out, dict):
            out = out[model.output_names[output_index]]
        elif isinstance(out, list | tuple):
            out = out[output_index]
        out = tf.reshape(out, (1, -1))
        score, chosen = _score(tf, out, class_index, classifier)
    gradient = tape.gradient(score, x)
    if gradient is None:
        raise InsightError("the model's output does not depend on its input through gradients")
    return Saliency(np.abs(np.asarray(gradient.numpy())[0]), chosen)


def _score(tf: Any, out: Any, class_index: int | None, classifier: bool) -> tuple[Any, int | None]:
    if not classifier:
        return tf.reduce_sum(out[0]), None
    units = int(out.shape[-1])
    if units == 1:  # sigmoid: class 1 is the unit, class 0 its complement
        p = float(out[0, 0].numpy())
        chosen = class_index if class_index is not None else int(p >= 0.5)
        return (out[0, 0] if chosen == 1 else -out[0, 0]), chosen
    chosen = class_index if class_index is not None else int(tf.argmax(out[0]).numpy())
    if not 0 <= chosen < units:
        raise InsightError(f"class {chosen} does not exist: the output has {units} units")
    return out[0, chosen], chosen


def _is_classifier(model: Any, output_index: int) -> bool:
    """Softmax or sigmoid on the output layer means class scores; anything else a value."""
    name = model.output_names[output_index]
    try:
        layer = model.get_layer(name)
    except ValueError:
        return False
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    return activation in ("softmax", "sigmoid")


# ----------------------------------------------------------------- filters
@dataclass(frozen=True)
class FirstLayerFilters:
    layer_name: str
    layer_type: str
    images: np.ndarray  # (units, height, width) or (units, height, width, 3) for RGB kernels


def first_layer_filters(model: Any) -> FirstLayerFilters | None:
    """The learned kernel of the first Conv or Dense layer, one image per filter or unit."""
    input_shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else ()
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        weights = np.asarray(kernel.numpy())
        images = _kernel_images(weights, input_shape)
        if images is not None:
            return FirstLayerFilters(layer.name, type(layer).__name__, images)
    return None


def _kernel_images(kernel: np.ndarray, input_shape: tuple[Any, ...]) -> np.ndarray | None:
    if kernel.ndim == 4:  # Conv2D: (kh, kw, in, out)
        maps = np.moveaxis(kernel, -1, 0)
        return maps if maps.shape[-1] == 3 else maps.mean(axis=-1)
    if kernel.ndim == 3:  # Conv1D: (k, in, out) -> one (k, in) image per filter
        return np.moveaxis(kernel, -1, 0)
    if kernel.ndim != 2:
        return None
    units = kernel.T  # Dense: (in, units) -> one weight vector per unit
    image_like = len(input_shape) in (2, 3) and None not in input_shape
    if image_like and math.prod(input_shape) == kernel.shape[0]:  # a Dense right after Flatten
        maps = units.reshape(len(units), *input_shape)
        if maps.ndim == 4:
            maps = maps if maps.shape[-1] == 3 else maps.mean(axis=-1)
        return maps
    return units[:, None, :]


def tile(images: np.ndarray, columns: int | None = None, normalise: bool = True) -> np.ndarray:
    """A mosaic of (n, h, w[, 3]) images, one pixel of NaN between them, each scaled to [0, 1]."""
    images = np.asarray(images, dtype="float32")
    n, h, w = images.shape[:3]
    cols = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, *images.shape[3:]), np.nan, "float32")
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        if normalise:
            low, high = float(np.min(image)), float(np.max(image))
            image = (image - low) / (high - low) if high > low else np.zeros_like(image)
        mosaic[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = image
    return mosaic


# ----------------------------------------------------------------- everything about one sample
@dataclass(frozen=True)
class SampleInsight:
    index: int
    activations: list[LayerActivation]
    saliency: Saliency | None  # None where the input has no gradient (token ids)
    filters: FirstLayerFilters | None
    attention: list[AttentionMap] = field(default_factory=list)
    """The scores of each MultiHeadAttention layer (none without one)."""


def inspect_sample(
    model: Any,
    sample: np.ndarray,
    index: int = -1,
    classifier: bool | None = None,
    vocabulary: Sequence[str] = (),
) -> SampleInsight:
    """Activations, saliency, first-layer filters and attention for one sample, in one call;
    `vocabulary` names token ids on the attention maps (the dataset's `vocabulary`)."""
    return SampleInsight(
        index,
        layer_activations(model, sample),
        _saliency_if_any(model, sample, classifier),
        first_layer_filters(model),
        attention_maps(model, sample, vocabulary),
    )


def _saliency_if_any(model: Any, sample: np.ndarray, classifier: bool | None) -> Saliency | None:
    """Saliency, or None for an input that has no gradient (integer token ids)."""
    if np.issubdtype(np.asarray(sample).dtype, np.integer):
        return None
    return saliency(model, sample, classifier=classifier)


# ----------------------------------------------------------------- decision boundary
@dataclass(frozen=True)
class DecisionGrid:
    """The model's output over a grid: `values[iy, ix]` is its output at (xs[ix], ys[iy]).

    Classification: `values` holds class probabilities (steps, steps, classes); regression:
    the predicted value (steps, steps, 1). A model with several outputs (side-by-side networks)
    has every head's values in `by_head`; `values` are those of `head`, the first.
    """

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    task: str
    neuron: NeuronReadout | None = None
    """The model's weights and bias when it is a single neuron (drawn over the grid)."""
    head: str = ""
    """The output these values are of, when the model has several."""
    by_head: dict[str, np.ndarray] = field(default_factory=dict)
    """Every output head's values by name, when the model has several (from one pass)."""

    def for_head(self, name: str) -> DecisionGrid:
        """The same grid with the values of output `name` (itself when it has no such head)."""
        if name not in self.by_head or name == self.head:
            return self
        return replace(self, values=self.by_head[name], head=name)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])


def supports_decision_grid(dataset: Dataset) -> bool:
    """2-D points held in memory: the case a decision boundary can be drawn for."""
    return dataset.stream is None and dataset.input_shape == (2,)


def data_bounds(dataset: Dataset, margin: float = GRID_MARGIN) -> tuple[float, ...]:
    """(x_min, x_max, y_min, y_max) over all splits, widened by `margin` of the range."""
    points = np.concatenate([dataset.x_train, dataset.x_val, dataset.x_test]).reshape(-1, 2)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * margin, 1e-3)
    low, high = low - pad, high + pad
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def decision_grid(model: Any, dataset: Dataset, steps: int = GRID_STEPS) -> DecisionGrid:
    """The model's first output on a steps x steps grid over the data: one forward pass."""
    if not supports_decision_grid(dataset):
        raise InsightError(
            f"a decision boundary needs 2-D points; {dataset.name!r} has samples of shape "
            f"{dataset.input_shape}"
        )
    keras = import_keras()
    x0, x1, y0, y1 = data_bounds(dataset)
    xs = np.linspace(x0, x1, steps, dtype="float32")
    ys = np.linspace(y0, y1, steps, dtype="float32")
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    out = model(grid, training=False)
    if isinstance(out, dict):
        names, outputs = [str(name) for name in out], list(out.values())
    else:
        outputs = list(out) if isinstance(out, list | tuple) else [out]
        names = [str(name) for name in getattr(model, "output_names", None) or []]
        if len(names) != len(outputs):
            names = [f"output {i + 1}" for i in range(len(outputs))]
    task = CLASSIFICATION if dataset.task == CLASSIFICATION else REGRESSION
    heads = {}
    for name, output in zip(names, outputs, strict=True):
        values = np.asarray(keras.ops.convert_to_numpy(output)).reshape(len(grid), -1)
        if task == CLASSIFICATION:
            values = to_probabilities(values).astype("float32")
        else:
            values = values[:, :1]
        heads[name] = values.reshape(steps, steps, -1)
    first = names[0]
    neuron = single_neuron(model, dataset.feature_names)
    if len(heads) == 1:
        return DecisionGrid(xs, ys, heads[first], task, neuron)
    return DecisionGrid(xs, ys, heads[first], task, neuron, first, heads)


# ----------------------------------------------------------------- helpers
def _single_input(model: Any) -> None:
    if len(model.inputs) != 1:
        raise InsightError(f"the model has {len(model.inputs)} inputs; insight needs one")


def _batch_of_one(sample: np.ndarray) -> np.ndarray:
    values = np.asarray(sample)
    integer = np.issubdtype(values.dtype, np.integer)  # token ids stay ids
    return (values if integer else values.astype("float32"))[None, ...]
