"""The project file: atomic save, load round trip, versions, and refusing bad files cleanly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import backend.document.project as project_module
from backend.document.project import (
    FORMAT_VERSION,
    DatasetChoice,
    Project,
    ProjectError,
    load_project,
    project_from_dict,
    save_project,
)
from backend.document.training_config import TrainingConfig
from backend.templates.examples import EXAMPLES, digits_cnn, moons_mlp


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def leftovers(folder: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != keep)


def test_save_then_load_round_trips_everything(tmp_path: Path) -> None:
    project = digits_cnn()
    project.description = "café, naïve: unicode survives"
    project.training = TrainingConfig(optimizer="sgd", learning_rate=0.05, momentum=0.9, epochs=3)
    project.dataset = DatasetChoice("moons", {"samples": 200, "noise": 0.1}, 0.2, 0.1, seed=7)
    path = tmp_path / "digits.dcproj.json"

    assert save_project(project, path) == path
    assert project.path == path and not project.dirty
    assert leftovers(tmp_path, path) == []  # the temporary file was renamed, not left behind

    loaded = load_project(path)
    assert loaded.to_dict() == project.to_dict()
    assert loaded.path == path
    assert not loaded.dirty
    assert loaded.training == project.training
    assert loaded.dataset == project.dataset
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_round_trips(name: str, tmp_path: Path) -> None:
    project = EXAMPLES[name]()
    loaded = load_project(save_project(project, tmp_path / f"{name}.dcproj.json"))
    assert loaded.to_dict() == project.to_dict()


def test_saving_again_replaces_the_file(tmp_path: Path) -> None:
    project = moons_mlp()
    path = save_project(project, tmp_path / "moons.dcproj.json")
    project.graph.rename_node(next(iter(project.graph.nodes)), "points")
    assert project.dirty
    save_project(project)  # to its own path
    assert load_project(path).graph.node_by_name("points")
    assert leftovers(tmp_path, path) == []


def test_a_project_without_a_path_cannot_be_saved_in_place() -> None:
    with pytest.raises(ProjectError, match="no file yet"):
        save_project(Project())


def test_edits_mark_the_project_dirty() -> None:
    project = moons_mlp()
    heard: list[bool] = []
    project.changed.connect(lambda: heard.append(project.dirty))
    node = next(iter(project.graph.nodes))
    project.graph.move_node(node, (5, 5))
    assert project.dirty and heard == [True]


# ----------------------------------------------------------------- files that are refused
def test_a_file_that_is_not_json_names_the_file_and_json(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcproj.json"
    path.write_text("this is { not json", encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert str(path) in str(info.value)
    assert "JSON" in str(info.value)
    assert "line 1" in str(info.value)


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.dcproj.json"
    with pytest.raises(ProjectError, match="no such file") as info:
        load_project(path)
    assert str(path) in str(info.value)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.dcproj.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(ProjectError, match="cannot be read"):
        load_project(path)


def test_a_newer_format_version_is_refused(tmp_path: Path) -> None:
    data = moons_mlp().to_dict()
    data["format_version"] = FORMAT_VERSION + 1
    path = write_json(tmp_path / "future.dcproj.json", data)
    with pytest.raises(ProjectError, match="newer DeepCanvas") as info:
        load_project(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data", [[1, 2], {"app": "DeepCanvas"}, {"format_version": "1"}])
def test_a_json_document_that_is_no_project_is_refused(data: Any, tmp_path: Path) -> None:
    with pytest.raises(ProjectError):
        load_project(write_json(tmp_path / "other.json", data))


def test_an_old_version_is_migrated_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a version 2 format, a version 1 file goes through the 1 -> 2 migration."""
    data = moons_mlp().to_dict()
    data["title"] = data.pop("name")  # pretend version 1 called it 'title'

    def rename_title(old: dict[str, Any]) -> dict[str, Any]:
        new = dict(old)
        new["name"] = new.pop("title")
        return new

    monkeypatch.setattr(project_module, "FORMAT_VERSION", 2)
    monkeypatch.setattr(project_module, "MIGRATIONS", {1: rename_title})
    project = project_from_dict(data)
    assert project.name == "Moons MLP"
    monkeypatch.setattr(project_module, "MIGRATIONS", {})
    with pytest.raises(ProjectError, match="no longer supported"):
        project_from_dict(data)


