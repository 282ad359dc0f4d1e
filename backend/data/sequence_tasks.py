"""Sequence tasks that need the idea they teach: memory for recurrent layers, order for
attention. Each is seeded, small and generated in milliseconds.

- delayed recall: the symbol shown at the first step, after many steps of distractors. A
  model that only sees the last steps is at chance; it must carry the symbol forward.
- a pattern before another: whether marker A came before marker B. Seeing both is not
  enough; the model must remember which it saw first.
- the adding problem (Hochreiter and Schmidhuber, 1997): two of the numbers are marked;
  is their sum above 1? Remembering one gets 75%; both are needed for more.
- token order: the same question on word-like tokens, for a Transformer. Self-attention
  with pooling is blind to order, so it stays at chance until it is given positions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.data.base import CLASSIFICATION, ParamSpec
from backend.data.builtin import Arrays

SYMBOLS = ["A", "B", "C", "D"]
TOKEN_START, TOKEN_A, TOKEN_B = 0, 1, 2  # in token sequences; 3.. are filler words
TOKEN_NAMES = ("<s>", "A", "B")
"""How the start token, A and B read (on the attention heatmap's axes); filler word i reads
"w<i>"."""


def samples_param(default: int) -> ParamSpec:
    return ParamSpec("samples", "Samples", default, "int", 20, 200_000)


def steps_param(default: int, minimum: int = 4) -> ParamSpec:
    return ParamSpec("timesteps", "Timesteps", default, "int", minimum, 512)


SEED = ParamSpec("seed", "Seed", 0, "int", 0, 2**31 - 1, help="same seed, same data")

RECALL_PARAMS = (samples_param(2000), steps_param(12), SEED)
ORDER_PARAMS = (samples_param(2000), steps_param(16), SEED)
ADDING_PARAMS = (samples_param(2000), steps_param(16), SEED)
TOKEN_PARAMS = (
    samples_param(2000),
    steps_param(12),
    ParamSpec("vocabulary", "Vocabulary size", 10, "int", 4, 10_000, help="tokens 0..size-1"),
    SEED,
)


def _sizes(params: dict[str, Any], minimum_steps: int) -> tuple[np.random.Generator, int, int]:
    n, steps = int(params["samples"]), int(params["timesteps"])
    if n < 1 or steps < minimum_steps:
        raise ValueError(f"samples must be at least 1 and timesteps at least {minimum_steps}")
    return np.random.default_rng(params["seed"]), n, steps


def delayed_recall(params: dict[str, Any]) -> Arrays:
    """One-hot symbols, one per step; the class is the symbol of the first step."""
    rng, n, steps = _sizes(params, 2)
    symbols = rng.integers(0, len(SYMBOLS), size=(n, steps))
    x = np.eye(len(SYMBOLS), dtype="float32")[symbols]  # (n, steps, 4)
    return x, symbols[:, 0].astype("int64"), list(SYMBOLS), CLASSIFICATION


def _two_positions(rng: np.random.Generator, n: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Two different positions per sample, in random order."""
    first = rng.integers(0, steps, size=n)
    second = (first + rng.integers(1, steps, size=n)) % steps
    return first, second


def pattern_order(params: dict[str, Any]) -> Arrays:
    """Noise on three channels; a spike on channel 1 (A) and on channel 2 (B) at two random
    steps. The class is whether A came first."""
    rng, n, steps = _sizes(params, 3)
    a, b = _two_positions(rng, n, steps)
    x = rng.normal(0.0, 0.25, size=(n, steps, 3)).astype("float32")
    rows = np.arange(n)
    x[rows, a, 1] += 1.5
    x[rows, b, 2] += 1.5
    return x, (a < b).astype("int64"), ["B first", "A first"], CLASSIFICATION


def adding_problem(params: dict[str, Any]) -> Arrays:
    """Channel 0: numbers in [0, 1]; channel 1 marks two of them, one in each half. The class
    is whether the two marked numbers add up to more than 1."""
    rng, n, steps = _sizes(params, 4)
    half = steps // 2
    values = rng.uniform(0.0, 1.0, size=(n, steps))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, steps, size=n)
    marks = np.zeros((n, steps))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=-1).astype("float32")
    total = values[rows, first] + values[rows, second]
    return x, (total > 1.0).astype("int64"), ["sum <= 1", "sum > 1"], CLASSIFICATION


def token_order(params: dict[str, Any]) -> Arrays:
    """Token ids: a start token (0, "<s>"), then filler words ("w3"...) with token 1 (A) and
    token 2 (B) once each. The class is whether A came first: the same tokens in another
    order can change the answer. The vocabulary names each id."""
    rng, n, steps = _sizes(params, 3)
    vocabulary = int(params["vocabulary"])
    if vocabulary < 4:
        raise ValueError(f"the vocabulary needs at least 4 tokens, got {vocabulary}")
    x = rng.integers(3, vocabulary, size=(n, steps))
    a, b = _two_positions(rng, n, steps - 1)
    a, b = a + 1, b + 1  # step 0 holds the start token: the place a classifier reads from
    rows = np.arange(n)
    x[:, 0] = TOKEN_START
    x[rows, a] = TOKEN_A
    x[rows, b] = TOKEN_B
    names = ["B first", "A first"]
    return x.astype("int32"), (a < b).astype("int64"), names, CLASSIFICATION, [], tokens(vocabulary)


def tokens(size: int) -> list[str]:
    """The name of each token id of a token-order vocabulary of `size` tokens."""
    return [*TOKEN_NAMES, *(f"w{i}" for i in range(len(TOKEN_NAMES), size))]
