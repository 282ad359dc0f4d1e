"""Run records: real trainings recorded, saved, reloaded, restored and continued."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from backend.cli import main as cli
from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.project import Project, ProjectError, load_project, save_project
from backend.document.runs import (
    RunRecord,
    checkpoint_path,
    graph_fingerprint,
    runs_dir,
)
from backend.editing.commands import ReplaceGraph, SetParams, UndoStack
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.weights import apply_weights, load_weights
from backend.templates.examples import digits_cnn, moons_mlp
from backend.training.recording import RunClock, record_run
from backend.training.trainer import BatchEnd, EpochEnd, Trainer, TrainingEvent, TrainResult


@pytest.fixture(scope="module")
def digits_run(digits: Dataset) -> tuple[Project, TrainResult, RunClock]:
    """One real epoch of the digits example (shared: training is the slow part)."""
    project = digits_cnn()
    project.training.epochs = 1
    clock = RunClock.start()
    result = Trainer(project.graph, digits, project.training).run()
    assert result.status == "completed", result.message
    return project, result, clock


def record(
    project: Project, result: TrainResult, clock: RunClock, parent_id: str | None = None
) -> RunRecord:
    return record_run(
        project,
        result,
        clock,
        graph_data=project.graph.to_dict(),
        dataset=project.dataset,
        config=project.training,
        parent_id=parent_id,
    )


def test_a_run_is_recorded_saved_and_reloaded_equal(
    digits_run: tuple[Project, TrainResult, RunClock], tmp_path: Path
) -> None:
    _, result, clock = digits_run
    project = digits_cnn()
    project.training.epochs = 1
    save_project(project, tmp_path / "net.dcproj.json")

    run = record_run(
        project,
        result,
        clock,
        graph_data=project.graph.to_dict(),
        dataset=project.dataset,
        config=project.training,
    )

    assert project.dirty and project.runs == [run]
    assert run.status == "completed" and run.epochs == 1
    assert run.metrics["loss"] == result.history["loss"][-1]
    assert set(run.metrics) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert run.fingerprint == graph_fingerprint(project.graph)
    assert run.training["epochs"] == 1 and run.dataset["name"] == "digits" and run.seed == 0
    assert {"tensorflow", "keras"} <= set(run.versions) and run.device
    assert run.wall_time_s > 0
    assert run.checkpoint == f"net.runs/{run.id}.weights.npz"
    assert (tmp_path / "net.runs" / f"{run.id}.weights.npz").is_file()

    save_project(project)
    reloaded = load_project(tmp_path / "net.dcproj.json")
    assert reloaded.runs == project.runs
    assert json.loads((tmp_path / "net.dcproj.json").read_text())["runs"][0]["id"] == run.id


def test_the_checkpoint_holds_the_trained_weights(
    digits_run: tuple[Project, TrainResult, RunClock], digits: Dataset, tmp_path: Path
) -> None:
    trained, result, clock = digits_run
    project = digits_cnn()
    save_project(project, tmp_path / "net.dcproj.json")
    run = record_run(
        project,
        result,
        clock,
        graph_data=trained.graph.to_dict(),
        dataset=trained.dataset,
        config=trained.training,
    )

    fresh = compile_graph(LayerGraph.from_dict(run.graph))
    path = checkpoint_path(run, project.path)
    assert path is not None
    assert apply_weights(fresh, load_weights(path)) == []
    sample = digits.x_val[:16]
    expected = result.model.predict(sample, verbose=0)
    np.testing.assert_allclose(fresh.predict(sample, verbose=0), expected, rtol=1e-5)


def test_continuing_from_a_checkpoint_starts_where_the_run_ended(
    digits_run: tuple[Project, TrainResult, RunClock], digits: Dataset, tmp_path: Path
) -> None:
    _, result, clock = digits_run
    project = digits_cnn()
    project.training.epochs = 1
    save_project(project, tmp_path / "net.dcproj.json")
    first = record(project, result, clock)
    path = checkpoint_path(first, project.path)
    assert path is not None

    config = replace(project.training, initial_weights=str(path))
    clock = RunClock.start()
    continued = Trainer(project.graph, digits, config).run()
    second = record_run(
        project,
        continued,
        clock,
        graph_data=project.graph.to_dict(),
        dataset=project.dataset,
        config=config,
        parent_id=first.id,
    )

    assert continued.status == "completed", continued.message
    assert second.history["loss"][0] < 0.8 * first.history["loss"][0]
    assert second.parent_id == first.id
    assert second.training["initial_weights"] == str(path)
    assert second.id != first.id


def test_the_fingerprint_follows_structure_and_params_not_layout_or_ids() -> None:
    project = digits_cnn()
    graph = project.graph
    before = graph_fingerprint(graph)
    first = next(iter(graph.nodes))

    graph.move_node(first, (999.0, -40.0))
    assert graph_fingerprint(graph) == before
    renumbered = graph.to_dict()
    ids = {n["id"]: f"other{i}" for i, n in enumerate(renumbered["nodes"])}
    for node in renumbered["nodes"]:
        node["id"] = ids[node["id"]]
    for edge in renumbered["edges"]:
        edge["src"], edge["dst"] = ids[edge["src"]], ids[edge["dst"]]
    assert graph_fingerprint(renumbered) == before

    dense = graph.node_by_name("dense")
    undo = UndoStack(graph)
    undo.push(SetParams(dense.id, {"units": 65}))
    assert graph_fingerprint(graph) != before
    undo.undo()
    assert graph_fingerprint(graph) == before
    graph.rename_node(dense.id, "hidden")
    assert graph_fingerprint(graph) != before


def test_restoring_a_runs_graph_is_one_undo_step(
    digits_run: tuple[Project, TrainResult, RunClock],
) -> None:
    _, result, clock = digits_run
    project = digits_cnn()
    run = record(project, result, clock)
    undo = UndoStack(project.graph)
    dense = project.graph.node_by_name("dense")
    undo.push(SetParams(dense.id, {"units": 8}))
    project.graph.remove_node(project.graph.node_by_name("dropout").id)
    edited = graph_fingerprint(project.graph)

    undo.push(ReplaceGraph(run.graph))
    assert graph_fingerprint(project.graph) == run.fingerprint
    assert project.graph.to_dict() == run.graph

    undo.undo()
    assert graph_fingerprint(project.graph) == edited
    undo.redo()
    assert graph_fingerprint(project.graph) == run.fingerprint


def test_failed_and_stopped_runs_keep_their_history(moons: Dataset, private_home: Path) -> None:
    project = moons_mlp()  # never saved: checkpoints go to the app's folder
    config = replace(project.training, epochs=2)

    def fail_on_second_epoch(event: TrainingEvent) -> None:
        if isinstance(event, EpochEnd) and event.epoch == 1:
            raise RuntimeError("the device went away")

    clock = RunClock.start()
    failed = Trainer(project.graph, moons, config, on_event=fail_on_second_epoch).run()
    failed_run = record(project, failed, clock)

    trainer = Trainer(project.graph, moons, replace(config, checkpoint=True))  # keep the best
    trainer.on_event = lambda e: isinstance(e, BatchEnd) and trainer.request_stop()
    clock = RunClock.start()
    stopped_run = record(project, trainer.run(), clock)

    assert failed_run.status == "failed"
    assert "the device went away" in failed_run.message
    assert failed_run.epochs == 2 and failed_run.checkpoint is None
    assert stopped_run.status == "stopped" and stopped_run.epochs == 1
    assert stopped_run.best_epoch == 0 and failed_run.best_epoch is None
    where = Path(stopped_run.checkpoint)
    assert where.is_absolute() and where.parent == runs_dir(None) == private_home / "runs"
    assert where.is_file()


def test_older_project_files_without_runs_still_load(tmp_path: Path) -> None:
    path = save_project(moons_mlp(), tmp_path / "old.dcproj.json")
    data = json.loads(path.read_text())
    del data["runs"]
    path.write_text(json.dumps(data))
    assert load_project(path).runs == []


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda run: run.pop("fingerprint"), "run #1: run 'r1' has no 'fingerprint'"),
        (lambda run: run.update(history={"loss": "low"}), "'history' must be an object of"),
        (lambda run: run.update(status="exploded"), "status must be one of"),
        (lambda run: run.update(wall_time_s="1s"), "'wall_time_s' must be a number, got str"),
    ],
)
def test_a_damaged_run_record_is_named(tmp_path: Path, damage: object, expected: str) -> None:
    project = moons_mlp()
    path = save_project(project, tmp_path / "p.dcproj.json")
    data = json.loads(path.read_text())
    run = {
        "id": "r1",
        "started_at": "2025-01-01T00:00:00+00:00",
        "wall_time_s": 1.5,
        "status": "completed",
        "message": "training finished",
        "training": project.training.to_dict(),
        "dataset": data["dataset"],
        "fingerprint": graph_fingerprint(project.graph),
        "graph": data["graph"],
    }
    data["runs"] = [run]
    path.write_text(json.dumps(data))
    assert load_project(path).runs[0].id == "r1"

    damage(run)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_replacing_a_project_carries_its_runs(
    digits_run: tuple[Project, TrainResult, RunClock],
) -> None:
    _, result, clock = digits_run
    other = digits_cnn()
    run = record(other, result, clock)
    shown = Project()
    shown.replace_with(other)
    assert shown.runs == [run]


def test_the_train_command_records_the_run_in_the_project_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_project(moons_mlp(), tmp_path / "moons.dcproj.json")
    assert cli.main(["train", str(path), "--epochs", "1"]) == 0

    [run] = load_project(path).runs
    assert run.status == "completed" and run.epochs == 1 and run.training["epochs"] == 1
    assert run.fingerprint == graph_fingerprint(load_project(path).graph)
    assert (tmp_path / f"moons.runs/{run.id}.weights.npz").is_file()

    broken = moons_mlp()  # a graph error is refused before training: no run to record
    broken.graph.set_params(broken.graph.node_by_name("dense").id, {"units": -3})
    path = save_project(broken, tmp_path / "broken.dcproj.json")
    assert cli.main(["train", str(path)]) == 1
    assert load_project(path).runs == []
    assert "cannot train" in capsys.readouterr().err
