"""The workflow layer: settings and data as undoable commands, the current weights and the edit
that breaks them, run lineage, a training job's handles from another thread, no data."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from backend.document.project import DatasetChoice, load_project
from backend.document.runs import checkpoint_path
from backend.editing.commands import Connect, SetParams
from backend.workflow.graph_changes import graph_changes
from backend.workflow.lineage import cannot_continue, continued_by, lineage, total_epochs
from backend.workflow.session import Workflow, WorkflowError, new_project
from backend.workflow.training import TrainingJob
from backend.workflow.weights import RUN, UNTRAINED


@pytest.fixture
def moons(tmp_path: Path) -> Workflow:
    workflow = Workflow.from_template("moons_mlp")
    workflow.save(tmp_path / "moons.dcproj.json")
    return workflow


def test_settings_and_data_are_undone_with_graph_edits_in_one_history(moons: Workflow) -> None:
    project, seen = moons.project, []
    project.training_changed.connect(lambda: seen.append("training"))
    project.dataset_changed.connect(lambda: seen.append("dataset"))
    dense = project.graph.node_by_name("dense").id

    moons.set_training(learning_rate=0.05)
    moons.undo.push(SetParams(dense, {"units": 8}))
    moons.choose_dataset(DatasetChoice("circles"))
    with pytest.raises(ValueError, match="learning rate must be positive"):
        moons.set_training(learning_rate=-1.0)

    assert moons.undo.labels() == [
        "Set Learning rate to 0.05",
        "Set units of 'dense'",
        "Use dataset circles",
    ]
    assert project.training.learning_rate == 0.05 and project.dataset is not None
    assert project.dataset.name == "circles" and seen == ["training", "dataset"]
    for _ in range(3):
        moons.undo.undo()
    assert project.training.learning_rate == 0.01 and project.dataset.name == "moons"
    assert project.graph.nodes[dense].params["units"] == 16
    assert seen == ["training", "dataset", "dataset", "training"]
    assert moons.undo.redo() == "Set Learning rate to 0.05"


def test_graph_changes_say_what_an_edit_did(moons: Workflow) -> None:
    graph = moons.project.graph
    before = graph.to_dict()
    dense = graph.node_by_name("dense").id
    graph.set_params(dense, {"units": 64})
    graph.rename_node(graph.node_by_name("dense_1").id, "hidden")
    extra = graph.add_node("Dense", {"units": 3}, name="extra")
    graph.connect(dense, extra.id)
    graph.move_node(dense, (500.0, 500.0))  # positions are not changes

    assert graph_changes(before, graph) == [
        "Dense 'dense' units changed 16 -> 64",
        "Dense 'dense_1' renamed to 'hidden'",
        "Dense 'extra' added",
        "'dense' -> 'extra' connected",
    ]
    assert graph_changes(before, before) == []


def test_trained_weights_are_current_until_an_edit_breaks_them(moons: Workflow) -> None:
    states = []
    moons.weights_changed.connect(states.append)
    assert moons.weights.source == UNTRAINED and not moons.weights.trained

    result, run = moons.train(epochs=1)

    assert result.status == "completed" and moons.weights.source == RUN
    assert moons.weights.run == run and moons.weights.fits
    assert moons.weights.path == checkpoint_path(run, moons.project.path)
    assert moons.snapshot().model is result.model  # no rebuild right after training
    dense = moons.project.graph.node_by_name("dense").id
    moons.undo.push(SetParams(dense, {"units": 32}))
    assert not moons.weights.fits and moons.snapshot().model is None
    assert moons.weights.changes == ("Dense 'dense' units changed 16 -> 32",)
    assert "no longer fit the graph (Dense 'dense' units changed 16 -> 32)" in (
        moons.weights.describe()
    )
    built = moons.build_model()  # the layers that still fit keep the run's weights
    assert set(built.skipped) == {"dense", "dense_1"}
    moons.undo.undo()
    assert moons.weights.fits
    assert [s.fits for s in states] == [True, False, True]


def test_lineage_and_when_a_run_can_continue(moons: Workflow) -> None:
    _, first = moons.train(epochs=1)
    _, second = moons.train(continue_from=first.id, epochs=2)
    _, third = moons.train(continue_from=second.id, epochs=1)

    assert second.parent_id == first.id and third.parent_id == second.id
    assert [r.id for r in lineage(moons.project, third.id)] == [first.id, second.id, third.id]
    assert continued_by(moons.project, first.id) == [second]
    assert total_epochs(moons.project, third.id) == 4
    assert moons.weights.run == third
    assert cannot_continue(moons.project, first) is None
    moons.undo.push(Connect(*_two_unconnected(moons)))
    assert "different graph" in (moons.cannot_continue(first.id) or "")
    with pytest.raises(WorkflowError, match="different graph"):
        moons.prepare_training(continue_from=first.id)


def _two_unconnected(workflow: Workflow) -> tuple[str, str]:
    graph = workflow.project.graph
    extra = graph.add_node("Dense", {"units": 1}, name="extra")
    return graph.node_by_name("dense_2").id, extra.id


def test_a_job_obeys_stop_and_pause_from_another_thread(moons: Workflow) -> None:
    stopped = moons.prepare_training(epochs=50)
    stopped.request_stop()  # before it starts: it never trains
    assert stopped.run().status == "stopped"

    epochs: list[int] = []
    batches: list[int] = []
    job: TrainingJob = moons.prepare_training(
        epochs=200, on_event=lambda e: _on(e, epochs, batches, job)
    )
    job.pause()  # paused before the trainer exists: it holds after its first batch event
    thread = threading.Thread(target=job.run)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not batches and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # an epoch of moons takes a fraction of that
        assert thread.is_alive() and len(batches) == 1 and epochs == []
        threading.Thread(target=job.resume).start()
        thread.join(timeout=120)
    finally:  # never leave a paused thread behind a failed assertion
        job.request_stop()
        thread.join(timeout=120)
    assert job.result is not None and job.result.status == "stopped"
    assert epochs == [0]  # stop-after-epoch, asked from another thread at epoch 0's end
    run = moons.finish_training(job)
    assert run.status == "stopped" and moons.weights.run == run


def _on(event: object, epochs: list[int], batches: list[int], job: TrainingJob) -> None:
    from backend.training.trainer import BatchEnd, EpochEnd

    if isinstance(event, BatchEnd):
        batches.append(event.step)
    if isinstance(event, EpochEnd):
        epochs.append(event.epoch)
        if event.epoch == 0:
            helper = threading.Thread(target=job.request_stop_after_epoch)
            helper.start()
            helper.join()


def test_a_new_or_imported_project_has_no_data_until_chosen(tmp_path: Path) -> None:
    workflow = Workflow(new_project("scratch"))
    path = workflow.save(tmp_path / "scratch.dcproj.json")
    assert json.loads(path.read_text())["dataset"] is None
    assert load_project(path).dataset is None
    messages = [p.message for p in workflow.problems()]
    assert "the project has no dataset yet" in messages[-1]
    with pytest.raises(WorkflowError, match="graph is empty"):
        workflow.prepare_training()

    old = json.loads(path.read_text())
    del old["dataset"], old["current_weights"]  # a file from before: the default data
    (tmp_path / "old.dcproj.json").write_text(json.dumps(old))
    reopened = load_project(tmp_path / "old.dcproj.json")
    assert reopened.dataset is not None and reopened.dataset.name == "digits"


def test_a_detached_workflow_no_longer_follows_its_project(moons: Workflow) -> None:
    moons.train(epochs=1)
    states: list[object] = []
    moons.weights_changed.connect(states.append)
    graph = moons.project.graph
    graph.set_params(graph.node_by_name("dense").id, {"units": 3})
    assert len(states) == 1  # the edit broke the fit: announced
    moons.detach()
    graph.set_params(graph.node_by_name("dense").id, {"units": 16})
    assert len(states) == 1 and not moons.weights.fits  # no longer followed
