"""Built-in and generated datasets: shapes, tasks, seeds, sizes, stratified splits."""

from __future__ import annotations

import numpy as np
import pytest

from backend.data import DatasetError, builtin, load_dataset
from backend.data.registry import BUILTIN, DATASETS, GENERATED

OFFLINE = [n for n, info in DATASETS.items() if info.kind in (BUILTIN, GENERATED)]
EXPECTED = {
    "digits": ((8, 8, 1), "classification", 10),
    "iris": ((4,), "classification", 3),
    "wine": ((13,), "classification", 3),
    "breast_cancer": ((30,), "classification", 2),
    "diabetes": ((10,), "regression", 0),
    "moons": ((2,), "classification", 2),
    "circles": ((2,), "classification", 2),
    "xor": ((2,), "classification", 2),
    "spirals": ((2,), "classification", 2),
    "sine": ((24, 1), "regression", 0),
    "trend_sequences": ((20, 2), "classification", 2),
    "shapes": ((16, 16, 1), "classification", 4),
    "blobs": ((2,), "classification", 2),
    "delayed_recall": ((12, 4), "classification", 4),
    "pattern_order": ((16, 3), "classification", 2),
    "adding_problem": ((16, 2), "classification", 2),
    "token_order": ((12,), "classification", 2),
}


def test_every_offline_source_is_expected() -> None:
    assert sorted(OFFLINE) == sorted(EXPECTED)


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_sources_load_split_and_stratify(name: str) -> None:
    data = load_dataset(name, val_fraction=0.2, test_fraction=0.1, seed=5)
    shape, task, classes = EXPECTED[name]
    assert (data.input_shape, data.task, data.num_classes) == (shape, task, classes)
    total = data.size("train") + data.size("val") + data.size("test")
    assert abs(data.size("val") - 0.2 * total) <= classes + 1
    assert np.all(np.isfinite(data.x_train))
    if task == "classification":
        train_share = np.bincount(data.y_train, minlength=classes) / data.size("train")
        val_share = np.bincount(data.y_val, minlength=classes) / data.size("val")
        assert np.abs(train_share - val_share).max() < 0.05  # stratified
    else:
        assert data.y_train.ndim == 2


@pytest.mark.parametrize("name", [n for n in OFFLINE if DATASETS[n].kind == GENERATED])
def test_generated_sources_follow_seed_and_size(name: str) -> None:
    a = load_dataset(name, {"seed": 1, "samples": 100})
    b = load_dataset(name, {"seed": 1, "samples": 100})
    c = load_dataset(name, {"seed": 2, "samples": 100})
    assert a.size("train") + a.size("val") + a.size("test") == 100
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    names = {p.name for p in DATASETS[name].params}
    assert {"samples", "seed"} <= names


def test_sine_windows_predict_the_next_value() -> None:
    x, y, _names, task = builtin.sine_series(
        {"samples": 50, "window": 8, "components": 3, "noise": 0.0, "seed": 0}
    )
    assert task == "regression" and x.shape == (50, 8, 1) and y.shape == (50, 1)
    np.testing.assert_allclose(x[1, :-1, 0], x[0, 1:, 0])  # windows slide by one step
    np.testing.assert_allclose(y[0, 0], x[1, -1, 0])  # the target is the next value


def test_trend_sequences_are_labelled_by_their_trend() -> None:
    x, y, names, _task = builtin.trend_sequences(
        {"samples": 400, "timesteps": 30, "features": 3, "noise": 0.2, "seed": 0}
    )
    assert names == ["down", "up"] and x.shape == (400, 30, 3)
    rising = (x[:, -1, 0] - x[:, 0, 0]) > 0
    assert np.mean(rising == (y == 1)) > 0.9


def test_shapes_are_four_distinct_classes_of_small_images() -> None:
    x, y, names, _task = builtin.shapes({"samples": 200, "size": 16, "noise": 0.0, "seed": 0})
    assert names == ["square", "circle", "triangle", "cross"]
    assert x.shape == (200, 16, 16, 1) and x.min() >= 0.0 and x.max() <= 1.0
    assert np.bincount(y).tolist() == [50, 50, 50, 50]
    ink = [x[y == c].mean() for c in range(4)]
    assert len({round(float(v), 3) for v in ink}) == 4  # each shape draws differently
    assert all(float(x[i].sum()) > 5 for i in range(len(x)))  # every image shows a shape


def test_spirals_interleave_half_a_turn_apart() -> None:
    x, y, _names, _task = builtin.spirals({"samples": 400, "noise": 0.0, "seed": 0})
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.max() <= 1.0 + 1e-6
    angle = np.arctan2(x[:, 0], x[:, 1])
    expected = 3 * np.pi * radius + np.pi * y  # the arm's angle grows with the radius
    gap = np.angle(np.exp(1j * (angle - expected)))  # wrapped to (-pi, pi]
    assert np.abs(gap).max() < 1e-4


def test_bad_generated_settings_name_the_dataset() -> None:
    with pytest.raises(DatasetError, match="dataset 'moons'"):
        load_dataset("moons", {"samples": "plenty"})
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        load_dataset("nope")