def test_an_unknown_layer_type_is_named(tmp_path: Path) -> None:
    data = moons_mlp().to_dict()
    data["graph"]["nodes"][1]["type"] = "Dense3000"
    with pytest.raises(ProjectError, match="unknown layer type 'Dense3000'"):
        load_project(write_json(tmp_path / "odd.dcproj.json", data))


def test_loading_never_runs_code_from_the_file(tmp_path: Path) -> None:
    """A Lambda-like entry is just an unknown layer: its 'code' is never evaluated."""
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    data = moons_mlp().to_dict()
    data["graph"]["nodes"][1].update(
        {"type": "Lambda", "params": {"function": payload, "__reduce__": payload}}
    )
    data["name"] = payload
    with pytest.raises(ProjectError, match="unknown layer type 'Lambda'"):
        load_project(write_json(tmp_path / "evil.dcproj.json", data))
    data["graph"]["nodes"][1]["type"] = "Dense"  # as a known layer's parameter: still data
    del data["graph"]["nodes"][1]["params"]["__reduce__"]
    project = load_project(write_json(tmp_path / "evil2.dcproj.json", data))
    assert project.name == payload
    assert not marker.exists()


@pytest.mark.parametrize(
    ("section", "value", "expected"),
    [
        ("training", {"epochs": 0}, "at least 1"),
        ("training", {"optimiser": "adam"}, "unknown training settings: optimiser"),
        ("training", {"optimizer": "magic"}, "optimizer must be one of"),
        ("dataset", {"name": "imagenet"}, "unknown dataset 'imagenet'"),
        ("dataset", {"nmae": "digits"}, "nmae"),
        ("graph", {"nodes": "none"}, "must be lists"),
    ],
)
def test_bad_sections_are_refused_with_the_reason(
    section: str, value: Any, expected: str, tmp_path: Path
) -> None:
    data = moons_mlp().to_dict()
    data[section] = value
    path = write_json(tmp_path / "bad.dcproj.json", data)
    with pytest.raises(ProjectError, match=expected) as info:
        load_project(path)
    assert str(info.value).startswith(str(path))


# ----------------------------------------------------------------- failed saves
def test_a_failed_serialisation_leaves_the_file_on_disk_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = moons_mlp()
    path = save_project(project, tmp_path / "moons.dcproj.json")
    before = path.read_bytes()

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise TypeError("Object of type set is not JSON serializable")

    monkeypatch.setattr(project_module.json, "dumps", refuse)
    project.graph.rename_node(next(iter(project.graph.nodes)), "renamed")
    with pytest.raises(ProjectError, match="cannot be saved") as info:
        save_project(project)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert project.dirty  # still unsaved
    assert leftovers(tmp_path, path) == []


def test_a_parameter_json_cannot_hold_is_a_project_error(tmp_path: Path) -> None:
    project = moons_mlp()
    path = save_project(project, tmp_path / "moons.dcproj.json")
    before = path.read_bytes()
    project.graph.set_params(next(iter(project.graph.nodes)), {"odd": {1, 2}})
    with pytest.raises(ProjectError, match="cannot be saved"):
        save_project(project)
    assert path.read_bytes() == before


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = moons_mlp()
    path = save_project(project, tmp_path / "moons.dcproj.json")
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_module.os, "fsync", disk_full)
    project.name = "changed"
    with pytest.raises(ProjectError, match="No space left") as info:
        save_project(project)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert leftovers(tmp_path, path) == []


def test_saving_into_a_missing_folder_is_a_project_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "p.dcproj.json"
    with pytest.raises(ProjectError, match="cannot be written") as info:
        save_project(moons_mlp(), target)
    assert str(target) in str(info.value)
    assert not target.parent.exists()
