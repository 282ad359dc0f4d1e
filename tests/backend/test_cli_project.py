"""The headless commands that do what the Start and Data tabs do: new, examples, data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend.cli.main import main as cli_main
from backend.data.samples import SAMPLE_CSV
from backend.document.project import load_project
from backend.templates.gallery import template_ids
from backend.workflow.session import Workflow


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_examples_lists_the_gallery(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "examples", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [t["id"] for t in listed] == template_ids()
    assert all(t["title"] and t["category"] and t["teaches"] for t in listed)
    code, out, _ = run(capsys, "examples")
    assert code == 0 and "moons_mlp" in out and "main.py new -o" in out


def test_new_writes_an_empty_project_or_a_template(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.dcproj.json"
    code, out, _ = run(capsys, "new", "-o", empty)
    assert code == 0 and "dataset: none yet" in out
    project = load_project(empty)
    assert project.name == "empty" and not project.graph.nodes and project.dataset is None

    moons = tmp_path / "moons.dcproj.json"
    code, out, _ = run(capsys, "new", "-o", moons, "--example", "moons_mlp", "--name", "Mine")
    assert code == 0 and "from the template 'moons_mlp'" in out
    assert load_project(moons).name == "Mine" and len(load_project(moons).graph.nodes) == 4

    code, _, err = run(capsys, "new", "-o", moons)  # never over a file without --force
    assert code == 2 and "exists" in err and load_project(moons).name == "Mine"
    code, _, err = run(capsys, "new", "-o", tmp_path / "x.dcproj.json", "--example", "nope")
    assert code == 1 and "unknown template 'nope'" in err
    assert not (tmp_path / "x.dcproj.json").exists()


def test_data_shows_and_chooses_the_project_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "work"
    (folder / "data").mkdir(parents=True)
    shutil.copy(SAMPLE_CSV, folder / "data" / "penguins.csv")
    project = folder / "p.dcproj.json"
    assert run(capsys, "new", "-o", project)[0] == 0
    code, out, _ = run(capsys, "data", project)
    assert code == 0 and "no dataset yet" in out

    monkeypatch.chdir(folder / "data")  # a path typed relative to where the user is
    code, out, err = run(
        capsys,
        "data",
        project,
        "csv",
        "--param",
        "path=penguins.csv",
        "--param",
        'target=["species"]',
        "--param",
        "missing=fill",
    )
    assert code == 0, err
    assert "classification, 3 classes" in out
    saved = json.loads(project.read_text())["dataset"]
    assert saved["params"]["path"] == "data/penguins.csv"  # beside the project: relative
    monkeypatch.chdir(tmp_path)
    assert load_project(project).load_data().num_classes == 3
    (tmp_path / "elsewhere").mkdir()  # Save As into another folder: still the same data file
    Workflow.open(project).save(tmp_path / "elsewhere" / "p.dcproj.json")
    assert load_project(tmp_path / "elsewhere" / "p.dcproj.json").load_data().num_classes == 3

    assert run(capsys, "data", project, "nope")[0] == 2
    assert run(capsys, "data", project, "moons", "--val", "0.9", "--test", "0.2")[0] == 2
    assert json.loads(project.read_text())["dataset"]["name"] == "csv"  # refused: unchanged
    assert run(capsys, "data", project, "--none")[0] == 0
    assert load_project(project).dataset is None
