"""Keras' downloadable datasets: read from the cache when there, a clear message when not,
and never a download or a network connection at run time."""

from __future__ import annotations

import gzip
import pickle
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import DatasetError, load_dataset
from backend.data.registry import DATASETS, KERAS, is_available

KERAS_SETS = [n for n, info in DATASETS.items() if info.kind == KERAS]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras cache, and no network: any connection attempt fails the test."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    folder = tmp_path / "keras" / "datasets"
    folder.mkdir(parents=True)
    return folder


def test_the_keras_datasets_are_listed() -> None:
    assert set(KERAS_SETS) == {
        "mnist",
        "fashion_mnist",
        "cifar10",
        "cifar100",
        "imdb",
        "reuters",
        "boston_housing",
    }


@pytest.mark.parametrize("name", KERAS_SETS)
def test_a_missing_cache_file_says_it_needs_one_download(cache: Path, name: str) -> None:
    assert not is_available(name)
    with pytest.raises(DatasetError) as caught:
        load_dataset(name)
    message = str(caught.value)
    assert f"{name} is not in the Keras cache" in message
    assert str(cache) in message and "one download with a network" in message


def test_cached_mnist_loads_with_its_own_test_set(cache: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        cache / "mnist.npz",
        x_train=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
        y_train=np.arange(60) % 10,
        x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_test=np.arange(20) % 10,
    )
    assert is_available("mnist")
    data = load_dataset("mnist", val_fraction=0.2)
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert (data.size("train"), data.size("val"), data.size("test")) == (
        50,
        10,
        20,
    )  # 6 per class, a fifth each
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    np.testing.assert_array_equal(data.y_test, np.arange(20) % 10)


def test_cached_fashion_mnist_reads_the_gzip_files(cache: Path) -> None:
    folder = cache / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 30), ("t10k", 10)):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(bytes(8) + bytes(i % 10 for i in range(n)))
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(bytes(16) + bytes(n * 28 * 28))
    data = load_dataset("fashion_mnist", val_fraction=0.0)
    assert data.size("train") == 30 and data.size("test") == 10
    assert data.class_names[9] == "Ankle boot"


def _cifar_batch(n: int) -> dict[bytes, Any]:
    return {
        b"data": np.arange(n * 3072, dtype=np.uint32).astype(np.uint8).reshape(n, 3072),
        b"labels": [i % 10 for i in range(n)],
    }


def test_cached_cifar10_batches_load_channels_last(cache: Path) -> None:
    folder = cache / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(_cifar_batch(10)))
    data = load_dataset("cifar10", val_fraction=0.2)
    assert data.input_shape == (32, 32, 3)
    assert data.size("train") + data.size("val") == 50 and data.size("test") == 10
    assert data.class_names[0] == "airplane"


class _Exploit:
    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.target),))

    def __init__(self, target: Path) -> None:
        self.target = str(target)


def test_a_tampered_cache_file_is_refused_without_running_it(cache: Path, tmp_path: Path) -> None:
    folder = cache / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "pwned"
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": _Exploit(marker)}))
    with pytest.raises(DatasetError, match="not a plain array file"):
        load_dataset("cifar10")
    assert not marker.exists()


def test_cached_imdb_sequences_are_padded_like_keras(cache: Path) -> None:
    ragged = np.empty(4, dtype=object)
    for i, seq in enumerate([[5, 6], [7, 20000], [1, 2, 3, 4, 5, 6], [9]]):
        ragged[i] = list(seq)
    np.savez(
        cache / "imdb.npz",
        x_train=ragged,
        y_train=np.array([0, 1, 0, 1]),
        x_test=ragged[:2],
        y_test=np.array([1, 0]),
    )
    data = load_dataset("imdb", {"num_words": 100, "maxlen": 4}, val_fraction=0.0)
    assert data.input_shape == (4,)
    rows = {tuple(r) for r in data.x_train.tolist()}
    assert (0, 1, 8, 9) in rows  # padded at the front, start mark 1, words shifted by 3
    assert (0, 0, 1, 12) in rows and (0, 1, 10, 2) in rows  # 20000: out of vocabulary
    assert (6, 7, 8, 9) in rows  # a long review keeps its end


def test_cached_boston_housing_is_regression(cache: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(cache / "boston_housing.npz", x=rng.normal(size=(50, 13)), y=rng.normal(size=50))
    data = load_dataset("boston_housing", val_fraction=0.1)
    assert data.task == "regression" and data.target_shape == (1,)
    assert data.size("test") == 10
