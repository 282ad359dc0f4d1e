"""The data choice in the project file: saved, reopened to the same split, vanished files,
and the example that trains on a CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backend.data import Dataset, DatasetError, load_dataset
from backend.data.samples import SAMPLE_CSV, sample_rows, write_sample_csv
from backend.document.project import DatasetChoice, ProjectError, load_project, save_project
from backend.document.training_config import TrainingConfig
from backend.editing.data_wiring import DataTarget, fit_graph_to_data
from backend.keras_bridge.compiler import compile_graph
from backend.templates.examples import EXAMPLES, penguins_csv
from backend.training.trainer import Trainer


def load_choice(choice: DatasetChoice) -> Dataset:
    return load_dataset(
        choice.name, choice.params, choice.val_fraction, choice.test_fraction, choice.seed
    )


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "penguins.csv"
    path.write_bytes(SAMPLE_CSV.read_bytes())
    return path


def test_a_reopened_project_has_the_same_data_and_split(table: Path, tmp_path: Path) -> None:
    project = penguins_csv()
    project.dataset = DatasetChoice("csv", {"path": str(table), "target": ["species"]}, 0.3, 0.1, 9)
    first = load_choice(project.dataset)
    reopened = load_project(save_project(project, tmp_path / "p.dcproj.json"))
    assert reopened.dataset == project.dataset
    again = load_choice(reopened.dataset)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_val, again.y_val)
    other_seed = load_choice(DatasetChoice("csv", project.dataset.params, 0.3, 0.1, 10))
    assert not np.array_equal(first.y_val, other_seed.y_val)


def test_a_file_that_vanished_after_saving_is_named_and_the_project_still_opens(
    table: Path, tmp_path: Path
) -> None:
    project = penguins_csv()
    project.dataset = DatasetChoice("csv", {"path": str(table), "target": ["species"]})
    path = save_project(project, tmp_path / "p.dcproj.json")
    table.unlink()
    reopened = load_project(path)  # the graph and settings are still there to fix
    with pytest.raises(DatasetError, match=r"penguins\.csv does not exist .*moved or deleted"):
        load_choice(reopened.dataset)


def test_bad_data_settings_in_a_project_file_are_refused(tmp_path: Path) -> None:
    project = penguins_csv()
    data = project.to_dict()
    data["dataset"]["params"]["path"] = 42
    path = tmp_path / "bad.dcproj.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match="dataset 'csv': path must be a file path"):
        load_project(path)
    data["dataset"] = {"name": "csv", "params": {}, "seed": "zero"}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match="seed must be a whole number"):
        load_project(path)


def test_the_shipped_csv_is_the_generated_one(tmp_path: Path) -> None:
    assert SAMPLE_CSV.read_bytes() == write_sample_csv(tmp_path / "again.csv").read_bytes()
    assert 2_000 < SAMPLE_CSV.stat().st_size < 20_000
    rows = sample_rows()
    assert len(rows) == 344  # as many birds as the Palmer penguins, two never measured
    assert sum(row[1:6] == ["", "", "", "", ""] for row in rows) == 2
    assert any(row[5] == "" for row in rows)  # it shows missing-value handling


def test_the_csv_example_fits_its_data_compiles_and_trains() -> None:
    assert "penguins_csv" in EXAMPLES
    project = penguins_csv()
    data = load_choice(project.dataset)
    assert data.class_names == ["Adelie", "Chinstrap", "Gentoo"]
    assert fit_graph_to_data(project.graph, DataTarget.of(data)).command is None
    model = compile_graph(project.graph)
    assert tuple(model.input_shape) == (None, 8)  # island and sex one-hot, three numbers
    assert "bill_length_mm" not in data.feature_names and "sex=male" in data.feature_names
    config = TrainingConfig(**{**project.training.to_dict(), "epochs": 1})
    result = Trainer(project.graph, data, config).run()
    assert result.status == "completed", result.message
    assert np.isfinite(result.history["loss"][0])
