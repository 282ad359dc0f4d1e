"""Pretrained backbones: weights read by Keras from a file this test writes (the application
with weights=None, its weights changed and saved), kept as the project's starting weights, the
same after loading; frozen and fine-tuned trainable counts as Keras' own; one epoch on the
generated photo folder; .keras and TFLite exports of the block; no network touched on the way.

MobileNetV3Small (the smallest backbone) at 32x32 or 64x64 keeps it short.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from backend.data.samples import PHOTO_CLASSES, SAMPLE_PHOTOS
from backend.document.project import load_project, save_project
from backend.document.run_changes import run_name
from backend.exchange.pretrained import (
    PretrainedError,
    backbone_nodes,
    fine_tune_command,
    preprocessing_nodes,
    trainable_counts,
)
from backend.exchange.pretrained_catalog import SMALLEST, backbone
from backend.exchange.pretrained_project import new_pretrained_project, photos_dataset
from backend.exchange.pretrained_weights import WeightsDownloadError, cached_origin
from backend.keras_bridge.weights import compile_project
from backend.keras_env import import_keras
from backend.workflow.session import Workflow

SHAPE = (32, 32, 3)
ENTRY = backbone(SMALLEST)


def reference_backbone(shape: tuple[int, int, int] = SHAPE, **kwargs: Any) -> Any:
    keras = import_keras()
    return keras.applications.MobileNetV3Small(
        input_shape=shape, include_top=False, weights=None, **kwargs
    )


def perturbed(model: Any, seed: int = 0) -> Any:
    """Weights no initializer would give, so a backbone that skipped them would show."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        value = weight.numpy()
        weight.assign((value + rng.normal(0, 0.05, value.shape)).astype(value.dtype))
    return model


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The same architecture with weights=None, changed, saved by Keras (`.weights.h5`)."""
    model = perturbed(reference_backbone(include_preprocessing=False))
    path = tmp_path_factory.mktemp("weights") / "mine.weights.h5"
    model.save_weights(path)
    return path, model


def test_a_backbone_takes_its_weights_from_a_file_written_by_the_test(
    weights_file: tuple[Path, Any], tmp_path: Path
) -> None:
    path, reference = weights_file
    project = new_pretrained_project(SMALLEST, 4, SHAPE, path, tmp_path / "p.dcproj.json")
    save_project(project, tmp_path / "p.dcproj.json")

    reopened = load_project(tmp_path / "p.dcproj.json")
    (block_id,) = backbone_nodes(reopened.graph)
    record = reopened.graph.nodes[block_id].params["pretrained"]
    assert record["application"] == "MobileNetV3Small"
    assert record["weights"]["kind"] == "file" and record["weights"]["path"] == str(path)
    assert record["weights"]["digest"].startswith("md5:")
    assert reopened.training.initial_weights == "p.weights.npz"  # beside the project

    model = compile_project(reopened)
    block = model.get_layer(ENTRY.node_name)
    ours = [w.numpy() for w in block.weights]
    theirs = [w.numpy() for w in reference.weights]
    assert len(ours) == len(theirs) > 100
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)

    # Raw pixels in: the preprocessing layer does what MobileNetV3's own one does.
    own = reference_backbone()  # include_preprocessing=True, Keras' Rescaling inside
    own.set_weights(reference.get_weights())
    x = np.random.default_rng(1).uniform(0, 255, (2, *SHAPE)).astype("float32")
    keras = import_keras()
    features = keras.Model(model.input, model.get_layer("pool").input)
    np.testing.assert_allclose(features(x), own(x), atol=1e-5)


def test_frozen_and_fine_tuned_trainable_counts_equal_keras_own(
    weights_file: tuple[Path, Any], tmp_path: Path
) -> None:
    keras = import_keras()
    project = new_pretrained_project(SMALLEST, 3, SHAPE, weights_file[0], None)

    base = reference_backbone(include_preprocessing=False)  # the Keras guide's way
    head = keras.layers.Dense(3)
    reference = keras.Sequential(
        [keras.Input(SHAPE), base, keras.layers.GlobalAveragePooling2D(), head]
    )
    base.trainable = False
    frozen = trainable_counts(compile_project(project))
    assert frozen == trainable_counts(reference)
    assert frozen[0] == 576 * 3 + 3  # only the head trains (576 features)

    (block_id,) = backbone_nodes(project.graph)
    command = fine_tune_command(project, block_id, top=20, lr_factor=0.1)
    command.do(project.graph)
    assert project.training.learning_rate == pytest.approx(1e-4)
    base.trainable = True
    for layer in base.layers[:-20]:
        layer.trainable = False
    for layer in base.layers[-20:]:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    tuned = trainable_counts(compile_project(project))
    assert tuned == trainable_counts(reference)
    assert tuned[0] > frozen[0]

    command.undo(project.graph)
    assert trainable_counts(compile_project(project)) == frozen


def test_preprocessing_layers_are_keras_preprocess_input() -> None:
    """Each recipe against the application's own preprocess_input, on raw pixels."""
    from backend.document.graph import LayerGraph
    from backend.keras_bridge.compiler import compile_graph

    keras = import_keras()
    x = np.random.default_rng(2).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    for name, module in (
        ("MobileNetV2", keras.applications.mobilenet_v2),
        ("DenseNet121", keras.applications.densenet),
        ("ResNet50", keras.applications.resnet50),
    ):
        graph = LayerGraph()
        previous = graph.add_node("Input", {"shape": [8, 8, 3]}).id
        for node_name, layer_type, params in preprocessing_nodes(backbone(name)):
            node = graph.add_node(layer_type, params, name=node_name)
            graph.connect(previous, node.id)
            previous = node.id
        got = compile_graph(graph)(x)
        np.testing.assert_allclose(got, module.preprocess_input(x.copy()), rtol=1e-5, atol=1e-4)
    assert preprocessing_nodes(backbone("EfficientNetB0")) == []  # it normalizes inside


