"""Build, infer, compile, train, export and reload: the whole path, and files that are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.document.training_config import TrainingConfig
from backend.exchange.keras_file import ModelFileError, load_keras, save_keras
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.templates.examples import digits_cnn, moons_mlp
from backend.training.trainer import Trainer


def test_digits_example_trains_exports_and_reloads_with_identical_predictions(
    digits: Dataset, tmp_path: Path
) -> None:
    graph = digits_cnn().graph
    shapes = ShapeInference().infer(graph)
    by_name = {graph.nodes[nid].name: r.shape for nid, r in shapes.items()}
    assert by_name["conv2d"] == (None, 8, 8, 16)
    assert by_name["flatten"] == (None, 256)
    assert by_name["dense_1"] == (None, 10)

    trainer = Trainer(graph, digits, TrainingConfig(epochs=1, learning_rate=2e-3))
    model = trainer.build_model()  # compile_graph, then Keras' compile with the settings
    assert tuple(model.get_layer("conv2d").output.shape) == (None, 8, 8, 16)
    untrained = model.predict(digits.x_test, verbose=0)
    result = trainer.run(model)
    assert result.status == "completed", result.message
    assert result.model is model
    assert result.history["accuracy"][0] > 0.3  # well above chance (0.1) after one epoch

    expected = model.predict(digits.x_test, verbose=0)
    assert not np.allclose(expected, untrained), "training changed nothing"
    path = save_keras(model, tmp_path / "digits.keras")
    assert path == tmp_path / "digits.keras"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.keras"]  # no temporary left

    reloaded = load_keras(path)
    np.testing.assert_allclose(reloaded.predict(digits.x_test, verbose=0), expected, atol=1e-6)
    assert [layer.name for layer in reloaded.layers] == [layer.name for layer in model.layers]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_keras(compile_graph(moons_mlp().graph), tmp_path_factory.mktemp("m") / "m.keras")


def test_a_truncated_file_is_a_model_file_error_naming_it(
    saved_model: Path, tmp_path: Path
) -> None:
    data = saved_model.read_bytes()
    broken = tmp_path / "truncated.keras"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as info:
        load_keras(broken)
    assert str(broken) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_file_of_garbage_is_a_model_file_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "garbage.keras"
    broken.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(ModelFileError, match="cannot be loaded") as info:
        load_keras(broken)
    assert str(broken) in str(info.value)


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        load_keras(tmp_path / "absent.keras")


def test_a_lambda_model_is_refused_and_its_code_never_runs(keras: Any, tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    source = keras.Input((4,))
    code = f"lambda x: __import__('pathlib').Path({str(marker)!r}).touch() or x * 2"
    doubled = keras.layers.Lambda(eval(code))(source)  # building calls it once: a live check
    assert marker.exists(), "the lambda's side effect does not work: the test proves nothing"
    marker.unlink()
    path = save_keras(keras.Model(source, doubled), tmp_path / "lambda.keras")
    assert not marker.exists()

    with pytest.raises(ModelFileError, match="Lambda") as info:
        load_keras(path)
    assert str(path) in str(info.value)
    assert not marker.exists(), "loading ran code from the file"


def test_save_keras_wants_the_keras_suffix(saved_model: Path, tmp_path: Path) -> None:
    model = load_keras(saved_model)
    with pytest.raises(ModelFileError, match=r"must end in \.keras"):
        save_keras(model, tmp_path / "model.h5")
    assert list(tmp_path.iterdir()) == []


def test_save_keras_into_a_missing_folder_names_the_file(saved_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "model.keras"
    with pytest.raises(ModelFileError, match="cannot be written") as info:
        save_keras(load_keras(saved_model), target)
    assert str(target) in str(info.value)


def test_a_failed_save_keeps_the_previous_file(
    saved_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_keras(saved_model)
    target = tmp_path / "model.keras"
    target.write_bytes(b"previous")

    def disk_full(path: Any, *args: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model, "save", disk_full)
    with pytest.raises(ModelFileError, match="No space left"):
        save_keras(model, target)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
