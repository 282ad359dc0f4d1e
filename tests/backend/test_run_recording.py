"""Recording a run never loses an edit saved meanwhile, and saving never loses a recorded run:
real files, a real `main.py train` process, an edit made while it trains."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backend.document.project import ProjectError, load_project
from backend.editing.commands import SetParams
from backend.workflow.session import Workflow

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_an_edit_saved_while_the_cli_trains_is_kept_and_so_is_the_run(tmp_path: Path) -> None:
    path = Workflow.from_template("moons_mlp").save(tmp_path / "moons.dcproj.json")
    app = Workflow.open(path)  # the app has the project open all along
    child = subprocess.Popen(
        [sys.executable, "main.py", "train", str(path), "--epochs", "1000", "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if json.loads(line)["event"] == "epoch_end":
                break
        edit_like_an_editor(path)  # while it trains
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    recorded = json.loads(out.splitlines()[-1])
    assert recorded["event"] == "run_recorded" and recorded["current_weights"] is True

    on_disk = load_project(path)
    assert on_disk.description == "edited in an editor during training"
    assert on_disk.training.batch_size == 64
    [run] = on_disk.runs
    assert run.id == recorded["run"] and run.status == "stopped"
    assert on_disk.weights.run == run.id  # the graph is the one it trained: its weights

    app.set_training(learning_rate=0.02)  # the app never saw the run, then saves
    app.save()
    saved = load_project(path)
    assert [r.id for r in saved.runs] == [run.id] and saved.training.learning_rate == 0.02
    assert [r.id for r in app.project.runs] == [run.id]  # and now shows it


def edit_like_an_editor(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["description"] = "edited in an editor during training"
    data["training"]["batch_size"] = 64
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def test_a_run_whose_graph_was_edited_meanwhile_is_kept_but_not_made_current(
    tmp_path: Path,
) -> None:
    path = Workflow.from_template("moons_mlp").save(tmp_path / "moons.dcproj.json")
    trainer = Workflow.open(path)
    _result, run = trainer.train(epochs=1)
    editor = Workflow.open(path)  # meanwhile, the graph changes in the file
    editor.undo.push(SetParams(editor.project.graph.node_by_name("dense").id, {"units": 4}))
    editor.save()

    assert trainer.record_in_file(run) is False

    on_disk = load_project(path)
    assert on_disk.graph.node_by_name("dense").params["units"] == 4  # the edit stands
    assert [r.id for r in on_disk.runs] == [run.id] and on_disk.weights.run is None
    assert trainer.record_in_file(run) is False  # recording twice adds it once
    assert len(load_project(path).runs) == 1


def test_a_file_that_cannot_take_the_run_is_left_as_it_is(tmp_path: Path) -> None:
    path = Workflow.from_template("moons_mlp").save(tmp_path / "moons.dcproj.json")
    workflow = Workflow.open(path)
    _result, run = workflow.train(epochs=1)
    path.write_text("{ half a file", encoding="utf-8")  # an editor saving a broken file

    with pytest.raises(ProjectError, match=f"run {run.id} was not recorded") as info:
        workflow.record_in_file(run)

    assert str(run.checkpoint) in str(info.value)  # where its weights are kept
    assert path.read_text(encoding="utf-8") == "{ half a file"
