"""The headless commands: in-process for detail, through `python main.py` for the real thing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.cli import main as cli
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project, load_project, save_project
from backend.document.training_config import TrainingConfig
from backend.exchange.keras_file import load_keras
from backend.keras_bridge.compiler import compile_graph
from backend.templates.examples import digits_cnn, moons_mlp

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT_S = 120


class Run:
    """What one in-process command printed and returned."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


RunCli = Callable[..., Run]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    def run(*argv: str) -> Run:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def main_py(*argv: str, timeout: float = SUBPROCESS_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def broken_project() -> Project:
    """Input(16) -> Conv2D 'edge_finder': a Conv2D fed a vector."""
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [16]})
    conv = graph.add_node("Conv2D", name="edge_finder")
    head = graph.add_node("Dense", {"units": 2})
    graph.connect(source.id, conv.id)
    graph.connect(conv.id, head.id)
    return Project(graph, name="Broken")


def diverging_project() -> Project:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [10]})
    head = graph.add_node("Dense", {"units": 1})
    graph.connect(source.id, head.id)
    training = TrainingConfig(
        optimizer="sgd", learning_rate=1e30, loss="mean_squared_error", epochs=2, metrics=[]
    )
    return Project(graph, DatasetChoice("diabetes"), training, name="Diverging")


@pytest.fixture
def digits_path(tmp_path: Path) -> Path:
    return save_project(digits_cnn(), tmp_path / "digits.dcproj.json")


@pytest.fixture
def moons_path(tmp_path: Path) -> Path:
    return save_project(moons_mlp(), tmp_path / "moons.dcproj.json")


@pytest.fixture
def broken_path(tmp_path: Path) -> Path:
    return save_project(broken_project(), tmp_path / "broken.dcproj.json")


@pytest.fixture
def not_json_path(tmp_path: Path) -> Path:
    path = tmp_path / "notes.dcproj.json"
    path.write_text("{ this is not json", encoding="utf-8")
    return path


def assert_one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from {lines[0]!r}"


# ----------------------------------------------------------------- the command table
def test_commands_match_the_parser_and_have_one_line_help() -> None:
    parser = cli.build_parser()
    choices: dict[str, Any] = next(
        a.choices for a in parser._actions if isinstance(a.choices, dict)
    )
    assert set(choices) == set(cli.COMMANDS) >= {"train", "validate", "summary", "export"}
    assert all(text and "\n" not in text for text in cli.COMMANDS.values())


def test_help_and_usage_errors_exit_cleanly(run_cli: RunCli) -> None:
    helped = run_cli("--help")
    assert helped.code == 0
    assert all(name in helped.out for name in cli.COMMANDS)
    assert run_cli().code == 2
    assert run_cli("teleport").code == 2
    assert run_cli("validate").code == 2  # no project
    epochs = run_cli("train", "p.json", "--epochs", "0")
    assert epochs.code == 2 and "at least 1" in epochs.err


# ----------------------------------------------------------------- validate
def test_validate_prints_every_shape(run_cli: RunCli, digits_path: Path) -> None:
    run = run_cli("validate", str(digits_path))
    assert run.code == 0, run.err
    rows = {line.split()[0]: line for line in run.out.splitlines() if line.startswith("  ")}
    assert "(None, 8, 8, 16)" in rows["conv2d"]
    assert "(None, 4, 4, 16)" in rows["max_pooling2d"]
    assert "(None, 256)" in rows["flatten"]
    assert "(None, 10)" in rows["dense_1"]
    assert run.out.splitlines()[-1].startswith("ok")
    assert run.err == ""


def test_validate_names_the_broken_node(run_cli: RunCli, broken_path: Path) -> None:
    run = run_cli("validate", str(broken_path))
    assert run.code == 1
    assert "edge_finder" in run.err and "(None, 16)" in run.err
    assert run.err.startswith("error: Conv2D 'edge_finder'")
    assert "invalid: 1 error" in run.out


def test_validate_json_report(run_cli: RunCli, broken_path: Path, digits_path: Path) -> None:
    [good] = run_cli("validate", str(digits_path), "--json").json_lines()
    assert good["ok"] is True and good["problems"] == []
    assert [n["shape"] for n in good["nodes"]][1] == [None, 8, 8, 16]

    run = run_cli("validate", str(broken_path), "--json")
    assert run.code == 1
    [report] = run.json_lines()
    assert report["ok"] is False
    [problem] = report["problems"]
    assert problem["node_name"] == "edge_finder" and problem["severity"] == "error"
    by_name = {n["name"]: n for n in report["nodes"]}
    assert by_name["edge_finder"]["error"] and by_name["dense"]["blocked"]


