"""An attacker's sweep of the commands and inputs added since the first sweep: `new
--pretrained`, `pretrained`, `data --param`, `train --continue`, number flags, and project or
template files whose dataset, checkpoint or current weights point somewhere hostile. Each is a
clear refusal (argparse's exit 2 for a bad flag, 1 for a bad file), nothing is written, nothing
is downloaded, nothing hangs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.templates.gallery import template_info
from tests.faults.conftest import fingerprint, run_cli, write_project


@contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """A hang (a FIFO opened for reading) fails the test instead of stalling the suite."""

    def hung(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a refused command must not download anything")

    monkeypatch.setattr("backend.cli.pretrained_command.download_weights", refuse)


def test_pretrained_names_and_numbers_are_refused_before_anything(
    tmp_path: Path, no_download: None
) -> None:
    out = tmp_path / "n.dcproj.json"
    new = ("new", "-o", out, "--pretrained")
    cases = [
        ((*new, ""), 2, "unknown pretrained network ''"),  # made an empty project
        ((*new, "../../x"), 2, "unknown pretrained network '../../x'"),
        ((*new, "MobileNetV2", "--classes", "0"), 2, "from 2 to 100,000, got 0"),  # became 2
        ((*new, "MobileNetV2", "--classes", str(10**12)), 2, "got 1,000,000,000,000"),
        ((*new, "MobileNetV2", "--classes", ""), 2, "expected a whole number"),
        ((*new, "MobileNetV2", "--input-shape", "100000,100000,3"), 2, "sides up to 8,192"),
        ((*new, "MobileNetV2", "--input-shape", "16,16,3"), 1, "at least 32x32"),
        ((*new, "MobileNetV2", "--weights", "imagenet"), 1, "not on this computer"),
        ((*new, "MobileNetV2", "--weights", str(tmp_path)), 1, "no such weights file"),
        ((*new, "MobileNetV2", "--data", os.devnull), 2, "not a folder"),
        (("new", "-o", out, "--example", "../../etc/passwd"), 1, "unknown template"),
        (("pretrained", "--download", ""), 2, "unknown pretrained network ''"),  # listed all
        (("pretrained", "--download", "../x"), 2, "unknown pretrained network"),
        (("pretrained", "--size", "7"), 2, "--size goes with --download"),  # was ignored
        (("pretrained", "--download", "MobileNetV2", "--size", "0"), 2, "from 1 to 8,192"),
        (("pretrained", "--download", "MobileNetV2", "--size", "8"), 2, "at least 32 pixels"),
    ]
    before = fingerprint(tmp_path, Path(os.environ["KERAS_HOME"]) / "models")
    for argv, code, words in cases:
        result = run_cli(*argv)
        assert (result.code, words in result.error) == (code, True), (argv, result.err)
    assert fingerprint(tmp_path, Path(os.environ["KERAS_HOME"]) / "models") == before


def test_number_flags_and_settings_out_of_range_are_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    before = fingerprint(tmp_path)
    for argv, words in (
        (("train", project, "--epochs", "-1"), "must be at least 1, got -1"),
        (("train", project, "--epochs", "0"), "must be at least 1, got 0"),
        (("train", project, "--epochs", str(10**12)), "at most 100,000"),  # trained for ever
        (("train", project, "--epochs", ""), "expected a whole number"),
        (("data", project, "moons", "--seed", "-1"), "at least 0"),  # NumPy's words
        (("data", project, "moons", "--seed", str(2**40)), "at most 4,294,967,295"),
        (("data", project, "moons", "--param", "nosuch=1"), "moons has no such setting"),
        (("data", project, "moons", "--param", "samples=1e300"), "at most 200,000"),
        (("data", project, "moons", "--param", 'path={"a":'), "no such setting"),
    ):
        result = run_cli(*argv)
        assert result.code in (1, 2) and words in result.error, (argv, result.err)
    assert fingerprint(tmp_path) == before
    for key, value, words in (
        ("epochs", 10**12, "epochs must be from 1 to 100,000"),
        ("batch_size", 0, "batch size must be at least 1"),
        ("seed", -1, "seed must be from 0 to 2,147,483,647, got -1"),
    ):
        edited = json.loads(project.read_text())
        edited["training"][key] = value  # a hand-edited file
        bad = tmp_path / f"{key}.dcproj.json"
        bad.write_text(json.dumps(edited))
        result = run_cli("train", bad, "--no-record")
        assert result.code == 1 and words in result.error, result.err


def pipe(tmp_path: Path) -> Path:
    """A FIFO beside the test's folder (reading it to fingerprint the folder would wait)."""
    fifo = tmp_path.parent / f"{tmp_path.name}-pipe.csv"
    os.mkfifo(fifo)
    return fifo


