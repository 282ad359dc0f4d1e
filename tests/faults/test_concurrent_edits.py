"""Two writers of one project file: `main.py train` records its run at the end, while the app
(or an editor) saved an edit meanwhile. Neither may silently undo the other: the run is added
to the file as it is now, and the app's next save keeps the run it never saw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import load_project, save_project
from backend.workflow.training import TrainingJob
from tests.faults.conftest import run_cli, write_project
from tests.faults.test_project_files import failed_run


def test_an_edit_saved_during_a_cli_training_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    real_run = TrainingJob.run

    def run_while_someone_edits(job: TrainingJob) -> Any:
        result = real_run(job)
        data = json.loads(path.read_text())  # the app saves an edit before the run is recorded
        data["description"] = "edited while it trained"
        data["graph"]["nodes"][1]["params"]["units"] = 8
        path.write_text(json.dumps(data, indent=2))
        return result

    monkeypatch.setattr(TrainingJob, "run", run_while_someone_edits)
    result = run_cli("train", path)
    assert result.code == 0, result.err
    data = json.loads(path.read_text())
    assert data["description"] == "edited while it trained"
    assert data["graph"]["nodes"][1]["params"]["units"] == 8
    assert [r["status"] for r in data["runs"]] == ["completed"]
    assert data["current_weights"]["run"] is None  # the graph changed: not its weights
    assert "edited in the file meanwhile" in result.out


def test_the_apps_save_keeps_a_run_recorded_by_another_process(tmp_path: Path) -> None:
    from backend.document.project import record_run_in_file

    path = write_project(tmp_path / "p.dcproj.json")
    open_in_app = load_project(path)
    record_run_in_file(path, failed_run("from-the-cli"))  # while the app has it open
    open_in_app.description = "the app's own edit"
    save_project(open_in_app)
    data = json.loads(path.read_text())
    assert [r["id"] for r in data["runs"]] == ["from-the-cli"]
    assert data["description"] == "the app's own edit"
