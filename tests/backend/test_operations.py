"""Operation nodes: keras.ops calls inferred, compiled, saved and written by Keras' own classes,
and nothing but Keras' own operations ever looked up."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.document.graph import LayerGraph
from backend.document.project import Project, load_project, save_project
from backend.keras_bridge import operations
from backend.keras_bridge.compiler import CompileError, compile_graph
from backend.keras_bridge.shapes import NodeShape, ShapeInference


def mean_graph(**config: Any) -> tuple[LayerGraph, dict[str, str]]:
    """x (2, 3) -> keras.ops.mean(x, axis=1) -> Dense(2)."""
    graph = LayerGraph()
    op = {"module": "keras.src.ops.numpy", "class_name": "Mean", "config": {"axis": 1, **config}}
    ids = {
        "x": graph.add_node("Input", {"shape": [2, 3]}, name="x").id,
        "mean": graph.add_node(
            "Operation", {"op": op, "args": [{"__input__": 0}], "kwargs": {}}, name="mean"
        ).id,
        "fc": graph.add_node("Dense", {"units": 2}, name="fc").id,
    }
    graph.connect(ids["x"], ids["mean"])
    graph.connect(ids["mean"], ids["fc"])
    return graph, ids


def test_an_operation_node_infers_compiles_and_computes_as_keras() -> None:
    graph, ids = mean_graph()

    assert ShapeInference().infer(graph)[ids["mean"]] == NodeShape((None, 3))
    model = compile_graph(graph)

    (op,) = [c for c in model.get_config()["layers"] if c["class_name"] == "Mean"]
    assert op["module"] == "keras.src.ops.numpy"
    assert op["config"] == {"name": "mean", "axis": 1, "keepdims": False}
    x = np.random.default_rng(0).random((4, 2, 3)).astype("float32")
    kernel, bias = model.get_layer("fc").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x.mean(axis=1) @ kernel + bias, 1e-5)


def test_an_operation_node_saves_and_reloads(tmp_path: Path) -> None:
    graph, _ids = mean_graph(keepdims=False)
    path = save_project(Project(graph, name="ops"), tmp_path / "ops.dcproj.json")

    again = load_project(path).graph

    assert again.to_dict() == graph.to_dict()
    assert compile_graph(again).get_config()["layers"][1]["config"]["keepdims"] is False


def test_editing_the_operation_re_infers_and_a_missing_input_is_named() -> None:
    graph, ids = mean_graph()
    inference = ShapeInference()
    op = dict(graph.nodes[ids["mean"]].params["op"])
    graph.set_params(ids["mean"], {"op": {**op, "config": {"axis": 2}}})
    assert inference.infer(graph)[ids["mean"]] == NodeShape((None, 2))

    graph.set_params(ids["mean"], {"args": [{"__input__": 0}, {"__input__": 1}]})
    assert inference.infer(graph)[ids["mean"]].error == (
        "Operation 'mean' (Mean) takes 2 inputs; 1 connected"
    )


def test_an_operation_returning_two_tensors_has_two_outputs() -> None:
    graph = LayerGraph()
    x = graph.add_node("Input", {"shape": [6]}, name="x").id
    split = graph.add_node(
        "Operation",
        {
            "op": {
                "module": "keras.src.ops.numpy",
                "class_name": "Split",
                "config": {"indices_or_sections": [2], "axis": -1},
            },
            "args": [{"__input__": 0}],
        },
        name="split",
    ).id
    graph.connect(x, split)
    graph.set_outputs([split, f"{split}:1"])
    result = ShapeInference().infer(graph)[split]
    assert [result.port(0), result.port(1)] == [NodeShape((None, 2)), NodeShape((None, 4))]
    model = compile_graph(graph)
    first, second = model.predict(np.arange(12, dtype="float32").reshape(2, 6), verbose=0)
    np.testing.assert_array_equal(second, [[2, 3, 4, 5], [8, 9, 10, 11]])
    assert first.shape == (2, 2)


NOT_KERAS = "is not an operation of Keras' own keras.ops modules"
BAD_OPERATIONS = {
    "a module of the standard library": ("os", "system", f"os.system {NOT_KERAS}"),
    "builtins": ("builtins", "eval", f"builtins.eval {NOT_KERAS}"),
    "a Keras layer": ("keras.src.layers", "Dense", f"keras.src.layers.Dense {NOT_KERAS}"),
    "a look-alike module": (
        "keras.src.ops.numpy_extra",
        "Add",
        f"keras.src.ops.numpy_extra.Add {NOT_KERAS}",
    ),
    "a name imported into an ops module": (
        "keras.src.ops.numpy",
        "Operation",
        "Keras has no operation keras.src.ops.numpy.Operation",
    ),
    "a function, not a class": (
        "keras.src.ops.numpy",
        "add",
        "Keras has no operation keras.src.ops.numpy.add",
    ),
    "a dotted name": (
        "keras.src.ops.numpy",
        "os.system",
        f"keras.src.ops.numpy.os.system {NOT_KERAS}",
    ),
}


@pytest.mark.parametrize("case", BAD_OPERATIONS)
def test_only_keras_own_operation_classes_are_ever_looked_up(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, class_name, message = BAD_OPERATIONS[case]
    imported: list[str] = []
    real = importlib.import_module

    def spy(name: str, package: str | None = None) -> Any:
        imported.append(name)
        return real(name, package)

    monkeypatch.setattr(operations.importlib, "import_module", spy)
    graph, ids = mean_graph()
    op = {"module": module, "class_name": class_name, "config": {}}
    graph.set_params(ids["mean"], {"op": op})

    error = ShapeInference().infer(graph)[ids["mean"]].error

    assert error == f"Operation 'mean': {message}"
    assert set(imported) <= set(operations.OPS_MODULES), "only Keras' ops modules are imported"
    with pytest.raises(CompileError) as info:
        compile_graph(graph)
    assert info.value.node_id == ids["mean"]


@pytest.mark.parametrize(
    ("argument", "what"),
    [
        ({"class_name": "__lambda__", "config": {"code": "print(1)"}}, "__lambda__"),
        ({"class_name": "__numpy__", "config": {"value": [1.0]}}, "a constant array"),
        ({"class_name": "__tensor__", "config": {"value": [1.0]}}, "a constant tensor"),
    ],
)
def test_an_argument_that_is_not_a_plain_constant_is_refused(
    argument: dict[str, Any], what: str
) -> None:
    graph, ids = mean_graph()
    graph.set_params(ids["mean"], {"args": [{"__input__": 0}, argument]})
    error = ShapeInference().infer(graph)[ids["mean"]].error or ""
    assert error == (
        f"Operation 'mean' takes {what} as an argument, which an Operation node cannot hold"
    )


def test_slices_and_ellipsis_are_the_only_objects_made_from_constants() -> None:
    params = {
        "args": [
            {"__input__": 0},
            [
                {"class_name": "__ellipsis__", "config": {}},
                {"class_name": "__slice__", "config": {"stop": 2}},
            ],
        ],
        "kwargs": {},
    }
    args, kwargs = operations.call_arguments(params, ["T"], "Operation 'x'")
    assert args == ["T", [Ellipsis, slice(None, 2, None)]] and kwargs == {}
    text = operations.call_text(params, ["t"], repr)
    assert text == "t, [..., slice(None, 2, None)]"
