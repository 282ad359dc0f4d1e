"""Where attention looks: the scores of every MultiHeadAttention layer for one sample.

For each attention layer, a small model computes the tensors the layer was called with
(query, value, key), then the layer itself is called on them again with
`return_attention_scores=True`: the very weights of the trained layer, with no change to the
model. Scores are (heads, queries, keys); each row sums to one (the softmax over the keys).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.keras_bridge.model_inputs import as_declared, declared_inputs
from backend.keras_env import import_keras


@dataclass(frozen=True)
class AttentionMap:
    layer_name: str
    scores: np.ndarray  # (heads, queries, keys)
    query_labels: list[str]  # what each query position holds (its token, else its number)
    key_labels: list[str]

    @property
    def heads(self) -> int:
        return int(self.scores.shape[0])

    def mean(self) -> np.ndarray:
        """The scores averaged over the heads: (queries, keys)."""
        return np.asarray(self.scores.mean(axis=0))


class _AttentionProbe:
    """For each attention layer: a model giving the tensors it was called with."""

    def __init__(self, model: Any) -> None:
        keras = import_keras()
        self.layers = []
        for layer in model.layers:
            if not isinstance(layer, keras.layers.MultiHeadAttention) or not layer._inbound_nodes:
                continue
            node = layer._inbound_nodes[0]
            tensors = list(node.input_tensors)
            feeder = keras.Model(declared_inputs(model), tensors)
            self.layers.append((layer, node, tensors, feeder))

    def __call__(self, sample: np.ndarray, vocabulary: Sequence[str]) -> list[AttentionMap]:
        keras = import_keras()
        batch = np.asarray(sample)[None, ...]
        labels = _labels(sample, vocabulary)
        maps = []
        for layer, node, tensors, feeder in self.layers:
            values = feeder(as_declared(feeder, batch), training=False)
            values = values if isinstance(values, list | tuple) else [values]
            args, kwargs = node.arguments.fill_in(
                {id(t): v for t, v in zip(tensors, values, strict=True)}
            )
            kwargs = {**kwargs, "return_attention_scores": True, "training": False}
            _, scores = layer(*args, **kwargs)
            scores = np.asarray(keras.ops.convert_to_numpy(scores))[0]
            queries, keys = scores.shape[-2:]
            maps.append(
                AttentionMap(
                    layer.name,
                    scores,
                    labels if len(labels) == queries else _positions(queries),
                    labels if len(labels) == keys else _positions(keys),
                )
            )
        return maps


_probes: weakref.WeakKeyDictionary[Any, _AttentionProbe] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def attention_maps(
    model: Any, sample: np.ndarray, vocabulary: Sequence[str] = ()
) -> list[AttentionMap]:
    """The attention scores of each MultiHeadAttention layer of `model` for one sample
    (none when it has no attention layer, or several inputs). Positions holding token ids are
    labelled by `vocabulary` (the dataset's: "<s>", "A", "B"...), else by their id."""
    if len(model.inputs) != 1:
        return []
    with _lock:
        probe = _probes.get(model)
        if probe is None:
            probe = _probes[model] = _AttentionProbe(model)
    return probe(sample, vocabulary)


def _labels(sample: np.ndarray, vocabulary: Sequence[str]) -> list[str]:
    """The tokens of a sequence of integer ids (named by the vocabulary where it names
    them, else the ids); else the step numbers."""
    values = np.asarray(sample)
    if values.ndim == 1 and np.issubdtype(values.dtype, np.integer):
        return [_token(int(v), vocabulary) for v in values]
    return _positions(len(values))


def _token(token_id: int, vocabulary: Sequence[str]) -> str:
    return vocabulary[token_id] if 0 <= token_id < len(vocabulary) else str(token_id)


def _positions(count: int) -> list[str]:
    return [str(i + 1) for i in range(count)]
