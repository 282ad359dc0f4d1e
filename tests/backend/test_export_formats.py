"""Every export format round-trips through its own runtime with a verified numerical match;
failures (a folder that cannot be written, a conversion that breaks, a mismatch) leave nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.exchange import export_formats
from backend.exchange.export_formats import FORMATS, ExportError, export_model, missing_requirement
from backend.exchange.export_verify import RUNTIMES, run_onnx, run_savedmodel, run_tflite
from backend.keras_bridge.compiler import compile_graph
from backend.templates.examples import digits_cnn


@pytest.fixture(scope="module")
def digits_model(digits: Dataset) -> Any:
    """The digits CNN after a few steps of training (weights no longer at their initial values)."""
    model = compile_graph(digits_cnn().graph)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(digits.x_train[:256], digits.y_train[:256], epochs=1, batch_size=64, verbose=0)
    return model


def target(folder: Path, fmt: str, name: str = "model") -> Path:
    return folder / f"{name}{FORMATS[fmt].suffix}"


@pytest.mark.parametrize(
    ("fmt", "quantize", "tolerance"),
    [
        ("keras", "none", 1e-6),
        ("savedmodel", "none", 1e-5),
        ("tflite", "none", 1e-5),
        ("tflite", "dynamic", 0.05),
        ("tflite", "float16", 0.01),
        ("onnx", "none", 1e-5),
    ],
)
def test_each_format_is_written_reloaded_and_matches_the_model(
    digits_model: Any, digits: Dataset, tmp_path: Path, fmt: str, quantize: str, tolerance: float
) -> None:
    path = target(tmp_path, fmt)
    report = export_model(digits_model, path, fmt, quantize, digits.x_test, "test samples")
    assert report.path == path and report.format == fmt and report.quantize == quantize
    assert report.samples == 8 and report.sample_source == "test samples"
    assert report.matches and 0.0 <= report.max_abs_diff <= tolerance
    assert (report.tolerance is None) == (quantize != "none")
    assert report.size_bytes > 1000
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing temporary left
    assert path.is_dir() if fmt == "savedmodel" else path.is_file()
    assert f"max abs diff {report.max_abs_diff:.3g}" in report.summary()

    # an independent reload, on other samples than the check used
    _runtime, run = RUNTIMES[fmt]
    samples = digits.x_test[8:20]
    expected = np.asarray(digits_model(samples, training=False))
    (actual,) = run(path, digits_model, [samples])
    np.testing.assert_allclose(actual, expected, atol=max(tolerance, 1e-5))
    assert actual.argmax(axis=1).tolist() == expected.argmax(axis=1).tolist() or quantize != "none"


def test_quantization_shrinks_the_tflite_file(digits_model: Any, tmp_path: Path) -> None:
    sizes = {
        q: export_model(digits_model, tmp_path / f"{q}.tflite", "tflite", q).size_bytes
        for q in ("none", "dynamic", "float16")
    }
    assert sizes["dynamic"] < sizes["float16"] < sizes["none"]


def test_without_samples_random_inputs_of_the_model_shape_are_used(
    digits_model: Any, tmp_path: Path
) -> None:
    report = export_model(digits_model, tmp_path / "m.keras", "keras")
    assert report.sample_source == "random inputs" and report.samples == 8
    assert report.max_abs_diff == 0.0


def test_a_model_with_two_named_inputs_and_two_outputs(keras: Any, tmp_path: Path) -> None:
    image = keras.Input((6,), name="pixels")
    meta = keras.Input((3,), name="meta")
    joined = keras.layers.Concatenate()([image, meta])
    hidden = keras.layers.Dense(8, activation="relu")(joined)
    model = keras.Model(
        [image, meta], [keras.layers.Dense(4, name="zz")(hidden), keras.layers.Dense(1)(hidden)]
    )
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(5, 6)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")]
    for fmt, run in (("savedmodel", run_savedmodel), ("tflite", run_tflite), ("onnx", run_onnx)):
        path = target(tmp_path, fmt)
        report = export_model(model, path, fmt, samples=inputs)
        assert report.matches, report
        got = run(path, model, inputs)
        expected = [np.asarray(o) for o in model(inputs, training=False)]
        assert [g.shape for g in got] == [(5, 4), (5, 1)]  # outputs in the model's order
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, atol=1e-5)


def test_an_existing_savedmodel_folder_is_replaced_whole(digits_model: Any, tmp_path: Path) -> None:
    """An older SavedModel is replaced whole (its stale variables go); any other folder is
    refused (tests/faults/test_export_targets.py)."""
    folder = tmp_path / "served"
    (folder / "variables").mkdir(parents=True)
    (folder / "variables" / "stale.index").write_text("old")
    (folder / "saved_model.pb").write_text("old")
    export_model(digits_model, folder, "savedmodel")
    assert (folder / "saved_model.pb").read_bytes() != b"old"
    assert not (folder / "variables" / "stale.index").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["served"]


# ----------------------------------------------------------------- failures leave nothing
@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite", "onnx"])
def test_a_folder_that_cannot_be_written_is_named(
    digits_model: Any, tmp_path: Path, fmt: str
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for path in (target(tmp_path / "missing", fmt), target(blocker, fmt)):
        with pytest.raises(ExportError, match="cannot be written") as info:
            export_model(digits_model, path, fmt)
        assert str(path) in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["a_file"]


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_a_conversion_that_fails_midway_leaves_nothing_and_keeps_the_old_file(
    digits_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    path = target(tmp_path, fmt)
    if fmt == "savedmodel":
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"previous")
    else:
        path.write_bytes(b"previous")
    real_writer = export_formats.WRITERS[fmt]

    def breaks_after_writing(model: Any, tmp: Path, quantize: str) -> None:
        real_writer(model, tmp, quantize)  # a real, complete file...
        raise RuntimeError("converter crashed\nwith details")  # ...then the converter fails

    monkeypatch.setitem(export_formats.WRITERS, fmt, breaks_after_writing)
    with pytest.raises(ExportError, match=r"conversion failed: converter crashed$") as info:
        export_model(digits_model, path, fmt)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    previous = path / "saved_model.pb" if fmt == "savedmodel" else path
    assert previous.read_bytes() == b"previous"


def test_a_model_the_converter_refuses_leaves_nothing(keras: Any, tmp_path: Path) -> None:
    """A real refusal: TFLite has no float16 MatMul kernel for a mixed-precision model."""
    keras.config.set_dtype_policy("mixed_float16")
    try:
        source = keras.Input((4,))
        model = keras.Model(source, keras.layers.Dense(2)(source))
    finally:
        keras.config.set_dtype_policy("float32")
    path = tmp_path / "half.tflite"
    path.write_bytes(b"previous")
    with pytest.raises(
        ExportError, match=r"conversion failed: .*no TFLite kernel: .*MatMul"
    ) as info:
        export_model(model, path, "tflite")
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["half.tflite"]
    assert path.read_bytes() == b"previous"


def test_a_model_that_cannot_run_is_refused_before_writing(keras: Any, tmp_path: Path) -> None:
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ExportError, match="cannot run on check samples"):
        export_model(unbuilt, tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_export_whose_outputs_differ_is_refused(
    digits_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, run = RUNTIMES["onnx"]

    def off_by_a_little(path: Path, model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [out + 0.01 for out in run(path, model, inputs)]

    monkeypatch.setitem(RUNTIMES, "onnx", (name, off_by_a_little))
    with pytest.raises(ExportError, match=r"verification failed: .* differs .* by 0\.01"):
        export_model(digits_model, tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_converter_is_offered_with_an_install_hint(
    digits_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert missing_requirement("onnx") is None  # installed here (the `export` extra)
    real_find_spec = importlib.util.find_spec

    def without_tf2onnx(name: str, *args: Any) -> Any:
        return None if name == "tf2onnx" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_tf2onnx)
    hint = missing_requirement("onnx")
    assert hint is not None and "tf2onnx" in hint and "pip install" in hint and "\n" not in hint
    assert "onnx" in FORMATS  # still offered
    with pytest.raises(ExportError, match="pip install"):
        export_model(digits_model, tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "name", "quantize", "message"),
    [
        ("pdf", "m.pdf", "none", "unknown export format 'pdf'"),
        ("onnx", "m.keras", "none", r"must end in \.onnx"),
        ("onnx", "m.onnx", "dynamic", "not quantized"),
        ("tflite", "m.tflite", "int4", "unknown quantization 'int4'"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_written(
    digits_model: Any, tmp_path: Path, fmt: str, name: str, quantize: str, message: str
) -> None:
    with pytest.raises(ExportError, match=message):
        export_model(digits_model, tmp_path / name, fmt, quantize)
    assert list(tmp_path.iterdir()) == []
