"""Import each model of the import tests, then export it to every format, through the CLI
(main.py, in-process): every export is written and verified, on check samples that fit the
model (generated from its input specs when the project has no data that fits, and said so).

Each model is imported once and exported to all five formats. `make test` runs every model of
`tests/keras_models.py` and MobileNetV2; the other keras.applications architectures (ResNet50,
DenseNet121, InceptionV3, Xception, NASNetMobile, EfficientNetB0: 14 minutes of TFLite
and ONNX conversion on two cores) run with `make test-exports`
(DEEPCANVAS_EXPORT_MATRIX=all), at the smallest input each builder accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import load_project
from backend.keras_env import import_keras
from tests import keras_models
from tests.journeys.conftest import Cli

FORMATS = {
    "keras": "model.keras",
    "savedmodel": "served",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
    "python": "model.py",
}
APPLICATIONS = {  # the smallest input each builder accepts (weights=None)
    "MobileNetV2": (32, 32, 3),
    "ResNet50": (32, 32, 3),
    "DenseNet121": (32, 32, 3),
    "InceptionV3": (75, 75, 3),
    "Xception": (71, 71, 3),
    "NASNetMobile": (32, 32, 3),
    "EfficientNetB0": (32, 32, 3),
}
EVERY_APPLICATION = os.environ.get("DEEPCANVAS_EXPORT_MATRIX") == "all"
MODELS: dict[str, Callable[[], Any]] = {
    **keras_models.VARIED,
    "sequential_mlp": keras_models.sequential_mlp,
    "conv_autoencoder": keras_models.conv_autoencoder,
    **{
        name: (lambda n=name, s=shape: application(n, s))
        for name, shape in APPLICATIONS.items()
        if EVERY_APPLICATION or name == "MobileNetV2"
    },
}
GENERATED = "generated samples shaped like the model's inputs (the project has no data)"


def application(name: str, shape: tuple[int, ...]) -> Any:
    keras = import_keras()
    return getattr(keras.applications, name)(weights=None, input_shape=shape, classes=10)


@pytest.mark.parametrize("name", list(MODELS))
def test_an_imported_model_exports_to_every_format(name: str, cli: Cli, tmp_path: Path) -> None:
    model = MODELS[name]()
    model.save(tmp_path / f"{name}.keras")
    project = tmp_path / f"{name}.dcproj.json"
    imported = cli("import", tmp_path / f"{name}.keras", "-o", project)
    assert imported.code == 0, imported.err
    assert "no dataset yet" in imported.out
    assert json.loads(project.read_text())["dataset"] is None

    for fmt, target in FORMATS.items():
        done = cli("export", project, "--format", fmt, "-o", tmp_path / target, "--json")
        assert done.code == 0, f"{name} as {fmt}: {done.err}"
        if fmt == "python":
            assert "the starting weights" in done.out
            compile((tmp_path / target).read_text(), target, "exec")  # a valid script
            continue
        report = done.json()
        assert report["matches"] and report["samples"] == 8, report
        assert report["sample_source"] == GENERATED, report
        assert report["weights"].startswith("the starting weights"), report


def test_export_checks_on_the_project_data_only_when_it_fits(cli: Cli, tmp_path: Path) -> None:
    keras = import_keras()
    points = keras.Input((2,), name="point")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(points)
    side = keras.layers.Dense(1, activation="sigmoid", name="side")(hidden)
    keras.Model(points, side, name="two_features").save(tmp_path / "two.keras")
    keras_models.mlp().save(tmp_path / "mlp.keras")  # twelve features
    for name in ("two", "mlp"):
        project = tmp_path / f"{name}.dcproj.json"
        assert cli("import", tmp_path / f"{name}.keras", "-o", project).code == 0
        assert cli("data", project, "moons").code == 0

    fits = cli("export", tmp_path / "two.dcproj.json", "-o", tmp_path / "two_out.keras", "--json")
    assert fits.json()["sample_source"] == "test samples of moons"
    unfit = cli("export", tmp_path / "mlp.dcproj.json", "-o", tmp_path / "mlp_out.keras", "--json")
    assert unfit.code == 0, unfit.err
    assert unfit.json()["sample_source"] == (
        "generated samples shaped like the model's inputs (the project's data (moons) does not "
        "fit the model's inputs)"
    )

    # The imported model, given data that fits, trains on from its own weights.
    trained = cli("train", tmp_path / "two.dcproj.json", "--epochs", "1")
    assert trained.code == 0, trained.err
    [run] = load_project(tmp_path / "two.dcproj.json").runs
    assert run.training["initial_weights"].endswith("two.weights.npz")
    refused = cli("train", tmp_path / "mlp.dcproj.json", "--epochs", "1")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert "cannot train: Input 'features' takes (12,), but dataset 'moons'" in refused.err
    assert load_project(tmp_path / "mlp.dcproj.json").runs == []  # refused before a run
