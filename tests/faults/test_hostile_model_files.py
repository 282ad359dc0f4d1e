"""Bad input: damaged files, code, custom or unsupported layers, unknown layers in a project.

Every refusal names the file and the layer, runs nothing from the file, and leaves nothing
behind (no project, no weights file).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.cli.main import main as cli_main
from backend.document.graph import LayerGraph
from backend.document.project import Project, ProjectError, load_project, save_project
from backend.exchange.importer import ModelImportError, import_model
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_bridge.weights import compile_project
from backend.keras_env import import_keras
from tests import keras_models


def refuse(path: Path, *needles: str) -> str:
    """Import `path` into a project beside it; it must fail naming `needles`, writing nothing."""
    before = set(path.parent.iterdir())
    with pytest.raises(ModelImportError) as info:
        import_model(path, path.parent / "out.dcproj.json")
    message = str(info.value)
    assert message.startswith(str(path)), message
    for needle in needles:
        assert needle in message, message
    assert set(path.parent.iterdir()) == before, "a refused import left files behind"
    return message


@pytest.fixture
def saved_mlp(tmp_path: Path) -> Path:
    path = tmp_path / "model.keras"
    keras_models.mlp().save(path)
    return path


def test_a_missing_file_or_a_wrong_suffix_is_named(tmp_path: Path) -> None:
    refuse(tmp_path / "nothing.keras", "no such file")
    (tmp_path / "notes.txt").write_text("hello")
    refuse(tmp_path / "notes.txt", "not a Keras model file")


def test_a_truncated_model_file_is_refused(saved_mlp: Path) -> None:
    data = saved_mlp.read_bytes()
    saved_mlp.write_bytes(data[: len(data) // 2])
    refuse(saved_mlp, "damaged or truncated")


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.keras"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    refuse(path, "not a readable Keras model file")
    h5 = tmp_path / "noise.h5"
    h5.write_bytes(b"\x89HDF\r\n" + bytes(200))
    refuse(h5, "not a readable Keras model file")


def test_a_config_that_is_not_json_is_refused(saved_mlp: Path) -> None:
    with zipfile.ZipFile(saved_mlp) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["config.json"] = b"{ this is not json"
    with zipfile.ZipFile(saved_mlp, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    refuse(saved_mlp, "not valid JSON")


def test_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path: Path) -> None:
    keras = import_keras()
    marker = tmp_path / "ran.txt"

    def doubled(x: Any) -> Any:
        marker.write_text("the Lambda ran")
        return x * 2

    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(doubled, name="times_two")(inputs))
    model.save(tmp_path / "lambda.keras")
    marker.unlink()  # building the model called it once

    refuse(tmp_path / "lambda.keras", "layer 'times_two'", "Lambda", "never runs")
    assert not marker.exists(), "importing executed code from the file"


def test_a_legacy_h5_with_a_lambda_is_refused_before_keras_reads_it(tmp_path: Path) -> None:
    keras = import_keras()
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1, name="plus_one")(inputs))
    model.save(tmp_path / "old.h5")
    refuse(tmp_path / "old.h5", "layer 'plus_one'", "Lambda")


def test_a_custom_layer_is_refused_by_name(tmp_path: Path) -> None:
    keras = import_keras()

    @keras.saving.register_keras_serializable(package="tests")
    class Doubler(keras.layers.Layer):  # type: ignore[misc,name-defined]
        def call(self, x: Any) -> Any:
            return x * 2

    inputs = keras.Input((4,), name="x")
    keras.Model(inputs, Doubler(name="doubler")(inputs)).save(tmp_path / "custom.keras")
    refuse(tmp_path / "custom.keras", "layer 'doubler'", "custom layer", "tests>Doubler")


def test_an_unsupported_builtin_layer_says_why(tmp_path: Path) -> None:
    keras = import_keras()
    inputs = keras.Input((5, 3), name="steps")
    rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(4), name="rnn")(inputs)
    keras.Model(inputs, rnn).save(tmp_path / "rnn.keras")
    refuse(tmp_path / "rnn.keras", "layer 'rnn'", "RNN", "not supported", "needs a cell")


def test_an_operation_on_a_constant_array_is_refused_by_name(tmp_path: Path) -> None:
    keras = import_keras()
    a = keras.Input((4,), name="a")
    shifted = a + np.arange(4, dtype="float32")
    keras.Model(a, keras.layers.Dense(2, name="fc")(shifted)).save(tmp_path / "ops.keras")
    refuse(tmp_path / "ops.keras", "operation 'add", "a constant array")  # add, add_1...


def test_an_operation_outside_keras_own_ops_is_refused_before_keras_reads_it(
    tmp_path: Path,
) -> None:
    keras = import_keras()
    a = keras.Input((4,), name="a")
    keras.Model(a, keras.layers.Dense(2, name="fc")(keras.ops.add(a, a))).save(tmp_path / "m.keras")
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    (op,) = [e for e in config["config"]["layers"] if e["class_name"] == "Add"]
    op["module"] = "keras.src.ops.elsewhere"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    refuse(path, "operation 'add", "keras.src.ops.elsewhere", "not one of Keras' own keras.ops")


def test_one_operation_object_called_twice_is_refused_by_name(tmp_path: Path) -> None:
    from keras.src.ops.numpy import Add

    keras = import_keras()
    a = keras.Input((4,), name="a")
    twice = Add(name="twice")
    out = twice(twice(a, a), a)
    keras.Model(a, out).save(tmp_path / "twice.keras")
    refuse(tmp_path / "twice.keras", "operation 'twice'", "applied 2 times")


def test_the_cli_reports_a_bad_model_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 truncated")
    assert cli_main(["import", str(path), "-o", str(tmp_path / "p.dcproj.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "p.dcproj.json").exists()


def test_a_legacy_h5_model_imports_with_its_weights(tmp_path: Path) -> None:
    original = keras_models.cnn()
    original.save(tmp_path / "old.h5")
    project = import_model(tmp_path / "old.h5", tmp_path / "old.dcproj.json")
    model = compile_project(project)
    assert model.count_params() == original.count_params()
    x = keras_models.sample_inputs(original)
    np.testing.assert_allclose(
        keras_models.predict(model, x)[0], keras_models.predict(original, x)[0], atol=1e-5
    )


# ----------------------------------------------------------------- project files
def test_an_unknown_layer_in_a_project_names_the_file_and_the_layer(tmp_path: Path) -> None:
    graph = LayerGraph()
    graph.add_node("Input", {"shape": [4]}, name="x")
    path = save_project(Project(graph), tmp_path / "p.dcproj.json")
    data = json.loads(path.read_text())
    data["graph"]["nodes"].append({"id": "n1", "type": "Dense3000", "name": "fc", "params": {}})
    path.write_text(json.dumps(data))

    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert str(info.value) == f"{path}: unknown layer type 'Dense3000' (layer 'fc')"


def test_an_unknown_layer_inside_a_block_is_named_on_the_block() -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [4]}, name="x")
    block = graph.add_node(
        "Block",
        {
            "graph": {
                "nodes": [
                    {"id": "i", "type": "Input", "name": "i", "params": {"shape": [4]}},
                    {"id": "w", "type": "Warp", "name": "warp", "params": {}},
                ],
                "edges": [{"src": "i", "dst": "w", "dst_port": 0}],
            }
        },
        name="odd",
    )
    graph.connect(x.id, block.id)
    error = ShapeInference().infer(graph)[block.id].error or ""
    assert "Block 'odd'" in error and "unknown layer type 'Warp' (layer 'warp')" in error
