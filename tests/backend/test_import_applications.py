"""Keras' own architectures (`keras.applications`, weights=None) survive import, compile and the
script export unchanged: same config, same parameter count, same outputs with the weights.

Built once per session at small input sizes (the smallest each application accepts, DenseNet a
little larger so its last pooling keeps a pixel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.document.project import Project
from backend.exchange.codegen import write_script
from backend.exchange.importer import import_model
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_bridge.weights import compile_project
from backend.keras_env import import_keras
from tests import keras_models
from tests.script_runner import build_in_subprocess

APPLICATIONS = {
    "ResNet50": (32, 32, 3),
    "MobileNetV2": (32, 32, 3),
    "DenseNet121": (64, 64, 3),
    "EfficientNetB0": (32, 32, 3),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def applications(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Project]]:
    keras = import_keras()
    folder = tmp_path_factory.mktemp("applications")
    result = {}
    for name, shape in APPLICATIONS.items():
        model = getattr(keras.applications, name)(weights=None, input_shape=shape, classes=10)
        model.save(folder / f"{name}.keras")
        project = import_model(folder / f"{name}.keras", folder / f"{name}.dcproj.json")
        result[name] = (model, project)
    return result


@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_an_application_comes_back_identical(
    name: str, applications: dict[str, tuple[Any, Project]]
) -> None:
    original, project = applications[name]
    assert len(project.graph.nodes) == len(original.layers)
    shapes = ShapeInference().infer(project.graph)
    assert not [s.error for s in shapes.values() if s.error]
    for layer in original.layers[1:]:
        node = project.graph.node_by_name(layer.name)
        assert shapes[node.id].shape == tuple(layer.output.shape), layer.name

    model = compile_project(project)

    assert keras_models.architecture(model) == keras_models.architecture(original)
    assert model.count_params() == original.count_params()
    x = keras_models.sample_inputs(original, batch=2)
    np.testing.assert_allclose(
        keras_models.predict(model, x)[0], keras_models.predict(original, x)[0], atol=1e-5
    )


def test_application_scripts_rebuild_the_same_models(
    applications: dict[str, tuple[Any, Project]], tmp_path: Path
) -> None:
    """Two of the four (the deepest and the one with squeeze-and-excitation), to keep it short."""
    chosen = ["ResNet50", "EfficientNetB0"]
    scripts = {n: write_script(applications[n][1], tmp_path / f"{n}.py") for n in chosen}

    built = build_in_subprocess(list(scripts.values()), tmp_path)

    for name in chosen:
        original, _project = applications[name]
        got = built[str(scripts[name])]
        assert got["architecture"] == keras_models.architecture(original), name
        assert got["params"] == original.count_params()
