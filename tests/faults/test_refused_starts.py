"""A training refused on its data (NaN, a file gone, outputs that do not fit the labels) never
started: it is not a run. It was recorded as a failed run and the project file was rewritten
(or, in the app, the project became dirty) for a start that changed nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backend.workflow.session import Workflow
from tests.faults.conftest import fingerprint, run_cli, write_project

TEN_INTO_ONE = (("Input", {"shape": [3]}), ("Dense", {"units": 1, "activation": "sigmoid"}))


def ten_classes(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "ten.npz"
    np.savez(path, x=rng.normal(size=(50, 3)).astype("float32"), y=np.arange(50) % 10)
    return path


def test_a_start_refused_on_its_data_records_nothing(tmp_path: Path) -> None:
    data = ten_classes(tmp_path)
    project = write_project(tmp_path / "p.dcproj.json", TEN_INTO_ONE, "numpy", {"path": str(data)})
    before = fingerprint(tmp_path)
    workflow = Workflow.open(project)
    weights = workflow.weights.describe()
    job = workflow.prepare_training()  # the data is a file: checked once it has loaded
    result = job.run()
    dense = workflow.project.graph.node_by_name("dense").id
    assert result.status == "refused" and result.node_id == dense
    assert "10 classes" in result.message, result.message
    assert workflow.finish_training(job, result) is None
    assert workflow.project.runs == [] and not workflow.project.dirty
    assert workflow.weights.describe() == weights
    train = run_cli("train", project)
    assert train.code == 1 and "cannot train" in train.error and "'dense'" in train.error
    assert "recorded" not in train.out and "training failed" not in train.error
    assert fingerprint(tmp_path) == before


def test_data_that_cannot_load_is_refused_not_a_failed_run(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p.dcproj.json", TEN_INTO_ONE, "numpy", {"path": str(tmp_path / "gone.npz")}
    )
    before = fingerprint(tmp_path)
    for argv in (("train", project), ("train", project, "--json")):
        result = run_cli(*argv)
        assert result.code == 1 and "cannot train: could not load the data" in result.error
        assert "gone.npz" in result.error and "run_recorded" not in result.out
    assert fingerprint(tmp_path) == before
