"""'Classify your own photos' opens with MobileNetV3Small when its ImageNet weights are in the
Keras cache (a file this test writes where Keras keeps it, its hash taken as the published
one) and with a small CNN otherwise, saying which: through the gallery, the workflow and
`main.py new --example` alike. Nothing is downloaded: the network is cut off throughout.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from backend.document.project import load_project
from backend.exchange.pretrained import backbone_nodes
from backend.exchange.pretrained_catalog import BACKBONES, SMALLEST
from backend.keras_bridge.compiler import validate
from backend.keras_bridge.weights import compile_project
from backend.keras_env import import_keras
from backend.templates import gallery
from backend.workflow.session import Workflow

PHOTOS = "photos"
FEATURE_LAYERS = ["scale", "conv1", "pool1", "conv2", "pool2", "conv3"]
KEPT = ["image", "flip", "rotate", "zoom", "pool", "dropout", "classes"]


pytestmark = pytest.mark.usefixtures("offline")  # no connection, an empty Keras cache


def write_stand_in(folder: Path) -> tuple[Path, Any]:
    """MobileNetV3Small without its top, weights changed from any initializer's, saved under
    the published file's name in its own (legacy HDF5) format."""
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    keras = import_keras()
    model = keras.applications.MobileNetV3Small(
        input_shape=(64, 64, 3), include_top=False, weights=None, include_preprocessing=False
    )
    rng = np.random.default_rng(3)
    for weight in model.weights:
        value = weight.numpy()
        weight.assign((value + rng.normal(0, 0.05, value.shape)).astype(value.dtype))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BACKBONES[SMALLEST].weights_file
    with h5py.File(path, "w") as handle:
        save_weights_to_hdf5_group(handle, model)
    return path, model


def cache(keras_home: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put `source` where keras.applications keeps the file, and take its hash as Keras'."""
    target = keras_home / "models" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    digest = hashlib.md5(source.read_bytes()).hexdigest()
    monkeypatch.setitem(BACKBONES, SMALLEST, replace(BACKBONES[SMALLEST], file_hash=digest))
    return target


@pytest.fixture(scope="module")
def imagenet_stand_in(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    return write_stand_in(tmp_path_factory.mktemp("published"))


def names(project: Any) -> list[str]:
    return [node.name for node in project.graph.nodes.values()]


def test_without_the_weights_the_template_is_a_small_cnn_and_says_why() -> None:
    info = gallery.template_info(PHOTOS)
    assert info.pretrained is not None and info.pretrained.backbone == SMALLEST
    said = gallery.opens_with(info)

    opened = gallery.open_template(PHOTOS)

    assert not opened.pretrained and opened.choice == said
    assert opened.note.startswith("a small CNN trained from scratch: the ImageNet weights of ")
    assert "not on this computer (about 3.8 MB" in opened.note
    assert "--download MobileNetV3Small" in opened.note
    assert opened.choice.short == (
        "a small CNN trained from scratch (the ImageNet weights of MobileNetV3Small are not "
        "on this computer)"
    )
    assert names(opened.project) == [*KEPT[:4], *FEATURE_LAYERS, *KEPT[4:]]
    assert opened.project.training.initial_weights is None


def test_with_the_weights_cached_it_opens_on_the_frozen_backbone_with_them(
    imagenet_stand_in: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, reference = imagenet_stand_in
    cache(tmp_path / "keras", source, monkeypatch)
    info = gallery.template_info(PHOTOS)
    said = gallery.opens_with(info)

    opened = gallery.open_template(PHOTOS)

    project = opened.project
    assert opened.pretrained and opened.choice == said
    assert opened.note == (
        "MobileNetV3Small pretrained on ImageNet (frozen; its weights are in the Keras cache)"
    )
    assert not set(FEATURE_LAYERS) & set(names(project))
    assert set(KEPT) | {"preprocess", "mobilenetv3small"} == set(names(project))
    order = [project.graph.nodes[n].name for n in project.graph.topological_order()]
    assert order == [*KEPT[:4], "preprocess", "mobilenetv3small", *KEPT[4:]]
    (block_id,) = backbone_nodes(project.graph)
    block = project.graph.nodes[block_id].params
    assert block["trainable"] is False and block["call_kwargs"] == {"training": False}
    assert block["pretrained"]["weights"]["check"] == "matches Keras' published hash"
    assert (project.training.learning_rate, project.training.epochs) == (0.001, 5)
    assert project.dataset is not None and project.dataset.params["rescale"] is False
    assert validate(project.graph) == [] and not project.dirty
    assert project.description == info.description  # the gallery's line, either model
    ys = [project.graph.nodes[n].position[1] for n in project.graph.topological_order()]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)  # laid out top to bottom

    model = compile_project(project)
    ours = [w.numpy() for w in model.get_layer("mobilenetv3small").weights]
    theirs = [w.numpy() for w in reference.weights]
    assert len(ours) == len(theirs) > 100
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)

    # The workflow opens it through the same code (the Start tab and main.py new alike).
    assert names(Workflow.from_template(PHOTOS).project) == names(project)


def test_a_damaged_cached_copy_gives_the_small_cnn_and_names_the_file(
    imagenet_stand_in: tuple[Path, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cached = cache(tmp_path / "keras", imagenet_stand_in[0], monkeypatch)
    cached.write_bytes(cached.read_bytes()[:-100])  # a partial copy

    from backend.cli.main import main

    target = tmp_path / "photos.dcproj.json"
    assert main(["new", "-o", str(target), "--example", PHOTOS]) == 0

    out = capsys.readouterr().out
    assert "with a small CNN trained from scratch: " in out and str(cached) in out
    assert "hash differs" in out
    assert "conv1" in names(load_project(target))


def test_an_offer_is_checked_when_the_gallery_reads_it(tmp_path: Path) -> None:
    text = gallery.template_info(PHOTOS).path.read_text(encoding="utf-8")
    for key, value, message in (
        ("backbone", "NoNet", "unknown pretrained network 'NoNet'"),
        ("replaces", ["scale", "conv9"], "the template has no layer 'conv9' to replace"),
        ("training", {"epoch": 5}, "unknown training settings: epoch"),
        ("replaces", [], "needs 'replaces'"),
    ):
        document = json.loads(text)
        document["template"]["pretrained"][key] = value
        folder = tmp_path / f"{key}{len(message)}"
        folder.mkdir()
        (folder / "p.dcproj.json").write_text(json.dumps(document), encoding="utf-8")
        with pytest.raises(gallery.TemplateError, match=message):
            gallery.templates(folder)


def test_the_download_the_note_names_says_offline_and_keeps_nothing(
    offline: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.cli.main import main

    assert main(["pretrained", "--download", "mobilenetv3small"]) == 1

    err = capsys.readouterr().err
    assert "this computer seems to be offline" in err
    assert BACKBONES[SMALLEST].weights_file in err and str(tmp_path / "keras" / "models") in err
    assert len(offline) == 1  # the one attempt the user asked for
    offline.clear()
    assert list((tmp_path / "keras" / "models").iterdir()) == []
