"""Dataset shapes for the analysis: known ahead for built-ins, loaded once for the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.analysis.data_fit import BUILT_IN, dataset_meta, is_known, meta_of
from backend.data import load_dataset
from backend.document.project import DatasetChoice


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_the_table_of_built_in_shapes_matches_the_loaded_data(name: str) -> None:
    data = load_dataset(name)
    loaded = meta_of(data.task, data.x_train.shape, data.y_train.shape, data.num_classes)
    assert BUILT_IN[name] == loaded


def test_a_generated_set_is_loaded_once_per_setting() -> None:
    small = DatasetChoice("shapes", {"size": 12})
    meta = dataset_meta(small)
    assert meta is not None and meta.input_shape == (12, 12, 1) and meta.num_classes == 4
    assert dataset_meta(DatasetChoice("shapes", {"size": 20})).input_shape == (20, 20, 1)  # type: ignore[union-attr]


def test_a_file_is_read_only_when_asked_and_then_remembered(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.random((60, 6), dtype=np.float32), y=np.arange(60) % 4)
    choice = DatasetChoice("numpy", {"path": str(path)})
    assert not is_known(choice) and dataset_meta(choice) is None
    meta = dataset_meta(choice, load=True)
    assert meta is not None and (meta.input_shape, meta.num_classes) == ((6,), 4)
    path.unlink()
    assert is_known(choice) and dataset_meta(choice) == meta


def test_a_missing_file_has_no_shapes(tmp_path: Path) -> None:
    choice = DatasetChoice("numpy", {"path": str(tmp_path / "gone.npz")})
    assert dataset_meta(choice, load=True) is None