def test_validate_reports_warnings_without_failing(run_cli: RunCli, tmp_path: Path) -> None:
    project = moons_mlp()
    first_dense = next(nid for nid, n in project.graph.nodes.items() if n.layer_type == "Dense")
    side = project.graph.add_node("Dense", {"units": 3}, name="side_branch")
    project.graph.connect(first_dense, side.id)
    project.graph.set_outputs([project.graph.node_by_name("dense_2").id])
    run = run_cli("validate", str(save_project(project, tmp_path / "p.dcproj.json")))
    assert run.code == 0
    assert "warning: Dense 'side_branch'" in run.err
    assert "1 warning" in run.out


def test_validate_shows_each_output_of_a_layer_returning_several(
    run_cli: RunCli, tmp_path: Path
) -> None:
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [6, 3]}, name="seq").id
    lstm = graph.add_node("LSTM", {"units": 4, "return_state": True}, name="enc").id
    head = graph.add_node("Dense", {"units": 2}, name="on_c").id
    graph.connect(seq, lstm)
    graph.connect(lstm, head, src_port=2)
    project = Project(graph)
    project.dataset = None  # about the shapes: no data to check the model against
    path = str(save_project(project, tmp_path / "states.dcproj.json"))

    run = run_cli("validate", path)
    assert run.code == 0, run.err
    rows = {line.split()[0]: line for line in run.out.splitlines() if line.startswith("  ")}
    assert "(None, 4) | (None, 4) | (None, 4)" in rows["enc"]
    [report] = run_cli("validate", path, "--json").json_lines()
    by_name = {n["name"]: n for n in report["nodes"]}
    assert by_name["enc"]["output_shapes"] == [[None, 4]] * 3
    assert "output_shapes" not in by_name["on_c"]


# ----------------------------------------------------------------- summary
def test_summary_lists_layers_and_the_parameter_count(run_cli: RunCli, digits_path: Path) -> None:
    run = run_cli("summary", str(digits_path))
    assert run.code == 0, run.err
    total = compile_graph(digits_cnn().graph).count_params()
    assert f"total params: {total:,}" in run.out
    rows = {line.split()[0]: line.split() for line in run.out.splitlines() if line.startswith("  ")}
    assert rows["conv2d"][1] == "Conv2D" and rows["conv2d"][-1] == "160"  # 3*3*1*16 + 16
    assert rows["flatten"][1:] == ["Flatten", "(None,", "256)", "0"]


def test_summary_of_a_broken_graph_is_one_line_naming_file_and_node(
    run_cli: RunCli, broken_path: Path
) -> None:
    run = run_cli("summary", str(broken_path))
    assert run.code == 1
    assert_one_line_error(run.err, str(broken_path), "edge_finder")


# ----------------------------------------------------------------- export
def test_export_writes_a_loadable_untrained_model(
    run_cli: RunCli, digits_path: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.keras", tmp_path / "b.keras"
    run = run_cli("export", str(digits_path), "--format", "keras", "-o", str(first))
    assert run.code == 0, run.err
    assert "untrained" in run.out and str(first) in run.out
    assert run_cli("export", str(digits_path), "-o", str(second)).code == 0  # .keras: keras
    a, b = load_keras(first), load_keras(second)
    assert a.count_params() == compile_graph(digits_cnn().graph).count_params()
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)  # seeded from the project: reproducible


