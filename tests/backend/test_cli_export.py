"""The headless export, evaluate and scale-out options: real files, real runtimes, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.cli import main as cli
from backend.document.graph import LayerGraph
from backend.document.project import Project, save_project
from backend.exchange.keras_file import load_keras
from backend.keras_bridge.weights import load_weights
from backend.templates.examples import moons_mlp


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.out.splitlines()[-1]))


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def moons_path(tmp_path: Path) -> Path:
    project = moons_mlp()
    project.training.epochs = 2
    return save_project(project, tmp_path / "moons.dcproj.json")


def one_error_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from {lines[0]!r}"


def test_train_then_evaluate_and_export_the_trained_weights(
    run_cli: Any, moons_path: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "moons.weights.npz"
    trained = run_cli("train", str(moons_path), "--weights-out", str(weights))
    assert trained.code == 0, trained.err
    assert f"wrote the trained weights to {weights}" in trained.out

    evaluated = run_cli("evaluate", str(moons_path), "--weights", str(weights), "--json")
    assert evaluated.code == 0, evaluated.err
    report = evaluated.json()
    assert report["samples"] == 90 and report["weights"] == f"from {weights}"
    assert report["metrics"]["accuracy"] > 0.7 and "loss" in report["metrics"]
    # Without --weights: the run's own weights, the same as the file written from them.
    current = run_cli("evaluate", str(moons_path), "--json").json()
    assert current["weights_source"] == "run" and current["run"] is not None
    assert current["metrics"] == report["metrics"]

    out = tmp_path / "moons.keras"
    exported = run_cli("export", str(moons_path), "--weights", str(weights), "-o", str(out))
    assert exported.code == 0, exported.err
    assert f"weights: from {weights}" in exported.out and "max abs diff 0 " in exported.out
    stored = load_weights(weights)
    kernel = load_keras(out).layers[1].get_weights()[0]
    np.testing.assert_array_equal(kernel, stored[f"{load_keras(out).layers[1].name}:0"])


@pytest.mark.parametrize(
    ("fmt", "name", "extra"),
    [
        ("savedmodel", "served", []),
        ("tflite", "moons.tflite", ["--quantize", "float16"]),
        ("onnx", "moons.onnx", []),
    ],
)
def test_export_json_report_per_format(
    run_cli: Any, moons_path: Path, tmp_path: Path, fmt: str, name: str, extra: list[str]
) -> None:
    out = tmp_path / name
    run = run_cli("export", str(moons_path), "--format", fmt, "-o", str(out), "--json", *extra)
    assert run.code == 0, run.err
    report = run.json()
    assert report["format"] == fmt and report["path"] == str(out) and report["matches"] is True
    assert report["max_abs_diff"] < 1e-2 and report["samples"] == 8
    assert report["sample_source"] == "test samples of moons"
    assert report["weights"].startswith("untrained")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["moons.dcproj.json", name])


def test_export_usage_errors_exit_2_and_write_nothing(
    run_cli: Any, moons_path: Path, tmp_path: Path
) -> None:
    cases = [
        (["--format", "pdf", "-o", "m.pdf"], "unsupported format 'pdf'"),
        (["--format", "onnx", "-o", str(tmp_path / "m.tflite")], "must end in .onnx"),
        (["--format", "onnx", "--quantize", "dynamic", "-o", str(tmp_path / "m.onnx")], "not"),
        (["--format", "tflite", "--quantize", "int2", "-o", "m.tflite"], "invalid choice"),
    ]
    for argv, message in cases:
        run = run_cli("export", str(moons_path), *argv)
        assert run.code == 2 and message in run.err, run.err
    assert [p.name for p in tmp_path.iterdir()] == ["moons.dcproj.json"]


@pytest.mark.parametrize("fmt", ["savedmodel", "onnx"])
def test_export_to_an_unwritable_place_exits_1_naming_it(
    run_cli: Any, moons_path: Path, tmp_path: Path, fmt: str
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / ("m.onnx" if fmt == "onnx" else "served")
    run = run_cli("export", str(moons_path), "--format", fmt, "-o", str(out))
    assert run.code == 1
    one_error_line(run.err, str(out), "cannot be written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "moons.dcproj.json"]


def test_export_of_a_project_that_does_not_compile_names_the_node(
    run_cli: Any, tmp_path: Path
) -> None:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [16]})
    conv = graph.add_node("Conv2D", name="edge_finder")
    graph.connect(source.id, conv.id)
    path = save_project(Project(graph, name="Broken"), tmp_path / "broken.dcproj.json")
    run = run_cli("export", str(path), "--format", "onnx", "-o", str(tmp_path / "b.onnx"))
    assert run.code == 1
    one_error_line(run.err, str(path), "edge_finder")
    assert [p.name for p in tmp_path.iterdir()] == ["broken.dcproj.json"]


def test_export_with_a_missing_converter_gives_the_install_hint(
    run_cli: Any, moons_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "onnxruntime" else real(n, *a)
    )
    run = run_cli("export", str(moons_path), "--format", "onnx", "-o", str(tmp_path / "m.onnx"))
    assert run.code == 1
    one_error_line(run.err, "needs onnxruntime", "pip install")
    assert "onnx" in run_cli("export", "--help").out


def test_python_format_is_routed_to_the_script_writer(
    run_cli: Any, moons_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model.py"
    run = run_cli("export", str(moons_path), "--format", "python", "-o", str(out))
    try:
        import backend.exchange.codegen  # noqa: F401
    except ImportError:
        assert run.code == 1
        one_error_line(run.err, "Python script export is not available")
        return
    assert run.code == 0, run.err
    assert out.is_file()


# ----------------------------------------------------------------- train options
def test_train_mirrored_and_on_a_named_device(run_cli: Any, moons_path: Path) -> None:
    for argv in (["--strategy", "mirrored"], ["--device", "cpu"]):
        run = run_cli("train", str(moons_path), "--json", *argv)
        assert run.code == 0, run.err
        end = next(e for e in map(json.loads, run.out.splitlines()) if e["event"] == "train_end")
        assert end["event"] == "train_end" and end["status"] == "completed"
        assert len(end["history"]["loss"]) == 2


def test_train_bad_scale_out_settings_are_one_line(
    run_cli: Any, moons_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = run_cli("train", str(moons_path), "--device", "gpu:5")
    assert device.code == 1
    one_error_line(device.err, "TensorFlow sees no GPU:5")
    assert run_cli("train", str(moons_path), "--strategy", "ring").code == 2

    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]')
    malformed = run_cli("train", str(moons_path), "--strategy", "multiworker")
    assert malformed.code == 1
    one_error_line(malformed.err, "TF_CONFIG is not valid JSON")
    monkeypatch.delenv("TF_CONFIG")
    unset = run_cli("train", str(moons_path), "--strategy", "multiworker")
    assert unset.code == 1
    one_error_line(unset.err, "TF_CONFIG is not set")

    bad_out = run_cli("train", str(moons_path), "--weights-out", str(tmp_path / "w.npz"))
    assert bad_out.code == 2 and "must end in .weights.npz" in bad_out.err
    missing = tmp_path / "missing" / "w.weights.npz"
    nowhere = run_cli("train", str(moons_path), "--weights-out", str(missing))
    assert nowhere.code == 1
    one_error_line(nowhere.err, str(missing), "cannot be written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons.dcproj.json"]
