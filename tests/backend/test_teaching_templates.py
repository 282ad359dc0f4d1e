"""Templates that teach: each sequence and attention template, created as a user would with
`main.py new --example NAME`, is not solved after its first epoch and is solved (validation
accuracy at least 0.8) within its own epochs, with no alert on the way; the learning-rate
template raises the alert of each rate it teaches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.cli.main import main as cli
from backend.document.project import load_project
from backend.templates.gallery import load_template, template_ids
from backend.training.trainer import EpochEnd, Trainer

SEQUENCE_TEMPLATES = ["lstm_sequences", "lstm_adding", "gru_sequences", "transformer_classifier"]


def test_examples_lists_the_sequence_and_attention_templates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["examples"]) == 0
    listed = capsys.readouterr().out
    for name in [*SEQUENCE_TEMPLATES, "perceptron", "learning_rate", "residual_compared"]:
        assert name in listed and name in template_ids()


@pytest.mark.parametrize("name", SEQUENCE_TEMPLATES)
def test_a_sequence_template_needs_training_and_gets_there(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.dcproj.json"
    assert cli(["new", "-o", str(path), "--example", name]) == 0
    project = load_project(path)
    accuracy: list[float] = []

    def watch(event: Any) -> None:  # stop once it is solved: the rest would only cost time
        if isinstance(event, EpochEnd):
            accuracy.append(event.logs["val_accuracy"])
            if accuracy[-1] >= 0.8:
                trainer.request_stop_after_epoch()

    trainer = Trainer(project.graph, project.load_data(), project.training, watch)
    result = trainer.run()
    assert result.status in ("completed", "stopped"), result.message
    assert accuracy[0] < 0.95, f"{name} is solved after one epoch: {accuracy}"
    assert max(accuracy) >= 0.8, f"{name} never gets there in {len(accuracy)} epochs: {accuracy}"
    assert len(accuracy) <= project.training.epochs
    assert result.alerts == [], [a.text() for a in result.alerts]


@pytest.mark.parametrize(("rate", "epochs", "alert"), [(1e-5, 5, "slow"), (1.0, 1, "divergence")])
def test_the_learning_rate_template_shows_too_low_and_too_high(
    rate: float, epochs: int, alert: str
) -> None:
    project = load_template("learning_rate")
    project.training.learning_rate = rate
    project.training.epochs = epochs
    result = Trainer(project.graph, project.load_data(), project.training).run()
    assert alert in [a.kind for a in result.alerts], [a.text() for a in result.alerts]