@pytest.mark.parametrize("fmt", ["pdf", "h5", "KERAS"])
def test_export_names_the_supported_formats(run_cli: RunCli, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "model.out"
    run = run_cli("export", "never-read.json", "--format", fmt, "-o", str(out))
    assert run.code == 2
    assert f"unsupported format '{fmt}'" in run.err and "supported formats: keras" in run.err
    assert not out.exists()


def test_export_wants_the_format_suffix(run_cli: RunCli, digits_path: Path, tmp_path: Path) -> None:
    run = run_cli("export", str(digits_path), "-o", str(tmp_path / "model.h5"))
    assert run.code == 2 and "cannot tell the format of" in run.err and ".keras" in run.err
    run = run_cli("export", str(digits_path), "--format", "keras", "-o", str(tmp_path / "m.h5"))
    assert run.code == 2 and "must end in .keras" in run.err


def test_export_into_a_missing_folder_names_the_file(
    run_cli: RunCli, digits_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "model.keras"
    run = run_cli("export", str(digits_path), "-o", str(target))
    assert run.code == 1
    assert_one_line_error(run.err, str(target), "cannot be written")


# ----------------------------------------------------------------- train
def test_train_prints_a_line_per_epoch(run_cli: RunCli, moons_path: Path) -> None:
    run = run_cli("train", str(moons_path), "--epochs", "2")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("training 'Moons MLP' on moons: 420 samples, 14 batches")
    assert lines[1].startswith("epoch 1/2  loss ") and "val_accuracy" in lines[1]
    assert lines[2].startswith("epoch 2/2  loss ")
    assert lines[3].startswith("completed: training finished")
    assert lines[4].startswith("recorded run ") and "current weights" in lines[4]
    assert len(lines) == 5


def test_train_json_prints_one_event_per_line(run_cli: RunCli, moons_path: Path) -> None:
    run = run_cli("train", str(moons_path), "--epochs", "2", "--json")
    assert run.code == 0, run.err
    events = run.json_lines()
    # One output: no per-head curves (a side-by-side model names its heads here).
    assert events[0] == {"event": "train_begin", "epochs": 2, "steps_per_epoch": 14, "heads": []}
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [0, 1]
    kinds = {"train_begin", "batch_end", "epoch_end", "train_end", "run_recorded"}
    assert {e["event"] for e in events} == kinds
    end, recorded = events[-2:]
    assert end["event"] == "train_end" and end["status"] == "completed"
    assert len(end["history"]["loss"]) == 2
    assert recorded["event"] == "run_recorded" and recorded["current_weights"] is True
    assert recorded["run"] == load_project(moons_path).weights.run


def test_train_that_diverges_exits_1_and_says_loss(run_cli: RunCli, tmp_path: Path) -> None:
    path = save_project(diverging_project(), tmp_path / "nan.dcproj.json")
    run = run_cli("train", str(path), "--json")
    assert run.code == 1
    assert_one_line_error(run.err, str(path), "training failed", "loss")
    end, recorded = run.json_lines()[-2:]
    assert end["event"] == "train_end" and end["status"] == "failed"
    assert all(v is None or np.isfinite(v) for vs in end["history"].values() for v in vs)
    # A failed run is recorded, without weights, and the project keeps its current ones.
    assert recorded == {"event": "run_recorded", "run": recorded["run"], "current_weights": False}
    project = load_project(path)
    assert [r.status for r in project.runs] == ["failed"] and project.weights.run is None


def test_train_of_a_broken_graph_names_the_node(run_cli: RunCli, broken_path: Path) -> None:
    run = run_cli("train", str(broken_path))
    assert run.code == 1
    assert_one_line_error(run.err, str(broken_path), "edge_finder")


def test_train_with_bad_dataset_settings_is_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    project = moons_mlp()
    project.dataset = DatasetChoice("moons", {"samples": "plenty"})
    path = save_project(project, tmp_path / "p.dcproj.json")
    run = run_cli("train", str(path))
    assert run.code == 1
    assert_one_line_error(run.err, str(path), "dataset 'moons'")


@pytest.mark.parametrize("command", ["train", "validate", "summary"])
def test_a_missing_or_bad_project_is_one_line(
    run_cli: RunCli, command: str, not_json_path: Path, tmp_path: Path
) -> None:
    run = run_cli(command, str(not_json_path))
    assert run.code == 1
    assert_one_line_error(run.err, str(not_json_path), "JSON")
    missing = tmp_path / "absent.dcproj.json"
    run = run_cli(command, str(missing))
    assert run.code == 1
    assert_one_line_error(run.err, str(missing), "no such file")


# ----------------------------------------------------------------- through main.py
def test_main_py_help_lists_the_commands() -> None:
    done = main_py("--help")
    assert done.returncode == 0, done.stderr
    for name in cli.COMMANDS:
        assert name in done.stdout


def test_main_py_validate_ok_and_broken(digits_path: Path, broken_path: Path) -> None:
    good = main_py("validate", str(digits_path))
    assert good.returncode == 0, good.stderr
    assert "(None, 8, 8, 16)" in good.stdout and "(None, 256)" in good.stdout
    bad = main_py("validate", str(broken_path))
    assert bad.returncode == 1
    assert "edge_finder" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr


def test_main_py_export_keras(digits_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "digits.keras"
    done = main_py("export", str(digits_path), "--format", "keras", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "untrained" in done.stdout
    assert load_keras(out).count_params() == compile_graph(digits_cnn().graph).count_params()


def test_main_py_refuses_a_file_that_is_not_json(not_json_path: Path) -> None:
    done = main_py("validate", str(not_json_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert_one_line_error(done.stderr, str(not_json_path), "JSON")


def test_main_py_trains_one_epoch(moons_path: Path) -> None:
    done = main_py("train", str(moons_path), "--epochs", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("epoch 1/1  loss ")
    assert lines[-2].startswith("completed") and lines[-1].startswith("recorded run")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_stops_training_after_the_batch(moons_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "main.py", "train", str(moons_path), "--epochs", "500", "--json"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if json.loads(line)["event"] == "epoch_end":
                break
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=SUBPROCESS_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == cli.EXIT_STOPPED, err
    end, recorded = map(json.loads, out.splitlines()[-2:])
    assert end["event"] == "train_end" and end["status"] == "stopped"
    assert len(end["history"]["loss"]) < 500
    assert "Traceback" not in err
    # The stopped run keeps the weights it reached: they are the project's current weights.
    assert recorded["event"] == "run_recorded" and recorded["current_weights"] is True
