"""Weights of another model used to be applied wherever a layer happened to fit, the rest left
untrained, and `export --weights` / `evaluate --weights` carried on as if all was well. Now
they are refused, naming the first layer that does not fit, unless a partial load is asked
for (`--partial-weights`), and then the report says which layers stayed untrained."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.document.project import load_project
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.weights import WeightsError, apply_weights, collect_weights, save_weights
from tests.faults.conftest import MOONS_MLP, fingerprint, run_cli, write_project

WIDER = (
    ("Input", {"shape": [2]}),
    ("Dense", {"units": 16, "activation": "relu"}),
    ("Dense", {"units": 1, "activation": "sigmoid"}),
)
DEEPER = (*MOONS_MLP, ("Dense", {"units": 1, "activation": "sigmoid"}))


def weights_of(project: Path, out: Path) -> Path:
    return save_weights(collect_weights(compile_graph(load_project(project).graph)), out)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    project = write_project(tmp_path / "p.dcproj.json")
    other = write_project(tmp_path / "other.dcproj.json", WIDER)
    return project, weights_of(other, tmp_path / "other.weights.npz")


def test_export_refuses_weights_of_another_model(setup: tuple[Path, Path]) -> None:
    project, weights = setup
    folder = project.parent
    before = fingerprint(folder)
    out = folder / "m.keras"
    result = run_cli("export", project, "--weights", weights, "-o", out)
    assert result.code == 1, result.err
    message = result.error
    assert str(weights) in message and "layer 'dense'" in message, message
    assert "(2, 16)" in message and "(2, 4)" in message and "--partial-weights" in message
    assert fingerprint(folder) == before


def test_evaluate_refuses_them_too(setup: tuple[Path, Path]) -> None:
    project, weights = setup
    before = fingerprint(project.parent)
    result = run_cli("evaluate", project, "--weights", weights)
    assert result.code == 1 and "layer 'dense'" in result.error, result.err
    assert "accuracy" not in result.out
    assert fingerprint(project.parent) == before


def test_a_partial_load_when_asked_says_what_stayed_untrained(setup: tuple[Path, Path]) -> None:
    project, weights = setup
    out = project.parent / "m.keras"
    result = run_cli("export", project, "--weights", weights, "--partial-weights", "-o", out)
    assert result.code == 0, result.err
    assert out.is_file()
    assert "untrained" in result.out and "dense" in result.out, result.out


def test_weights_with_a_layer_the_model_lacks_are_refused(tmp_path: Path) -> None:
    model = compile_graph(load_project(write_project(tmp_path / "p.dcproj.json")).graph)
    deeper = write_project(tmp_path / "deeper.dcproj.json", DEEPER)
    arrays = collect_weights(compile_graph(load_project(deeper).graph))
    arrays = {k: v for k, v in arrays.items() if not k.startswith("dense_1:")}
    arrays.update(collect_weights(model))  # every layer of `model` fits, plus one it lacks
    with pytest.raises(WeightsError, match=r"layer 'dense_2', which this model does not have"):
        apply_weights(model, arrays, partial=False)
    assert apply_weights(model, arrays, partial=True) == []
