"""Data loss through exports: an export replaces only what it would write itself.

`export --format savedmodel -o DIR` used to empty any existing folder (the project's own
folder included, exit 0), and `--format python -o P.dcproj.json` wrote a script over the
project. Each must now be refused before any work, naming the path, with nothing changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from backend.exchange.export_formats import check_target
from tests.faults.conftest import fingerprint, run_cli, write_project


def test_savedmodel_over_a_folder_that_is_not_a_savedmodel_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("three weeks of notes")
    before = fingerprint(tmp_path)
    result = run_cli("export", project, "--format", "savedmodel", "-o", folder)
    assert result.code == 2, result.err
    assert str(folder) in result.error and "not a SavedModel" in result.error, result.error
    assert "notes.txt" in result.error  # what would have been lost
    assert fingerprint(tmp_path) == before


def test_savedmodel_into_the_projects_own_folder_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    before = fingerprint(tmp_path)
    result = run_cli("export", project, "--format", "savedmodel", "-o", tmp_path)
    assert result.code == 2, result.err
    assert "p.dcproj.json" in result.error, result.error
    assert fingerprint(tmp_path) == before


def test_savedmodel_replaces_an_older_savedmodel_and_an_empty_folder(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    target = tmp_path / "served"
    (target / "variables").mkdir(parents=True)
    (target / "saved_model.pb").write_bytes(b"an older export")
    result = run_cli("export", project, "--format", "savedmodel", "-o", target)
    assert result.code == 0, result.err
    assert (target / "saved_model.pb").read_bytes() != b"an older export"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_target("savedmodel", empty) == empty  # nothing in it to lose


def test_a_script_over_the_project_file_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    before = fingerprint(tmp_path)
    result = run_cli("export", project, "--format", "python", "-o", project)
    assert result.code == 2, result.err
    assert str(project) in result.error and ".py" in result.error, result.error
    assert fingerprint(tmp_path) == before


def test_no_export_writes_over_its_project_even_through_a_link(tmp_path: Path) -> None:
    """A project named like an export (`model.py`, `model.keras`) reached through a symlink
    or a hard link: the resolved file is the project, so it is refused."""
    project = write_project(tmp_path / "model.py")
    os.symlink(project, tmp_path / "alias.py")
    os.link(project, tmp_path / "hard.py")
    keras_named = write_project(tmp_path / "model.keras")
    before = fingerprint(tmp_path)
    for target in (project, tmp_path / "alias.py", tmp_path / "hard.py"):
        result = run_cli("export", project, "--format", "python", "-o", target)
        assert result.code == 2 and "project" in result.error, (target, result.err)
    result = run_cli("export", keras_named, "--format", "keras", "-o", keras_named)
    assert result.code == 2 and "project" in result.error, result.err
    assert fingerprint(tmp_path) == before


def test_a_script_into_a_folder_or_a_missing_folder_names_the_target(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    before = fingerprint(tmp_path)
    into_folder = run_cli("export", project, "--format", "python", "-o", tmp_path)
    assert into_folder.code == 2 and str(tmp_path) in into_folder.error, into_folder.err
    assert ".tmp" not in into_folder.error  # never a temporary name the user never chose
    missing = run_cli("export", project, "--format", "python", "-o", tmp_path / "no" / "m.py")
    assert missing.code == 1 and str(tmp_path / "no" / "m.py") in missing.error, missing.err
    assert ".tmp" not in missing.error
    assert fingerprint(tmp_path) == before


def test_a_file_export_onto_a_folder_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    folder = tmp_path / "model.keras"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    before = fingerprint(tmp_path)
    result = run_cli("export", project, "--format", "keras", "-o", folder)
    assert result.code == 2 and "is a folder" in result.error, result.err
    assert fingerprint(tmp_path) == before
