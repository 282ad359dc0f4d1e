"""Keras' downloadable datasets, read from the Keras cache and never downloaded here.

`keras.datasets.*.load_data()` downloads a missing file (and re-downloads one whose hash does
not match), which would hang or fail without a network. So this module finds the cached files
itself, under `$KERAS_HOME/datasets` (else `~/.keras/datasets`, or `/tmp/.keras/datasets` where
Keras falls back to), and reads them with the same formats Keras uses. A missing file is a
`DatasetError` that says how to fetch it once.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import (
    CLASSIFICATION,
    REGRESSION,
    Dataset,
    DatasetError,
    ParamSpec,
    SplitSettings,
    split_arrays,
)
from backend.data.safe_arrays import load_npz, restricted_load

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip

TEXT_PARAMS = (
    ParamSpec("num_words", "Vocabulary (most frequent words)", 10_000, "int", 10, 100_000),
    ParamSpec("maxlen", "Sequence length", 200, "int", 8, 4_000, help="padded or cut, at the end"),
)


def cache_roots() -> list[Path]:
    explicit = os.environ.get("KERAS_HOME")
    if explicit:
        return [Path(explicit) / "datasets"]
    return [Path.home() / ".keras" / "datasets", Path("/tmp/.keras/datasets")]


def _find(relative_options: list[str]) -> Path | None:
    for root in cache_roots():
        for relative in relative_options:
            candidate = root / relative
            if candidate.exists():
                return candidate
    return None


def _missing(name: str, relative: str) -> DatasetError:
    where = cache_roots()[0] / relative
    return DatasetError(
        f"{name} is not in the Keras cache (looked for {where}). It needs one download with a "
        f'network, e.g. python -c "import keras; keras.datasets.{name}.load_data()"; after that '
        "it loads offline. DeepCanvas never downloads data by itself."
    )


def is_cached(name: str) -> bool:
    return _find(CACHE_FILES[name]) is not None


def _locate(name: str) -> Path:
    found = _find(CACHE_FILES[name])
    if found is None:
        raise _missing(name, CACHE_FILES[name][0])
    return found


# ----------------------------------------------------------------- readers
def _images(x: np.ndarray) -> np.ndarray:
    x = x.astype("float32") / 255.0
    return x[..., None] if x.ndim == 3 else x


def _mnist(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    f = load_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    return _images(f["x_train"]), f["y_train"], _images(f["x_test"]), f["y_test"]


def _fashion(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    def read(name: str, offset: int) -> np.ndarray:
        try:
            with gzip.open(path / name, "rb") as handle:
                return np.frombuffer(handle.read(), np.uint8, offset=offset)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{path / name}: not a readable gzip file ({exc})") from exc

    y_train = read("train-labels-idx1-ubyte.gz", 8)
    x_train = read("train-images-idx3-ubyte.gz", 16).reshape(len(y_train), 28, 28)
    y_test = read("t10k-labels-idx1-ubyte.gz", 8)
    x_test = read("t10k-images-idx3-ubyte.gz", 16).reshape(len(y_test), 28, 28)
    return _images(x_train), y_train, _images(x_test), y_test


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            batch = restricted_load(handle, str(path))
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[label_key.encode()], dtype=np.int64)
    except DatasetError:
        raise
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: not a CIFAR batch ({exc})") from exc
    return data.transpose(0, 2, 3, 1), labels


def _cifar10(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    parts = [_cifar_batch(path / f"data_batch_{i}", "labels") for i in range(1, 6)]
    x_test, y_test = _cifar_batch(path / "test_batch", "labels")
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return _images(x_train), y_train, _images(x_test), y_test


def _cifar100(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x_train, y_train = _cifar_batch(path / "train", "fine_labels")
    x_test, y_test = _cifar_batch(path / "test", "fine_labels")
    return _images(x_train), y_train, _images(x_test), y_test


def _sequences(xs: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Keras' conventions (1 = start, 2 = out of vocabulary, words from 3), padded at the front."""
    num_words, maxlen = int(params["num_words"]), int(params["maxlen"])
    out = np.zeros((len(xs), maxlen), dtype="int32")
    for i, seq in enumerate(xs):
        words = np.asarray(seq, dtype="int64") + 3
        words = np.concatenate([[1], np.where(words < num_words, words, 2)])[-maxlen:]
        out[i, maxlen - len(words) :] = words
    return out


def _imdb(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    f = load_npz(path, ["x_train", "y_train", "x_test", "y_test"], allow_objects=True)
    x_train, x_test = _sequences(f["x_train"], params), _sequences(f["x_test"], params)
    return x_train, f["y_train"], x_test, f["y_test"]


def _holdout(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keras' fixed test split for Reuters and Boston housing: shuffled with seed 113, 20%."""
    order = np.random.RandomState(113).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(len(x) * 0.8)
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _reuters(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    f = load_npz(path, ["x", "y"], allow_objects=True)
    return _holdout(_sequences(f["x"], params), np.asarray(f["y"]))


def _boston(path: Path, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    f = load_npz(path, ["x", "y"])
    x_train, y_train, x_test, y_test = _holdout(f["x"].astype("float32"), f["y"])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-7
    y_train, y_test = y_train.astype("float32")[:, None], y_test.astype("float32")[:, None]
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


Reader = Callable[[Path, dict[str, Any]], tuple[np.ndarray, ...]]

CACHE_FILES: dict[str, list[str]] = {
    "mnist": ["mnist.npz"],
    "fashion_mnist": ["fashion-mnist"],
    "cifar10": ["cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"],
    "cifar100": ["cifar-100-python-target/cifar-100-python", "cifar-100-python"],
    "imdb": ["imdb.npz"],
    "reuters": ["reuters.npz"],
    "boston_housing": ["boston_housing.npz"],
}
READERS: dict[str, tuple[Reader, str, list[str] | None]] = {
    "mnist": (_mnist, CLASSIFICATION, [str(i) for i in range(10)]),
    "fashion_mnist": (_fashion, CLASSIFICATION, FASHION_CLASSES),
    "cifar10": (_cifar10, CLASSIFICATION, CIFAR10_CLASSES),
    "cifar100": (_cifar100, CLASSIFICATION, None),
    "imdb": (_imdb, CLASSIFICATION, ["negative", "positive"]),
    "reuters": (_reuters, CLASSIFICATION, None),
    "boston_housing": (_boston, REGRESSION, []),
}


def load_cached(name: str, params: dict[str, Any], split: SplitSettings) -> Dataset:
    """The cached dataset with Keras' own test set; validation is split from training."""
    reader, task, class_names = READERS[name]
    x_train, y_train, x_test, y_test = reader(_locate(name), params)
    if task == CLASSIFICATION:
        y_train = np.asarray(y_train).reshape(-1).astype("int64")
        y_test = np.asarray(y_test).reshape(-1).astype("int64")
        if class_names is None:
            count = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
            class_names = [str(i) for i in range(count)]
    without_test = SplitSettings(split.val_fraction, 0.0, split.seed)
    train = split_arrays(name, x_train, y_train, task, without_test, class_names)
    train.x_test, train.y_test = x_test, y_test
    train.notes.append(f"test set: Keras' own ({len(x_test):,} samples)")
    return train
