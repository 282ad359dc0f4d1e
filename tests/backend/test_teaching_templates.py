"""Templates that teach: each sequence and attention template, created as a user would with
`main.py new --example NAME`, is not solved after its first epoch and is solved (validation
accuracy at least 0.8) within its own epochs, with no alert on the way; so is the penguins CSV,
whose overlapping species need the column it leaves out; the learning-rate template raises the
alert of each rate it teaches."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backend.cli.main import main as cli
from backend.document.project import load_project
from backend.document.run_changes import run_name
from backend.document.runs import RunRecord
from backend.editing.data_wiring import DataTarget, fit_graph_to_data
from backend.templates.gallery import load_template, template_ids
from backend.training.trainer import EpochEnd, Trainer
from backend.workflow.session import Workflow

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


def accuracy_run(workflow: Workflow, enough: float = 1.01) -> tuple[list[float], RunRecord]:
    """Train the project as it is (stopping after the epoch that reaches `enough`) and record
    the run; the validation accuracy of each epoch."""
    accuracy: list[float] = []

    def watch(event: Any) -> None:
        if isinstance(event, EpochEnd):
            accuracy.append(event.logs["val_accuracy"])
            if accuracy[-1] >= enough:
                job.request_stop_after_epoch()

    job = workflow.prepare_training(on_event=watch)
    result = job.run()
    assert result.status in ("completed", "stopped"), result.message
    assert result.alerts == [], [a.text() for a in result.alerts]
    return accuracy, workflow.finish_training(job, result)


def test_the_penguins_csv_needs_training_and_its_missing_column_is_the_next_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "penguins.dcproj.json"
    assert cli(["new", "-o", str(path), "--example", "penguins_csv"]) == 0
    workflow = Workflow.open(path)
    accuracy, first = accuracy_run(workflow)
    assert len(accuracy) == workflow.project.training.epochs
    assert accuracy[0] < 0.95, f"solved after one epoch: {accuracy}"
    assert 0.8 <= max(accuracy) < 0.97, accuracy  # Adelie and Chinstrap overlap in what it sees

    # what the template's text says to do next: tick bill_length_mm, fit the model, train
    choice = workflow.project.dataset
    assert choice is not None
    features = [*choice.params["features"], "bill_length_mm"]
    workflow.choose_dataset(replace(choice, params={**choice.params, "features": features}))
    fit = fit_graph_to_data(workflow.project.graph, DataTarget.of(workflow.project.load_data()))
    assert fit.command is not None
    workflow.undo.push(fit.command)
    again, second = accuracy_run(workflow, enough=0.97)
    assert max(again) >= 0.97 > max(accuracy), (accuracy, again)
    assert run_name(second, workflow.project.runs) == (
        "data features + bill_length_mm, shape of 'input' 8 → 9"
    )
    assert run_name(first, workflow.project.runs).startswith("first run")


@pytest.mark.parametrize("name", template_ids())
def test_every_template_can_be_trained_from_the_train_button(name: str) -> None:
    """What the window's Train checks first (the model against its data as the template's
    data view presents it): the autoencoder's target is its input, not a class number."""
    assert Workflow.from_template(name).problems() == []
