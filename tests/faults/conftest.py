"""Fault suite helpers: tiny projects, the CLI run in-process, and fingerprints of what is on
disk, so every case can assert that nothing changed that should not have."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import DatasetChoice, Project, save_project
from backend.document.training_config import TrainingConfig
from tests.graphs import chain

MOONS_MLP = (
    ("Input", {"shape": [2]}),
    ("Dense", {"units": 4, "activation": "relu"}),
    ("Dense", {"units": 1, "activation": "sigmoid"}),
)


def write_project(
    path: Path,
    specs: tuple[tuple[str, dict[str, Any]], ...] = MOONS_MLP,
    dataset: str | None = "moons",
    params: dict[str, Any] | None = None,
    **training: Any,
) -> Path:
    """A small project file: `specs` chained, the dataset, one epoch unless told."""
    settings = {"epochs": 1, "batch_size": 32, **training}
    choice = DatasetChoice(dataset, params or {}) if dataset else None
    project = Project(chain(*specs), None, TrainingConfig(**settings), name="Faults")
    project.dataset = choice
    save_project(project, path)
    return path


def fingerprint(*paths: Path) -> dict[str, str]:
    """sha256 of every file under `paths` (files or folders), with its mode: what a refused
    command must leave exactly as it was. Links are recorded, never followed."""
    found: dict[str, str] = {}
    for root in paths:
        if root.is_symlink() or root.is_file():
            found[str(root)] = _file_hash(root)
            continue
        if not root.exists():
            found[str(root)] = "absent"
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            found[folder] = f"dir {os.stat(folder).st_mode:o}"
            links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
            for name in sorted(files + links):
                path = Path(folder) / name
                found[str(path)] = _file_hash(path)
    return found


def _file_hash(path: Path) -> str:
    if path.is_symlink():
        return f"link -> {os.readlink(path)}"
    mode = f"{path.stat().st_mode:o}"
    return mode + " " + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The last line on stderr (the CLI's one-line error)."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_cli(*argv: str | Path) -> Outcome:
    """`main.py COMMAND ...` in this process; an exception escaping it fails the test (a crash
    with a traceback is one of the faults this suite exists for)."""
    from backend.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Outcome(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., Outcome]:
    return run_cli
