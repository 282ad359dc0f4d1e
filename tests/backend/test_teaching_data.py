"""Generated sets whose labels need the idea they teach: memory, order, a line with a bias.
Each is seeded, quick, and checked to be unsolvable without that idea."""

from __future__ import annotations

import numpy as np
import pytest

from backend.data import DATASETS, DatasetError, load_dataset
from backend.data.builtin import blobs
from backend.data.preview import preview_dataset
from backend.data.sequence_tasks import (
    TOKEN_A,
    TOKEN_B,
    adding_problem,
    delayed_recall,
    pattern_order,
    token_order,
)

SETTINGS = {"samples": 2000, "timesteps": 12, "seed": 0}


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("delayed_recall", (12, 4)),
        ("pattern_order", (16, 3)),
        ("adding_problem", (16, 2)),
        ("token_order", (12,)),
        ("blobs", (2,)),
    ],
)
def test_each_set_is_listed_seeded_and_split(name: str, shape: tuple[int, ...]) -> None:
    assert DATASETS[name].params  # sizes and seed are editable in the Data panel
    data = load_dataset(name)
    again = load_dataset(name)
    assert data.input_shape == shape and data.task == "classification"
    np.testing.assert_array_equal(data.x_train, again.x_train)
    assert not np.array_equal(data.x_train, load_dataset(name, {"seed": 1}).x_train)
    counts = np.bincount(data.y_train)
    assert counts.min() > 0.2 * counts.sum()  # no class is rare: chance is near 1/classes


def test_delayed_recall_cannot_be_read_from_the_recent_steps() -> None:
    x, y, names, _ = delayed_recall(SETTINGS)
    assert names == ["A", "B", "C", "D"]
    np.testing.assert_array_equal(x[:, 0].argmax(axis=1), y)
    for step in range(1, 12):  # any later step says nothing about the class
        agree = np.mean(x[:, step].argmax(axis=1) == y)
        assert 0.18 < agree < 0.32


def test_the_order_of_two_spikes_is_the_label() -> None:
    x, y, _, _ = pattern_order({**SETTINGS, "timesteps": 16})
    a = x[:, :, 1].argmax(axis=1)
    b = x[:, :, 2].argmax(axis=1)
    assert np.mean(y == (a < b)) > 0.995  # rarely, noise hides a spike
    # both spikes are in every sample, so seeing them without their order is chance
    assert np.all(x[:, :, 1].max(axis=1) > 0.5) and np.all(x[:, :, 2].max(axis=1) > 0.5)


def test_the_adding_problem_needs_both_marked_numbers() -> None:
    x, y, _, _ = adding_problem({**SETTINGS, "timesteps": 16})
    marked = x[:, :, 1] == 1.0
    assert np.all(marked.sum(axis=1) == 2)
    assert np.all(marked[:, :8].sum(axis=1) == 1)  # one in each half
    pairs = x[:, :, 0][marked].reshape(-1, 2)
    np.testing.assert_array_equal(y, (pairs.sum(axis=1) > 1).astype(int))
    best_with_one = np.mean((pairs[:, 0] > 0.5) == y)  # remembering only the first number
    assert 0.7 < best_with_one < 0.8


def test_token_order_is_invisible_to_a_bag_of_tokens() -> None:
    x, y, _, _, _, _ = token_order({**SETTINGS, "vocabulary": 10})
    assert x.dtype == np.int32 and np.all(x[:, 0] == 0) and x[:, 1:].min() >= 1 and x.max() < 10
    assert np.all((x == TOKEN_A).sum(axis=1) == 1) and np.all((x == TOKEN_B).sum(axis=1) == 1)
    swapped = np.where(x == TOKEN_A, TOKEN_B, np.where(x == TOKEN_B, TOKEN_A, x))
    a_first = (swapped == TOKEN_A).argmax(axis=1) < (swapped == TOKEN_B).argmax(axis=1)
    np.testing.assert_array_equal(a_first, 1 - y)  # same tokens, other order, other class


def test_token_ids_carry_their_vocabulary_into_the_dataset_and_its_preview() -> None:
    data = load_dataset("token_order", {"vocabulary": 6, "view": "same_target:1"})
    assert data.vocabulary == ["<s>", "A", "B", "w3", "w4", "w5"]
    *tokens, target = preview_dataset("token_order").rows[0]  # the Data panel's table
    assert tokens[0] == "<s>" and tokens.count("A") == tokens.count("B") == 1
    assert set(tokens[1:]) - {"A", "B"} <= {f"w{i}" for i in range(3, 10)}
    assert target == ("A first" if tokens.index("A") < tokens.index("B") else "B first")
    assert load_dataset("moons").vocabulary == []  # not token ids: the axes keep numbers


def test_two_clouds_need_a_line_that_misses_the_origin() -> None:
    x, y, _, _ = blobs({"samples": 400, "noise": 0.9, "seed": 0})
    centres = np.array([x[y == c].mean(axis=0) for c in (0, 1)])
    normal = centres[1] - centres[0]
    bias = -normal @ centres.mean(axis=0)
    assert abs(bias) / np.linalg.norm(normal) > 0.5  # the best line misses (0, 0)
    accuracy = np.mean(((x @ normal + bias) > 0) == y)
    assert 0.85 < accuracy < 0.99  # separable by a line, with a little overlap


def test_side_by_side_networks_get_the_same_labels_for_each_head() -> None:
    data = load_dataset("circles", {"view": "same_target:3"})
    assert isinstance(data.y_train, list) and len(data.y_train) == 3
    for y in data.y_train:
        np.testing.assert_array_equal(y, data.y_train[0])
    with pytest.raises(DatasetError, match="number of heads"):
        load_dataset("circles", {"view": "same_target:many"})
