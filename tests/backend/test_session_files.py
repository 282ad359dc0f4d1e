"""Autosave, crash recovery and the recent-projects list."""

from __future__ import annotations

from pathlib import Path

from backend.document.project import save_project
from backend.document.session_files import (
    discard_autosave,
    pending_autosaves,
    recent_projects,
    recover,
    remember,
    write_autosave,
)
from backend.templates.examples import digits_cnn, moons_mlp


def test_autosave_of_unsaved_work_is_recovered(private_home: Path) -> None:
    project = digits_cnn()
    project.graph.rename_node(project.graph.node_by_name("dense").id, "hidden")
    write_autosave(project, "s1")
    pending = pending_autosaves()
    assert len(pending) == 1 and pending[0].source is None
    back = recover(pending[0])
    assert back.graph.node_by_name("hidden")
    assert back.dirty and back.path is None


def test_autosave_of_a_saved_project_points_back_to_its_file(tmp_path: Path) -> None:
    project = moons_mlp()
    save_project(project, tmp_path / "m.dcproj.json")
    project.training.epochs = 99
    write_autosave(project, "s2")
    back = recover(pending_autosaves()[0])
    assert back.path == tmp_path / "m.dcproj.json"
    assert back.training.epochs == 99


def test_discarded_or_saved_work_leaves_no_autosave() -> None:
    project = digits_cnn()
    write_autosave(project, "s3")
    discard_autosave(project, "s3")
    assert pending_autosaves() == []


def test_unreadable_autosave_is_skipped(private_home: Path) -> None:
    folder = private_home / "autosave"
    folder.mkdir(exist_ok=True)
    (folder / "junk.autosave.json").write_text("{ torn")
    assert pending_autosaves() == []


def test_recent_projects_newest_first_and_only_existing(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for p in (a, b):
        save_project(digits_cnn(), p)
        remember(p)
    remember(a)
    assert recent_projects() == [a.resolve(), b.resolve()]
    b.unlink()
    assert recent_projects() == [a.resolve()]


def test_saved_files_get_normal_permissions(tmp_path: Path) -> None:
    import os
    import stat

    path = tmp_path / "p.dcproj.json"
    save_project(digits_cnn(), path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    save_project(digits_cnn(), path)  # an existing file keeps its mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_as_elsewhere_carries_weights_and_checkpoints(tmp_path: Path) -> None:
    from dataclasses import replace

    from backend.document.project import load_project
    from backend.training.recording import RunClock, record_run
    from backend.training.trainer import TrainResult

    project = digits_cnn()
    first = tmp_path / "a" / "net.dcproj.json"
    first.parent.mkdir()
    save_project(project, first)
    (first.parent / "net.weights.npz").write_bytes(b"weights")
    (first.parent / "net.runs").mkdir()
    (first.parent / "net.runs" / "r1.weights.npz").write_bytes(b"checkpoint")
    project.training.initial_weights = "net.weights.npz"
    record = record_run(
        project,
        TrainResult("failed", "x"),
        RunClock.start(),
        graph_data=project.graph.to_dict(),
        dataset=project.dataset,
        config=project.training,
    )
    project.runs[-1] = replace(record, checkpoint="net.runs/r1.weights.npz")
    second = tmp_path / "b" / "copy.dcproj.json"
    second.parent.mkdir()
    save_project(project, second)
    assert (second.parent / "net.weights.npz").read_bytes() == b"weights"
    assert (second.parent / "net.runs" / "r1.weights.npz").read_bytes() == b"checkpoint"
    reopened = load_project(second)
    assert reopened.training.initial_weights == "net.weights.npz"
    assert reopened.runs[-1].checkpoint == "net.runs/r1.weights.npz"