def test_imagenet_weights_come_only_from_the_keras_cache_and_a_damaged_copy_is_named(
    weights_file: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(PretrainedError, match=r"not on this computer.*about 3\.8 MB"):
        new_pretrained_project(SMALLEST, 3, SHAPE, "imagenet")

    cached = tmp_path / "keras" / "models" / ENTRY.weights_file  # the published name
    cached.parent.mkdir(parents=True)
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    with h5py.File(cached, "w") as handle:  # the published files' own (legacy) format
        save_weights_to_hdf5_group(handle, weights_file[1])
    with pytest.raises(WeightsDownloadError, match="hash differs"):
        cached_origin(ENTRY)


def test_a_pretrained_project_builds_opens_trains_and_exports_without_the_network(
    tmp_path: Path, offline: list[Any]
) -> None:
    """No weights anywhere: an untrained backbone, said so; one epoch on the photo folder;
    .keras and TFLite exports; not one connection attempted."""
    path = tmp_path / "photos.dcproj.json"
    data = photos_dataset(SAMPLE_PHOTOS)
    data.params.update(height=32, width=32)
    # MobileNet (V1): the quickest to convert to TFLite (15 s here, MobileNetV3Small 23 s).
    project = new_pretrained_project("MobileNet", len(PHOTO_CLASSES), SHAPE, None, path, data)
    assert "untrained" in project.description
    save_project(project, path)
    workflow = Workflow.open(path)
    workflow.set_training(epochs=1, batch_size=16)

    _result, run = workflow.train()

    assert run.status == "completed", run.message
    assert np.isfinite(run.history["loss"][0])

    # One click later: the top unfrozen, a lower learning rate, a run continuing this one.
    (block_id,) = backbone_nodes(workflow.project.graph)
    workflow.undo.push(fine_tune_command(workflow.project, block_id, top=10))
    assert workflow.cannot_continue(run.id) is None  # freezing changes keep the weights fit
    _result, tuned = workflow.train(continue_from=run.id)
    assert tuned.status == "completed" and tuned.parent_id == run.id
    assert tuned.training["learning_rate"] == pytest.approx(run.training["learning_rate"] / 10)
    name = run_name(tuned, workflow.project.runs)  # the Runs table's words for the phase
    assert name.startswith("continued, learning rate 0.001 → 0.0001, layers of 'mobilenet' ")
    assert re.search(r"that train \d+ → [1-9] ?", name) and "{" not in name, name
    exported = workflow.export("keras", tmp_path / "photos.keras")
    assert exported.report.matches
    lite = workflow.export("tflite", tmp_path / "photos.tflite")
    assert lite.report.matches and lite.report.size_bytes > 1_000_000  # the backbone is in it
    assert offline == []
    assert_the_script_rebuilds_it(workflow, tmp_path)


SCRIPT_RUNNER = """
import json, runpy, sys
import numpy as np
script = runpy.run_path(sys.argv[2])
model = script["load_weights"](script["build_model"]())
np.savez("script_model.npz", outputs=np.asarray(model(np.load("inputs.npy"), training=False)),
         **{f"w{i}": w.numpy() for i, w in enumerate(model.weights)})
with open(sys.argv[1], "w") as handle:
    json.dump({"layers": [layer.name for layer in model.layers],
               "params": int(model.count_params())}, handle)
"""


def assert_the_script_rebuilds_it(workflow: Workflow, folder: Path) -> None:
    """File > Export Python script of the fine-tuned project, run in a fresh interpreter:
    the same layers, every weight the app's current one (the fine-tuned run's), the app's
    outputs on the same images, finite."""
    from tests.script_runner import run_in_subprocess

    script = workflow.write_script(folder / "photos.py")
    x = np.random.default_rng(4).uniform(0, 255, (4, *SHAPE)).astype("float32")
    np.save(folder / "inputs.npy", x)

    got = run_in_subprocess(SCRIPT_RUNNER, [script], folder)

    scripted = np.load(folder / "script_model.npz")
    app = workflow.build_model().model
    assert got["params"] == app.count_params()
    assert got["layers"] == [layer.name for layer in app.layers]
    for i, weight in enumerate(app.weights):
        np.testing.assert_array_equal(scripted[f"w{i}"], weight.numpy())
    outputs = scripted["outputs"]
    assert outputs.shape == (4, len(PHOTO_CLASSES)) and np.isfinite(outputs).all()
    np.testing.assert_allclose(outputs, np.asarray(app(x, training=False)), atol=1e-5)


def test_cli_new_pretrained_on_an_image_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.cli.main import main

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    target = tmp_path / "mine.dcproj.json"
    common = ["new", "-o", str(target), "--pretrained", "mobilenetv3small"]
    shape = ["--input-shape", "32,32,3", "--data", str(SAMPLE_PHOTOS)]

    assert main([*common, *shape, "--weights", "imagenet"]) == 1
    assert "not on this computer" in capsys.readouterr().err and not target.exists()

    assert main([*common, *shape]) == 0
    assert "the backbone is untrained" in capsys.readouterr().out
    project = load_project(target)
    assert project.dataset is not None and project.dataset.params["rescale"] is False
    assert project.graph.node_by_name("classes").params["units"] == len(PHOTO_CLASSES)

    # Choosing the folder again later: read raw and at the backbone's size, as --data did.
    assert main(["data", str(target), "digits"]) == 0
    assert main(["data", str(target), "image_folder", "--param", f"path={SAMPLE_PHOTOS}"]) == 0
    chosen = load_project(target).dataset
    assert chosen is not None and chosen.name == "image_folder"
    assert (chosen.params["rescale"], chosen.params["height"], chosen.params["width"]) == (
        False,
        32,
        32,
    )
    assert main([*common, "--input-shape", "16,16,3", "--force"]) == 1
    assert "at least 32x32" in capsys.readouterr().err


def test_a_model_that_scales_pixels_itself_reads_an_image_folder_raw() -> None:
    """The Data panel's and `main.py data`'s rule: no second scaling to 0..1."""
    from backend.editing.data_wiring import suggested_params
    from backend.templates.gallery import load_template

    own_cnn = load_template("photos").graph  # augmentation, then its own Rescaling(1/255)
    at_its_size = {"height": 64, "width": 64, "color_mode": "rgb"}  # and at its Input's size
    assert suggested_params(own_cnn, "image_folder") == {"rescale": False, **at_its_size}
    assert suggested_params(own_cnn, "csv") == {}
    digits = load_template("digits_cnn").graph  # nothing scales: pixels to 0..1 by default
    assert suggested_params(digits, "image_folder") == {
        "height": 8,
        "width": 8,
        "color_mode": "grayscale",
    }
    assert suggested_params(load_template("moons_mlp").graph, "image_folder") == {}


SCRIPT_RUNNER = """
import json, runpy, sys
import numpy as np
script = runpy.run_path(sys.argv[2])
model = script["load_weights"](script["build_model"]())
x = np.load("inputs.npy")
np.savez("script_model.npz", outputs=np.asarray(model(x, training=False)),
         **{f"w{i}": w.numpy() for i, w in enumerate(model.weights)})
with open(sys.argv[1], "w") as handle:
    json.dump({"layers": [layer.name for layer in model.layers],
               "params": int(model.count_params())}, handle)
"""