def test_data_paths_that_are_folders_devices_or_fifos(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    fifo = pipe(tmp_path)
    before = fingerprint(tmp_path)
    for path, words in (
        (tmp_path, "is a folder, not a data file"),
        (fifo, "is empty"),  # opened for reading, it would wait for a writer for ever
        ("/dev/zero", "is empty"),
        (tmp_path / "gone.csv", "does not exist"),
    ):
        with at_most(20):
            result = run_cli("data", project, "csv", "--param", f"path={path}")
        assert result.code == 1 and words in result.error, (path, result.err)
    assert fingerprint(tmp_path) == before


def test_a_template_file_whose_data_points_outside(tmp_path: Path) -> None:
    """A template is a project file: opened as one, its dataset path is read relative to it
    (never the app's own folders) and what it points at is judged as data, nothing more."""
    fifo = pipe(tmp_path)
    template = json.loads(template_info("penguins_csv").path.read_text())
    for where, words in (
        ("../../../../../../../../etc/passwd", "has no column 'species'"),
        ("/etc/passwd", "has no column 'species'"),
        ("../../nowhere/x.csv", "does not exist"),
        (str(fifo), "is empty"),
    ):
        template["dataset"]["params"]["path"] = where
        path = tmp_path / "hostile.dcproj.json"
        path.write_text(json.dumps(template))
        before = fingerprint(tmp_path)
        with at_most(30):
            checked, trained = run_cli("validate", path), run_cli("train", path)
        assert checked.code == 1 and words in checked.err, (where, checked.err)
        assert trained.code == 1 and "cannot train" in trained.error and words in trained.error
        assert fingerprint(tmp_path) == before  # refused starts record nothing


def test_continue_from_a_checkpoint_gone_foreign_or_not_weights(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    other = write_project(
        tmp_path / "q.dcproj.json",
        (("Input", {"shape": [2]}), ("Dense", {"units": 7}), ("Dense", {"units": 1})),
    )
    assert run_cli("train", project).code == 0 and run_cli("train", other).code == 0
    run = json.loads(project.read_text())["runs"][0]
    checkpoint = tmp_path / run["checkpoint"]
    foreign = tmp_path / json.loads(other.read_text())["runs"][0]["checkpoint"]
    checkpoint.unlink()
    gone = run_cli("train", project, "--continue", "last", "--no-record")
    assert gone.code == 1 and "is missing" in gone.error, gone.err
    for argv in (("evaluate", project), ("export", project, "-o", tmp_path / "m.keras")):
        used = run_cli(*argv)  # they used an untrained model under the run's name, exit 0
        assert used.code == 1 and "are missing (the file was moved" in used.error, used.err
    assert not (tmp_path / "m.keras").exists()
    shutil.copy(foreign, checkpoint)  # another model's weights where the run's were
    before = fingerprint(tmp_path)
    wrong = run_cli("train", project, "--continue", "last", "--no-record")
    assert wrong.code == 1 and "does not fit the model of its run" in wrong.error, wrong.err
    assert "'dense'" in wrong.error and fingerprint(tmp_path) == before
    for argv in (("evaluate", project), ("export", project, "-o", tmp_path / "m.keras")):
        used = run_cli(*argv)  # they used an untrained model and said 'left untrained'
        assert used.code == 1 and "does not fit the model it trained" in used.error, used.err
    assert fingerprint(tmp_path) == before
    edited = json.loads(project.read_text())
    edited["runs"][0]["checkpoint"] = "/etc/passwd"  # not weights at all
    project.write_text(json.dumps(edited))
    before = fingerprint(tmp_path)
    for argv in (("evaluate", project), ("export", project, "-o", tmp_path / "m.keras")):
        result = run_cli(*argv)
        assert result.code == 1 and "/etc/passwd: not a readable weights file" in result.error
        assert "allow_pickle" not in result.err and "pickled Python objects" in result.error
    assert fingerprint(tmp_path) == before


def test_current_weights_that_point_nowhere(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    document = json.loads(project.read_text())
    for current, code, words in (
        ({"run": "../../etc/passwd", "initial_fingerprint": None}, 0, "weights: untrained"),
        ({"run": "x", "initial_fingerprint": 5}, 1, "'initial_fingerprint' must be a string"),
        ("x", 1, "'current_weights' must be an object"),
    ):
        project.write_text(json.dumps({**document, "current_weights": current}))
        before = fingerprint(tmp_path)
        result = run_cli("evaluate", project)
        assert result.code == code and words in (result.out + result.err), result.err
        assert fingerprint(tmp_path) == before


def test_predict_refuses_arrays_it_cannot_answer_for(tmp_path: Path) -> None:
    """`predict --input X.npy`: samples that do not fit the model, NaN, a bare number, Python
    objects (a pickle) and a missing file are refused by name; they raised a traceback or, for
    NaN, printed an answer."""
    import numpy as np

    project = write_project(tmp_path / "p.dcproj.json")
    assert run_cli("train", project).code == 0
    np.save(tmp_path / "ok.npy", np.array([[0.0, 0.5], [1.5, -0.3]], dtype="float32"))
    np.save(tmp_path / "wide.npy", np.zeros((3, 5), dtype="float32"))
    np.save(tmp_path / "nan.npy", np.array([[0.0, 0.5], [np.nan, 1.0]]))
    np.save(tmp_path / "one.npy", np.float32(3))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    answered = run_cli("predict", project, "--input", tmp_path / "ok.npy")
    assert answered.code == 0 and "sample 1:" in answered.out, answered.err
    for name, words in (
        ("wide", "samples of shape (3, 5) do not fit the model's input (None, 2)"),
        ("nan", "1 of 2 samples hold NaN or infinity"),
        ("one", "holds one number: give samples, one per row"),
        ("objects", "objects.npy"),
        ("gone", "gone.npy: no such file"),
    ):
        refused = run_cli("predict", project, "--input", tmp_path / f"{name}.npy")
        assert refused.code == 1 and words in refused.error, (name, refused.err)
