"""A layer too big for the machine: `units=10**9` passed `validate` as "ok", then `summary` and
`train` died inside TensorFlow (SIGSEGV; here the kernel's OOM killer at 20 GB). The weights'
memory is now estimated before anything is built (Keras creates the variables' shapes only)
and refused with the figure, on every path that builds the model.

The layer here needs about 250 GiB of weights, more than any machine this runs on, so the
refusal does not depend on the machine (run it under `ulimit -v` to see it fail safely
without the estimate: TensorFlow then raises ResourceExhaustedError instead of crashing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.document.project import load_project
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.weight_budget import graph_weight_bytes
from tests.faults.conftest import fingerprint, run_cli, write_project

HUGE = (
    ("Input", {"shape": [64]}),
    ("Dense", {"units": 10**9, "activation": "relu"}),
    ("Dense", {"units": 1, "activation": "sigmoid"}),
)


def test_a_layer_too_big_for_memory_is_refused_everywhere(tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((20, 64), "float32"), y=np.arange(20) % 2)
    project = write_project(tmp_path / "p.dcproj.json", HUGE, "numpy", {"path": str(data)})
    before = fingerprint(tmp_path)
    for argv in (
        ("validate", project),
        ("summary", project),
        ("export", project, "-o", tmp_path / "m.keras"),
        ("evaluate", project),
    ):
        result = run_cli(*argv)
        assert result.code == 1, (argv, result.out, result.err)
        message = result.err
        assert "Dense 'dense'" in message and "GiB" in message, (argv, message)
        assert "memory" in message, message
    assert fingerprint(tmp_path) == before
    train = run_cli("train", project, "--no-record")
    assert train.code == 1 and "Dense 'dense'" in train.error and "GiB" in train.error
    assert fingerprint(tmp_path) == before


def test_the_estimate_counts_what_keras_creates(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path / "p.dcproj.json"))
    total, biggest = graph_weight_bytes(project.graph)
    model = compile_graph(project.graph)
    assert total == 4 * model.count_params()  # float32
    assert biggest is not None and project.graph.nodes[biggest[0]].name == "dense"
    huge = load_project(write_project(tmp_path / "h.dcproj.json", HUGE))
    assert graph_weight_bytes(huge.graph)[0] == 4 * (64 * 10**9 + 10**9 + 10**9 + 1)


def test_an_imports_weight_check_builds_each_layer_config_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Importing a model counts its weights before Keras builds it; the same layer (the name
    aside: node parameters hold none) with the same saved input shape is measured once:
    DenseNet121's 428 layers have 197 such configurations, ResNet50's far fewer (the check
    took 13-14% of load_model)."""
    import backend.keras_bridge.weight_budget as budget

    built: list[str] = []
    real = budget.make_layer
    monkeypatch.setattr(budget, "make_layer", lambda t, p, n: built.append(t) or real(t, p, n))
    monkeypatch.setattr(budget, "_built", {})
    conv = {"filters": 8, "kernel_size": [3, 3]}  # layer_params: a node's, without the name
    for channels in (3, 3, 5, 3):
        shape = {"input_shape": [None, 16, 16, channels]}
        size, count = budget.built_weights("Conv2D", dict(conv), shape)
        assert count == 3 * 3 * channels * 8 + 8 and size == 4 * count
    assert built == ["Conv2D", "Conv2D"]  # channels 3, then 5
