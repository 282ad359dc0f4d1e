"""Teacher's warnings and one-click fixes: each fix is one undo step that really repairs."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from backend.analysis.advice import Finding, advise
from backend.analysis.summary import Analysis
from backend.document.graph import LayerGraph
from backend.document.layer_table import layer_info
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig
from backend.editing.commands import UndoStack
from backend.keras_bridge.catalog import palette_types
from backend.keras_bridge.compiler import compile_graph, validate
from backend.keras_bridge.shapes import ShapeInference
from backend.templates.examples import digits_cnn

ChainBuilder = Callable[..., list[str]]


def findings(project: Project) -> list[Finding]:
    shapes = ShapeInference().infer(project.graph)
    summary = Analysis().summarize(project.graph, shapes)
    return advise(project, shapes, validate(project.graph, shapes), summary)


def of_kind(project: Project, kind: str) -> list[Finding]:
    return [f for f in findings(project) if f.kind == kind]


def project_of(
    chain: ChainBuilder,
    *specs: tuple[str, dict[str, Any]],
    dataset: str = "digits",
    loss: str = "auto",
) -> tuple[Project, list[str]]:
    graph = LayerGraph()
    ids = chain(graph, *specs)
    return Project(graph, DatasetChoice(dataset), TrainingConfig(loss=loss)), ids


def apply(project: Project, finding: Finding, label_part: str) -> UndoStack:
    """Click the fix whose label contains `label_part`; check it is one undoable step."""
    fix = next(f for f in finding.fixes if label_part in f.label)
    undo = UndoStack(project.graph)
    before = project.graph.to_dict()
    undo.push(fix.command())
    after = project.graph.to_dict()
    assert len(undo.done) == 1 and after != before
    undo.undo()
    assert project.graph.to_dict() == before
    undo.redo()
    assert project.graph.to_dict() == after
    return undo


def assert_trains_shape(project: Project) -> None:
    """No errors left, and the graph compiles into a model."""
    errors = [f for f in findings(project) if f.severity == "error"]
    assert not errors, errors
    compile_graph(project.graph)


def test_the_digits_example_gets_no_advice() -> None:
    assert findings(digits_cnn()) == []


def test_a_dense_on_an_image_is_flattened_in_one_click(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("Conv2D", {"filters": 4, "kernel_size": [3, 3]}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    (warning,) = of_kind(project, "dense_on_image")
    assert warning.node_id == ids[2] and "(None, 6, 6, 4)" in warning.message
    assert "Flatten" in warning.advice
    assert [f.label for f in warning.fixes] == [
        "Insert Flatten before 'dense'",
        "Insert GlobalAveragePooling2D before 'dense'",
    ]
    apply(project, warning, "Flatten")
    assert of_kind(project, "dense_on_image") == []
    (flatten,) = [n for n in project.graph.nodes.values() if n.layer_type == "Flatten"]
    assert [e.src for e in project.graph.in_edges(ids[2])] == [flatten.id]
    assert_trains_shape(project)


def test_only_the_first_dense_on_an_image_is_flagged(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("Dense", {"units": 16}),
        ("Dropout", {"rate": 0.1}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    assert [f.node_id for f in of_kind(project, "dense_on_image")] == [ids[1]]


def test_softmax_with_binary_cross_entropy_becomes_sigmoid(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [2]}),
        ("Dense", {"units": 1, "activation": "softmax"}),
        dataset="moons",
        loss="binary_crossentropy",
    )
    (warning,) = of_kind(project, "activation_vs_loss")
    assert warning.node_id == ids[1] and "always outputs 1.0" in warning.message
    apply(project, warning, "sigmoid")
    assert project.graph.nodes[ids[1]].params["activation"] == "sigmoid"
    assert of_kind(project, "activation_vs_loss") == []


def test_no_activation_with_sparse_cross_entropy_from_auto_loss(chain: ChainBuilder) -> None:
    project, _ids = project_of(
        chain, ("Input", {"shape": [8, 8, 1]}), ("Flatten", {}), ("Dense", {"units": 10})
    )
    (warning,) = of_kind(project, "activation_vs_loss")
    assert "from_logits" in warning.message and "softmax" in warning.advice
    apply(project, warning, "softmax")
    assert of_kind(project, "activation_vs_loss") == []


def test_a_squashed_regression_output_is_reported(chain: ChainBuilder) -> None:
    project, _ids = project_of(
        chain,
        ("Input", {"shape": [10]}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
        dataset="diabetes",
    )
    (warning,) = of_kind(project, "activation_vs_loss")
    apply(project, warning, "linear")
    assert of_kind(project, "activation_vs_loss") == []


def test_a_huge_dense_after_flatten_suggests_global_pooling(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("Conv2D", {"filters": 512, "kernel_size": [3, 3], "padding": "same"}),
        ("Flatten", {}),
        ("Dense", {"units": 32, "activation": "relu"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    (warning,) = of_kind(project, "huge_dense")
    assert warning.node_id == ids[3]
    assert "1.0 M parameters" in warning.message and "32.8 K features" in warning.message
    apply(project, warning, "GlobalAveragePooling2D")
    pooled = project.graph.nodes[ids[2]]  # same id, position and edges, new type and name
    assert pooled.layer_type == "GlobalAveragePooling2D"
    assert pooled.name == "global_average_pooling2d"
    assert [e.src for e in project.graph.in_edges(ids[3])] == [ids[2]]
    assert of_kind(project, "huge_dense") == []


def test_batch_normalization_after_dropout_is_swapped(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [4]}),
        ("Dense", {"units": 8}),
        ("Dropout", {"rate": 0.3}),
        ("BatchNormalization", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
        dataset="iris",
    )
    (warning,) = of_kind(project, "bn_after_dropout")
    assert warning.node_id == ids[3]
    apply(project, warning, "Move 'dropout' after 'batch_normalization'")
    graph = project.graph
    assert [e.src for e in graph.in_edges(ids[3])] == [ids[1]]
    assert [e.src for e in graph.in_edges(ids[2])] == [ids[3]]
    assert [e.src for e in graph.in_edges(ids[4])] == [ids[2]]
    assert of_kind(project, "bn_after_dropout") == []


def test_unused_branches_come_from_the_compiler_as_warnings(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain, ("Input", {"shape": [4]}), ("Dense", {"units": 3, "activation": "softmax"})
    )
    project.dataset = DatasetChoice("iris")
    project.graph.set_outputs([ids[1]])
    dead = project.graph.add_node("Dense", {"units": 2})
    project.graph.connect(ids[0], dead.id)
    (warning,) = of_kind(project, "unused")
    assert warning.severity == "warning" and warning.node_id == dead.id


@pytest.mark.parametrize(("units", "severity"), [(5, "error"), (12, "warning")])
def test_an_output_size_other_than_the_class_count_is_fixed(
    chain: ChainBuilder, units: int, severity: str
) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("Flatten", {}),
        ("Dense", {"units": units}),
        ("Activation", {"activation": "softmax"}),
    )
    (finding,) = of_kind(project, "output_size")
    assert finding.severity == severity and "has 10 classes" in finding.message
    assert finding.node_id == ids[3]
    apply(project, finding, "Set units of 'dense' to 10")
    assert project.graph.nodes[ids[2]].params["units"] == 10
    assert_trains_shape(project)


def test_one_sigmoid_unit_fits_a_two_class_dataset(chain: ChainBuilder) -> None:
    project, _ = project_of(
        chain,
        ("Input", {"shape": [30]}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
        dataset="breast_cancer",
    )
    assert findings(project) == []


def test_the_input_shape_is_set_from_the_data(chain: ChainBuilder) -> None:
    project, _ids = project_of(
        chain,
        ("Input", {"shape": [28, 28, 1]}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    (finding,) = of_kind(project, "input_shape")
    assert finding.severity == "error" and "gives (8, 8, 1)" in finding.message
    apply(project, finding, "Set shape of 'input' to (8, 8, 1)")
    assert findings(project) == []


def test_an_input_without_a_shape_offers_the_data_shape(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain, ("Input", {"shape": []}), ("Dense", {"units": 3, "activation": "softmax"})
    )
    project.dataset = DatasetChoice("wine")
    (error,) = [f for f in findings(project) if f.node_id == ids[0]]
    assert error.severity == "error" and error.kind == "error"
    apply(project, error, "Set shape of 'input' to (13,)")
    assert findings(project) == []


def test_a_conv2d_fed_a_vector_gets_a_reshape_to_an_image(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [64]}),
        ("Conv2D", {"filters": 4, "kernel_size": [3, 3]}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    project.graph.set_params(ids[0], {"shape": [64]})
    (error,) = [f for f in findings(project) if f.node_id == ids[1]]
    assert [f.label for f in error.fixes] == ["Insert Reshape to (8, 8, 1) before 'conv2d'"]
    apply(project, error, "Reshape")
    shapes = ShapeInference().infer(project.graph)
    assert shapes[ids[1]].shape == (None, 6, 6, 4)


def test_an_lstm_fed_an_image_gets_a_sequence_of_pixels(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("LSTM", {"units": 8}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    (error,) = [f for f in findings(project) if f.node_id == ids[1]]
    apply(project, error, "(64, 1)")
    assert_trains_shape(project)


def test_a_vector_layer_fed_an_image_offers_flatten_or_pooling(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain,
        ("Input", {"shape": [8, 8, 1]}),
        ("RepeatVector", {"n": 3}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    (error,) = [f for f in findings(project) if f.node_id == ids[1]]
    assert [f.label for f in error.fixes] == [
        "Insert Flatten before 'repeat_vector'",
        "Insert GlobalAveragePooling2D before 'repeat_vector'",
    ]
    apply(project, error, "GlobalAveragePooling2D")
    assert_trains_shape(project)


def residual_with_mismatched_channels() -> tuple[Project, dict[str, str]]:
    graph = LayerGraph()
    ids = {
        "input": graph.add_node("Input", {"shape": [8, 8, 1]}).id,
        "wide": graph.add_node(
            "Conv2D", {"filters": 6, "kernel_size": [3, 3], "padding": "same"}
        ).id,
        "narrow": graph.add_node("Conv2D", {"filters": 4, "kernel_size": [1, 1]}).id,
        "add": graph.add_node("Add").id,
        "pool": graph.add_node("GlobalAveragePooling2D").id,
        "out": graph.add_node("Dense", {"units": 10, "activation": "softmax"}).id,
    }
    graph.connect(ids["input"], ids["wide"])
    graph.connect(ids["input"], ids["narrow"])
    graph.connect(ids["wide"], ids["add"])
    graph.connect(ids["narrow"], ids["add"])
    graph.connect(ids["add"], ids["pool"])
    graph.connect(ids["pool"], ids["out"])
    return Project(graph, DatasetChoice("digits")), ids


def test_an_add_of_different_channels_becomes_a_concatenate() -> None:
    project, ids = residual_with_mismatched_channels()
    (error,) = [f for f in findings(project) if f.node_id == ids["add"]]
    assert [f.label for f in error.fixes] == [
        "Turn 'add' into Concatenate",
        "Insert 1x1 Conv2D (6 channels) on the odd input",
    ]
    apply(project, error, "Concatenate")
    node = project.graph.nodes[ids["add"]]
    assert node.layer_type == "Concatenate" and node.name == "concatenate"
    assert [e.src for e in project.graph.in_edges(ids["add"])] == [ids["wide"], ids["narrow"]]
    assert ShapeInference().infer(project.graph)[ids["add"]].shape == (None, 8, 8, 10)
    assert_trains_shape(project)


def test_an_add_of_different_channels_gets_a_1x1_projection() -> None:
    project, ids = residual_with_mismatched_channels()
    (error,) = [f for f in findings(project) if f.node_id == ids["add"]]
    apply(project, error, "1x1 Conv2D")
    (projection,) = [e.src for e in project.graph.in_edges(ids["add"]) if e.dst_port == 1]
    node = project.graph.nodes[projection]
    assert node.layer_type == "Conv2D" and node.params["filters"] == 6
    assert_trains_shape(project)


def test_categorical_cross_entropy_on_class_numbers_is_an_error(chain: ChainBuilder) -> None:
    project, _ids = project_of(
        chain,
        ("Input", {"shape": [4]}),
        ("Dense", {"units": 3, "activation": "softmax"}),
        dataset="iris",
        loss="categorical_crossentropy",
    )
    (error,) = of_kind(project, "one_hot_loss")
    assert error.severity == "error" and "sparse_categorical_crossentropy" in error.advice


def test_errors_come_before_warnings(chain: ChainBuilder) -> None:
    project, _ = project_of(
        chain,
        ("Input", {"shape": [28, 28, 1]}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    severities = [f.severity for f in findings(project)]
    assert "error" in severities and "warning" in severities
    assert severities == sorted(severities)


def test_from_logits_wants_a_linear_output(chain: ChainBuilder) -> None:
    project, ids = project_of(
        chain, ("Input", {"shape": [4]}), ("Dense", {"units": 3}), dataset="iris"
    )
    project.training.from_logits = True
    assert findings(project) == []
    project.graph.set_params(ids[1], {"activation": "softmax"})
    (warning,) = of_kind(project, "activation_vs_loss")
    assert "from_logits set" in warning.message and "a second time" in warning.message
    apply(project, warning, "Set activation of 'dense' to linear")
    assert findings(project) == []


def test_an_output_head_loss_overrides_the_project_loss(chain: ChainBuilder) -> None:
    project, _ids = project_of(
        chain,
        ("Input", {"shape": [2]}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
        dataset="moons",
    )
    assert findings(project) == []
    project.training.heads = {"dense": {"loss": "mean_squared_error"}}
    project.training.loss = "sparse_categorical_crossentropy"
    assert findings(project) == []  # the head's loss applies, not the project's
    project.training.heads = {}
    assert of_kind(project, "activation_vs_loss")


def test_one_unit_with_sparse_cross_entropy_is_too_few_for_two_classes(
    chain: ChainBuilder,
) -> None:
    project, _ids = project_of(
        chain,
        ("Input", {"shape": [2]}),
        ("Dense", {"units": 1, "activation": "softmax"}),
        dataset="moons",
        loss="sparse_categorical_crossentropy",
    )
    (finding,) = of_kind(project, "output_size")
    assert finding.severity == "error"
    apply(project, finding, "Set units of 'dense' to 2")
    assert findings(project) == []


def test_every_fix_on_random_two_layer_graphs_applies_and_undoes_cleanly(keras: Any) -> None:
    """Seeded random graphs Input -> A -> B of palette layers: no check crashes, and every
    fix offered is one command that applies and undoes back to the same graph."""
    rng = random.Random(7)
    types = [t for t in palette_types() if layer_info(t).max_inputs != 0]
    shapes = ([16], [8, 8, 1], [10, 4], [64], [4, 8, 8, 2])
    analysis, applied = Analysis(), 0
    for _ in range(60):
        graph = LayerGraph()
        x = graph.add_node("Input", {"shape": rng.choice(shapes)}).id
        first, second = rng.choice(types), rng.choice(types)
        a = graph.add_node(first, dict(layer_info(first).required)).id
        b = graph.add_node(second, dict(layer_info(second).required)).id
        graph.connect(x, a, 0)
        graph.connect(a, b, 0)
        if layer_info(second).min_inputs > 1:
            graph.connect(x, b, 1)
        dataset = rng.choice(("digits", "iris", "diabetes", "moons"))
        project = Project(graph, DatasetChoice(dataset))
        shapes_now = ShapeInference().infer(graph)
        summary = analysis.summarize(graph, shapes_now)
        for finding in advise(project, shapes_now, validate(graph, shapes_now), summary):
            for fix in finding.fixes:
                undo = UndoStack(graph)
                before = graph.to_dict()
                undo.push(fix.command())
                applied += 1
                undo.undo()
                assert graph.to_dict() == before, (first, second, fix.label)
    assert applied > 30
