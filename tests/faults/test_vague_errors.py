"""Messages that must name the problem. A hand-edited project, bad dataset settings or a layer
parameter of the wrong type used to answer with Python's own words ("'<=' not supported
between instances of 'int' and 'str'", "unhashable type: 'list'", "'int' object has no
attribute 'get'", "len() of unsized object", an AttributeError escaping as a traceback):
each now names the file, the field, the node or the column, and what it expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.document.graph import LayerGraph
from backend.keras_bridge.compiler import validate
from backend.keras_bridge.shapes import ShapeInference
from tests.faults.conftest import fingerprint, run_cli, write_project

PYTHON_WORDS = (
    "not supported between",
    "unhashable",
    "object has no attribute",
    "unexpected keyword",
    "not iterable",
    "missing 1 required",
    "sequence item",
    "unsized",
    "Traceback",
)


def edited(tmp_path: Path, change: Any) -> Path:
    """A project file as a person might have edited it by hand."""
    path = write_project(tmp_path / "p.dcproj.json")
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("section", "key", "value", "needle"),
    [
        ("dataset", "val_fraction", "0.2", "val_fraction"),
        ("dataset", "test_fraction", None, "test_fraction"),
        ("dataset", "name", ["moons"], "dataset name"),
        ("dataset", "splits", 3, "'splits'"),
        ("training", "heads", {"dense_1": 1}, "heads"),
        ("training", "heads", {"dense_1": {"loss": 1}}, "heads"),
        ("training", "heads", {"dense_1": {"weight": "x"}}, "heads"),
        ("training", "heads", {"dense_1": {"metrics": "accuracy"}}, "heads"),
        ("training", "schedule_params", {"every_epochs": "x"}, "schedule_params"),
        ("training", "schedule_params", [1], "schedule_params"),
    ],
)
def test_a_hand_edited_setting_is_named(
    tmp_path: Path, section: str, key: str, value: Any, needle: str
) -> None:
    def change(data: dict[str, Any]) -> None:
        data[section][key] = value
        if key == "schedule_params":
            data[section]["schedule"] = "step"

    path = edited(tmp_path, change)
    before = fingerprint(tmp_path)
    for command in ("validate", "train"):
        result = run_cli(command, path)
        assert result.code == 1, (command, result.out, result.err)
        assert needle in result.error, (command, result.error)
        assert str(path) in result.error
        assert not any(w in result.err for w in PYTHON_WORDS), result.err
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize(
    ("layer", "params", "needle"),
    [
        ("Dense", {"units": "64"}, "units"),
        ("LSTM", {"units": 4, "dropout": "0.5"}, "dropout"),
        ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": 1}, "padding"),
        ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": None}, "padding"),
        ("UpSampling1D", {"size": "x"}, "size"),
        ("Reshape", {"target_shape": 4}, "target_shape"),
        ("Dense", {"units": 4, "use_bias": "no"}, "use_bias"),
    ],
)
def test_a_layer_parameter_of_the_wrong_type_names_the_parameter(
    layer: str, params: dict[str, Any], needle: str
) -> None:
    graph = LayerGraph()
    source = graph.add_node("Input", {"shape": [8, 4]})
    node = graph.add_node(layer, params)
    graph.connect(source.id, node.id)
    problems = validate(graph, ShapeInference().infer(graph))  # never raises
    messages = [p.message for p in problems if p.node_id == node.id]
    assert messages and needle in messages[0] and f"'{node.name}'" in messages[0], messages
    assert not any(w in messages[0] for w in PYTHON_WORDS), messages


def test_a_color_mode_that_is_a_list_is_named(tmp_path: Path) -> None:
    from backend.data import DatasetError, load_dataset

    (tmp_path / "a").mkdir()
    with pytest.raises(DatasetError, match="color_mode must be one of") as info:
        load_dataset("image_folder", {"path": str(tmp_path), "color_mode": ["rgb"]})
    assert "unhashable" not in str(info.value)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("train", "P", "--connect-timeout", "nan"), "positive number of seconds"),
        (("train", "P", "--connect-timeout", "-1"), "positive number of seconds"),
        (("data", "P", "moons", "--param", "noise=" + "[" * 50_000), "nested"),
        (("data", "P", "moons", "--param", "noise=NaN"), "NaN"),
        (("data", "P", "moons", "--param", "noise"), "KEY=VALUE"),
    ],
)
def test_a_bad_flag_is_a_usage_error_naming_it(
    tmp_path: Path, argv: tuple[str, ...], needle: str
) -> None:
    path = write_project(tmp_path / "p.dcproj.json")
    before = fingerprint(tmp_path)
    result = run_cli(*[str(path) if a == "P" else a for a in argv])
    assert result.code == 2, (result.out, result.err)
    assert needle in result.error and "Traceback" not in result.err, result.err
    assert fingerprint(tmp_path) == before


DEEP = "[" * 100_000 + "]" * 100_000


def test_deep_json_from_the_clipboard_tf_config_or_an_editor_is_refused() -> None:
    """Three more doors for JSON from outside: pasted text (another app's clipboard), the
    TF_CONFIG of a multi-worker run, and a layer parameter typed as JSON in the inspector."""
    from backend.document.graph import GraphError
    from backend.editing.clipboard import from_text
    from backend.keras_bridge.catalog import layer_spec
    from backend.training.cluster import DistributedError, parse_tf_config

    with pytest.raises(GraphError, match="no DeepCanvas layers"):
        from_text('{"kind": "deepcanvas-nodes", "nodes": ' + DEEP + ', "edges": []}')
    with pytest.raises(DistributedError, match="TF_CONFIG"):
        parse_tf_config(DEEP)
    json_params = [p for p in layer_spec("Dense").params if p.kind == "json"]
    assert json_params, "Dense has a parameter typed as JSON (a constraint, a regularizer)"
    with pytest.raises(ValueError, match="is not a valid"):
        json_params[0].parse_text(DEEP)
