"""The project file: what the user set on it is respected, what is written is strict JSON, and
a hostile or broken file is a one-line refusal (never a traceback), at load, not after a run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import (
    ProjectError,
    load_project,
    record_run_in_file,
    save_project,
)
from backend.document.runs import RunRecord
from backend.document.session_files import Autosave, pending_autosaves, recent_projects, remember
from backend.paths import data_dir
from tests.faults.conftest import fingerprint, run_cli, write_project

STRICT = {"parse_constant": lambda name: pytest.fail(f"not strict JSON: {name}")}


def failed_run(run_id: str = "r1") -> RunRecord:
    """A run that diverged: its last losses are NaN and infinity, as Keras reports them."""
    nan, inf = float("nan"), float("inf")
    return RunRecord(
        id=run_id,
        started_at="2026-01-01T10:00:00+00:00",
        wall_time_s=1.5,
        status="failed",
        message="the loss became nan in epoch 3: training diverged",
        training={},
        dataset={},
        fingerprint="0" * 64,
        graph={"nodes": [], "edges": [], "outputs": []},
        history={"loss": [0.7, inf, nan], "accuracy": [0.5, 0.5, nan]},
        metrics={"loss": nan},
    )


def test_a_read_only_project_is_never_replaced(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    project = load_project(path)
    project.name = "edited"
    os.chmod(path, 0o444)
    before = fingerprint(tmp_path)
    with pytest.raises(ProjectError, match="read-only") as info:
        save_project(project)
    assert str(path) in str(info.value) and "chmod" in str(info.value)
    with pytest.raises(ProjectError, match="read-only"):
        record_run_in_file(path, failed_run())
    assert fingerprint(tmp_path) == before  # bytes and the 0444 mode


def test_train_refuses_a_read_only_project_before_training(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    os.chmod(path, 0o444)
    before = fingerprint(tmp_path)
    result = run_cli("train", path)
    assert result.code == 1, result.err
    assert "read-only" in result.error and str(path) in result.error, result.err
    assert "--no-record" in result.error
    assert "epoch" not in result.out  # refused before any work
    assert fingerprint(tmp_path) == before


def test_a_failed_runs_nan_is_written_as_null_and_old_files_still_open(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    record_run_in_file(path, failed_run("r1"))
    data = json.loads(path.read_text(), **STRICT)
    assert data["runs"][0]["history"]["loss"] == [0.7, None, None]
    assert data["runs"][0]["metrics"] == {"loss": None}
    project = load_project(path)
    project.add_run(failed_run("r2"))
    save_project(project)
    data = json.loads(path.read_text(), **STRICT)
    assert [r["history"]["accuracy"] for r in data["runs"]] == [[0.5, 0.5, None]] * 2
    # A file an older version wrote, NaN and all, opens; its next save is strict.
    old = tmp_path / "old.dcproj.json"
    data["runs"][0]["history"]["loss"] = [float("nan"), float("inf")]
    old.write_text(json.dumps(data))  # Python's default: NaN and Infinity, not JSON
    reopened = load_project(old)
    save_project(reopened)
    json.loads(old.read_text(), **STRICT)


def test_a_non_finite_setting_is_refused_at_load_naming_it(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    text = path.read_text().replace('"units": 4', '"units": NaN')
    path.write_text(text)
    result = run_cli("validate", path)
    assert result.code == 1
    assert "graph.nodes[1].params.units" in result.error and "NaN" in result.error, result.err


def deep(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deeply_nested_project_json_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "deep.dcproj.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    before = fingerprint(tmp_path)
    for command in ("validate", "summary", "train"):
        result = run_cli(command, path)
        assert result.code == 1, (command, result.err)
        assert str(path) in result.error and "nested" in result.error, result.err
    assert fingerprint(tmp_path) == before


def test_params_nested_500_deep_are_refused_at_load_not_after_the_run(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    data = json.loads(path.read_text())
    data["graph"]["nodes"][1]["params"]["kernel_initializer"] = deep(500)
    path.write_text(json.dumps(data))
    before = fingerprint(tmp_path)
    result = run_cli("train", path)
    assert result.code == 1
    assert "nested more than" in result.error, result.err
    assert "graph.nodes[1].params.kernel_initializer" in result.error, result.err
    assert fingerprint(tmp_path) == before


def test_broken_files_in_the_apps_folder_never_stop_it_from_starting() -> None:
    """What the app reads on its start path: autosaves and the recent list. A deep, binary,
    truncated or wrongly shaped file is skipped; the good ones are still offered."""
    folder = data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    bad = {
        "deep": "[" * 100_000 + "]" * 100_000,
        "nested": json.dumps({"name": "x", "autosave": deep(500)}),
        "binary": "\x00\xff\xfe",
        "list": "[1, 2]",
        "meta": json.dumps({"name": "x", "autosave": {"saved_at": "yesterday"}}),
        "huge": json.dumps({"name": "x", "autosave": {"saved_at": 1e400}}),
    }
    for name, text in bad.items():
        (folder / f"{name}.autosave.json").write_text(text, encoding="latin-1")
    (folder / "good.autosave.json").write_text(
        json.dumps({"name": "kept", "autosave": {"source": None, "saved_at": 1.0}})
    )
    found = pending_autosaves()
    assert [a.name for a in found] == ["kept"]
    assert isinstance(found[0], Autosave)
    recent = data_dir() / "recent.json"
    for text in ("[" * 100_000 + "]" * 100_000, "\x00\x01", '{"a": 1}', "[1, null, {}]"):
        recent.write_text(text, encoding="latin-1")
        assert recent_projects() == []
    remember(data_dir() / "recent.json")  # a broken list is replaced by a good one
    assert recent_projects() == [recent.resolve()]


def test_a_broken_execution_memory_in_the_apps_folder_is_ignored() -> None:
    """The step times a training remembers (`execution.json`): a damaged file is forgotten,
    never a failed training."""
    from backend.training.execution import ExecutionMemory

    path = data_dir() / "execution.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    for text in ("[" * 100_000 + "]" * 100_000, "\x00\xff", "[1, 2]"):
        path.write_text(text, encoding="latin-1")
        memory = ExecutionMemory(path)
        assert memory.recall("any") is None
        memory.remember("any", False, {"step_ms": 1.5})  # and replaced by a good one
        assert memory.recall("any") == {"plain": {"step_ms": 1.5, "first_call_s": 0.0}}


def test_a_read_only_recent_list_never_fails_an_open_or_a_save(tmp_path: Path) -> None:
    """`remember` runs after every open and save: the list is a convenience, so a recent
    list the user made read-only stays as it is, and the open or save still succeeds."""
    recent = data_dir() / "recent.json"
    recent.parent.mkdir(parents=True, exist_ok=True)
    recent.write_text("[]")
    os.chmod(recent, 0o444)
    before = fingerprint(recent)
    remember(write_project(tmp_path / "p.dcproj.json"))  # no exception
    assert fingerprint(recent) == before
