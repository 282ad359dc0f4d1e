"""An export check that passes must mean the exported model computes what the app's does: a
model whose outputs are NaN used to be reported as "max abs diff 0" (NaN == NaN counted as a
match), and a quantized export's NaN was never judged at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.document.project import load_project
from backend.exchange.export_formats import ExportError, verification_gap
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.weights import collect_weights, save_weights
from tests.faults.conftest import fingerprint, run_cli, write_project


def test_a_model_whose_outputs_are_nan_is_never_exported(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p.dcproj.json")
    arrays = collect_weights(compile_graph(load_project(project).graph))
    first_kernel = sorted(arrays)[0]
    arrays[first_kernel][...] = np.nan
    weights = save_weights(arrays, tmp_path / "nan.weights.npz")
    before = fingerprint(tmp_path)
    for fmt, out, extra in (
        ("tflite", "m.tflite", ["--quantize", "dynamic"]),
        ("keras", "m.keras", []),
    ):
        result = run_cli(
            "export", project, "--weights", weights, "--format", fmt, "-o", tmp_path / out, *extra
        )
        assert result.code == 1, result.err
        message = result.error
        assert str(tmp_path / out) in message and "NaN" in message, message
        assert "max abs diff" not in message
    assert fingerprint(tmp_path) == before  # nothing written, not even a temporary file


def test_non_finite_outputs_of_the_export_are_a_failed_check() -> None:
    expected = [np.array([[0.1, 0.9], [0.4, 0.6]], dtype="float32")]
    assert verification_gap(expected, [expected[0] + 1e-6]) == pytest.approx(1e-6, rel=0.1)
    for broken in (np.nan, np.inf):
        actual = expected[0].copy()
        actual[1, 0] = broken
        with pytest.raises(ExportError, match=r"output 0 .* 1 of 4 values"):
            verification_gap(expected, [actual], Path("m.tflite"))
    with pytest.raises(ExportError, match="the model itself"):
        verification_gap([np.full((2, 2), np.nan)], [np.full((2, 2), np.nan)])
