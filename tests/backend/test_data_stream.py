"""Big files stream through tf.data: same rows as in memory, batched, and they train."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset, images, load_dataset, split_indices, tabular
from backend.data.base import split_membership
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.training.trainer import TrainBegin, Trainer
from tests.backend.test_data_files import make_folder


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("stream") / "table.csv"
    lines = ["a,b,colour,label"]
    for i in range(600):
        a, b = rng.normal(size=2)
        colour = "" if i % 97 == 5 else str(rng.choice(["red", "green", "blue"]))
        lines.append(f"{a:.4f},{b:.4f},{colour},{'up' if a + b > 0 else 'down'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_both(
    path: Path, monkeypatch: pytest.MonkeyPatch, **params: Any
) -> tuple[Dataset, Dataset]:
    settings = {"path": str(path), "missing": "fill", **params}
    in_memory = load_dataset("csv", settings, 0.2, 0.1, seed=4)
    monkeypatch.setattr(tabular, "STREAM_ABOVE_BYTES", 0)
    streamed = load_dataset("csv", settings, 0.2, 0.1, seed=4)
    return in_memory, streamed


def rows(batches: Any) -> np.ndarray:
    x = np.concatenate([np.asarray(xb) for xb, _yb in batches])
    return x[np.lexsort(x.T[::-1])]


def test_a_streamed_table_has_the_same_split_and_encoding(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory, streamed = load_both(table, monkeypatch)
    assert streamed.stream is not None and in_memory.stream is None
    assert streamed.x_train.shape == (0, 5) and streamed.input_shape == in_memory.input_shape
    assert streamed.feature_names == in_memory.feature_names
    for split in ("train", "val", "test"):
        assert streamed.size(split) == in_memory.size(split)
        x_memory, _y = in_memory.data(split, 32)
        pipeline = streamed.data(split, 32)
        assert int(pipeline.cardinality()) == math.ceil(streamed.size(split) / 32)
        np.testing.assert_allclose(rows(pipeline), rows([(x_memory, None)]), rtol=1e-6)


def test_a_streamed_table_trains(table: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _memory, streamed = load_both(table, monkeypatch)
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [5]}).id,
        graph.add_node("Dense", {"units": 8, "activation": "relu"}).id,
        graph.add_node("Dense", {"units": 1, "activation": "sigmoid"}).id,
    ]
    graph.connect(ids[0], ids[1])
    graph.connect(ids[1], ids[2])
    events: list[Any] = []
    config = TrainingConfig(epochs=2, batch_size=50, learning_rate=0.01)  # 9 steps an epoch
    result = Trainer(graph, streamed, config, events.append).run()
    assert result.status == "completed", result.message
    begin = next(e for e in events if isinstance(e, TrainBegin))
    assert begin.steps_per_epoch == math.ceil(streamed.size("train") / 50)
    assert len(result.history["val_loss"]) == 2
    assert result.history["accuracy"][-1] > 0.6


def test_a_big_image_folder_streams_and_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path / "pics", {"bright": 12, "dark": 12}, size=6)
    monkeypatch.setattr(images, "IN_MEMORY_IMAGES", 0)
    monkeypatch.setattr(images, "CACHE_BYTES", 0)  # also the no-cache path
    data = load_dataset("image_folder", {"path": str(folder), "height": 6, "width": 6}, 0.25, 0.0)
    assert data.stream is not None and data.input_shape == (6, 6, 3)
    x, _y = next(iter(data.data("train", 4)))
    assert tuple(x.shape) == (4, 6, 6, 3) and float(np.max(x)) <= 1.0
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [6, 6, 3]}).id,
        graph.add_node("Flatten", {}).id,
        graph.add_node("Dense", {"units": 2, "activation": "softmax"}).id,
    ]
    graph.connect(ids[0], ids[1])
    graph.connect(ids[1], ids[2])
    result = Trainer(graph, data, TrainingConfig(epochs=1, batch_size=6)).run()
    assert result.status == "completed", result.message
    assert "val_loss" in result.history


@pytest.mark.parametrize("stratified", [True, False])
def test_the_lean_membership_of_big_files_is_the_same_split(stratified: bool) -> None:
    labels = np.random.default_rng(0).integers(0, 3, 1001) if stratified else None
    train, val, test = split_indices(1001, 0.2, 0.1, 7, labels)
    membership = split_membership(1001, 0.2, 0.1, 7, labels)
    assert membership.dtype == np.uint8
    for code, idx in enumerate((train, val, test)):
        np.testing.assert_array_equal(np.flatnonzero(membership == code), np.sort(idx))
