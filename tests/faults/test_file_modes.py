"""Written files get the permissions the user's umask gives, like any program's: temporary
files made by mkstemp/mkdtemp are private (0600/0700) and a rename used to keep that, so an
exported model, a checkpoint or a saved project was readable by its owner alone. A file that
exists already keeps its own mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import Outcome, run_cli, write_project

UMASK = 0o022


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(UMASK)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ok(outcome: Outcome) -> None:
    assert outcome.code == 0, outcome.err


@pytest.mark.usefixtures("umask")
def test_saves_checkpoints_and_exports_follow_the_umask(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    assert mode(project) == 0o644
    ok(run_cli("train", project))  # saves the project again and writes the run's checkpoint
    assert mode(project) == 0o644
    checkpoints = list((tmp_path / "p.runs").glob("*.weights.npz"))
    assert checkpoints and all(mode(c) == 0o644 for c in checkpoints)
    for fmt, name in [("keras", "m.keras"), ("tflite", "m.tflite"), ("python", "m.py")]:
        ok(run_cli("export", project, "--format", fmt, "-o", tmp_path / name))
        assert mode(tmp_path / name) == 0o644, fmt
    ok(run_cli("export", project, "--format", "savedmodel", "-o", tmp_path / "served"))
    assert mode(tmp_path / "served") == 0o755


@pytest.mark.usefixtures("umask")
def test_a_file_replaced_keeps_its_own_mode(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    target = tmp_path / "m.keras"
    ok(run_cli("export", project, "--format", "keras", "-o", target))
    target.chmod(0o640)
    project.chmod(0o600)
    ok(run_cli("export", project, "--format", "keras", "-o", target))
    ok(run_cli("train", project))
    assert (mode(target), mode(project)) == (0o640, 0o600)
