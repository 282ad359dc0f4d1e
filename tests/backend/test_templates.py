"""Every example and template compiles, trains one short epoch on its built-in data, and
reopens from its saved file."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.data import load_dataset
from backend.document.project import load_project, save_project
from backend.keras_bridge.compiler import validate
from backend.templates.examples import EXAMPLES
from backend.training.trainer import Trainer


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_trains_one_epoch(name: str, tmp_path: Path) -> None:
    project = EXAMPLES[name]()
    assert project.description and not project.dirty
    assert not [p for p in validate(project.graph) if p.severity == "error"]
    path = tmp_path / f"{name}.dcproj.json"
    save_project(project, path)
    project = load_project(path)
    choice = project.dataset
    data = load_dataset(
        choice.name, choice.params, choice.val_fraction, choice.test_fraction, choice.seed
    )
    project.training.epochs = 1
    result = Trainer(project.graph, data, project.training).run()
    assert result.status == "completed", result.message
    assert len(result.history["loss"]) == 1


def test_autoencoder_learns_to_give_back_its_input() -> None:
    project = EXAMPLES["autoencoder"]()
    data = load_dataset("digits", {"view": "autoencoder"})
    assert data.y_train.shape == data.x_train.shape
    project.training.epochs = 5
    result = Trainer(project.graph, data, project.training).run()
    assert result.history["loss"][-1] < result.history["loss"][0]
