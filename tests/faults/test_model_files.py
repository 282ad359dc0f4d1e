"""Hostile or broken Keras model files: every one is a one-line refusal naming the file, never
a traceback, and leaves nothing behind. The `config.json` inside a `.keras` is JSON anyone can
write: layers that are strings, a dict, nesting thousands deep, infinity, a bad tensor index.

Lambda layers, custom layers, truncated or random files, operations outside Keras' own are in
test_hostile_model_files.py beside this file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from backend.exchange.importer import ModelImportError, import_model
from tests import keras_models
from tests.faults.conftest import fingerprint, run_cli


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "mlp.keras"
    keras_models.mlp().save(path)
    return path


def with_config(source: Path, target: Path, config: Any) -> Path:
    """A copy of `source` whose config.json is `config` (a value, or raw text)."""
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    text = config if isinstance(config, str) else json.dumps(config)
    members["config.json"] = text.encode("utf-8")
    with zipfile.ZipFile(target, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    return target


def config_of(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def set_at(config: Any, where: str, value: Any) -> Any:
    keys = [int(k) if k.isdigit() else k for k in where.split("/")]
    node = config
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return config


def refused(path: Path, *needles: str) -> str:
    folder = path.parent
    before = fingerprint(folder)
    result = run_cli("import", path, "-o", folder / "out.dcproj.json")
    assert result.code == 1, (result.out, result.err)
    message = result.error
    assert str(path) in message, message
    for needle in needles:
        assert needle in message, message
    assert "Traceback" not in result.err
    assert fingerprint(folder) == before, "a refused import left files behind"
    return message


def test_layers_that_are_strings_or_a_dict_are_named(mlp_file: Path, tmp_path: Path) -> None:
    config = config_of(mlp_file)
    strings = set_at(config_of(mlp_file), "config/layers", ["Dense", "Dense"])
    refused(with_config(mlp_file, tmp_path / "s.keras", strings), "layers[0]", "not an object")
    as_dict = set_at(config, "config/layers", {"a": {"class_name": "Dense"}})
    refused(with_config(mlp_file, tmp_path / "d.keras", as_dict), "'layers'", "a list")


def test_a_config_nested_thousands_deep_is_refused(mlp_file: Path, tmp_path: Path) -> None:
    deep = with_config(mlp_file, tmp_path / "deep.keras", "[" * 100_000 + "]" * 100_000)
    refused(deep, "nested")
    inner: Any = 0
    for _ in range(500):
        inner = {"a": inner}
    config = set_at(config_of(mlp_file), "config/layers/1/config/kernel_initializer", inner)
    refused(with_config(mlp_file, tmp_path / "deep2.keras", config), "nested more than")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("config", "x"),
        ("config", [1]),
        ("config/layers/0", "x"),
        ("config/layers/1", 1),
        ("config/layers/1/config", "x"),
        ("config/layers/1/config", [1]),
        ("config/layers/1/config/dtype/config", None),
        ("config/layers/1/config/use_bias", 1e400),
        ("config/layers/2/inbound_nodes/0/kwargs/training", 1e400),
        ("config/output_layers/1", -1),
        ("config/output_layers/2", -1),
    ],
)
def test_a_malformed_config_is_a_refusal(
    mlp_file: Path, tmp_path: Path, where: str, value: Any
) -> None:
    """Each of these gave an AttributeError, KeyError, TypeError, GraphError or a project
    that could not be saved (the fault sweep's mutations of a real model's config)."""
    path = with_config(mlp_file, tmp_path / "m.keras", set_at(config_of(mlp_file), where, value))
    before = fingerprint(tmp_path)
    with pytest.raises(ModelImportError) as info:
        import_model(path, tmp_path / "out.dcproj.json")
    assert str(info.value).startswith(str(path)), info.value
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize(
    ("module", "class_name"), [("kerasevil.layers", "Dense"), ("os", "system"), ("", "Dense")]
)
def test_a_layer_from_a_module_that_is_not_keras_is_refused(
    mlp_file: Path, tmp_path: Path, module: str, class_name: str
) -> None:
    """A config names the module to import a class from: only Keras' own are ever read
    ("kerasevil" merely starts like it), and nothing of the file is imported or run."""
    config = config_of(mlp_file)
    entry = config["config"]["layers"][1]
    entry["module"], entry["class_name"] = module, class_name
    entry.pop("registered_name", None)
    path = with_config(mlp_file, tmp_path / "m.keras", config)
    message = refused(path, "layer 'hidden'")
    assert "custom layer" in message or "not supported" in message, message


def test_archive_members_cannot_escape_the_archive(mlp_file: Path, tmp_path: Path) -> None:
    """Members named `../x`, an absolute path, or through `assets/..`: whatever Keras
    extracts stays in its own temporary folder; the import writes only its project."""
    path = tmp_path / "m.keras"
    escapes = ["../escaped.txt", str(tmp_path / "absolute.txt"), "assets/../../up.txt"]
    with zipfile.ZipFile(mlp_file) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
        for name in escapes:
            target.writestr(name, b"must never be written")
    outside = tmp_path.parent
    before = {p.name for p in outside.iterdir()}
    project = tmp_path / "out" / "p.dcproj.json"
    project.parent.mkdir()
    run_cli("import", path, "-o", project)
    assert {p.name for p in outside.iterdir()} == before
    found = [p for p in tmp_path.rglob("*.txt")] + list(Path("/tmp").glob("escaped.txt"))
    assert found == [], found
    assert sorted(p.name for p in project.parent.iterdir()) == ["p.dcproj.json", "p.weights.npz"]


def test_a_small_file_declaring_huge_weights_is_refused_before_keras_builds_it(
    tmp_path: Path,
) -> None:
    """14 KB of .keras whose config says Dense(10**9): Keras would allocate 256 GB to build the
    model before reading its weights. The weights are counted from the config first."""
    from backend.keras_env import import_keras

    keras = import_keras()
    inputs = keras.Input((64,), name="x")
    small = tmp_path / "small.keras"
    keras.Model(inputs, keras.layers.Dense(3, name="big")(inputs)).save(small)
    config = config_of(small)
    (entry,) = [e for e in config["config"]["layers"] if e["name"] == "big"]
    entry["config"]["units"] = 10**9
    bomb = with_config(small, tmp_path / "bomb.keras", config)
    message = refused(bomb, "Dense 'big'", "GiB", "memory")
    assert "Keras cannot load it" not in message
