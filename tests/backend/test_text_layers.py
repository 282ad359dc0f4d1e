"""Lookup and text layers: vocabularies typed as lists, string and integer inputs, real
lookups on raw strings, import, the script writer and the export formats that cannot hold them.

Every palette layer's add/infer/compile/save/reload round trip (these included, fed by string
or int64 Inputs) is `test_catalog.test_every_palette_layer_round_trips`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.document.graph import LayerGraph
from backend.document.project import Project
from backend.exchange.codegen import generate_script
from backend.exchange.export_formats import ExportError, export_model, missing_requirement
from backend.exchange.export_verify import model_inputs
from backend.exchange.importer import import_model
from backend.keras_bridge.catalog import layer_kwargs, layer_spec
from backend.keras_bridge.compiler import compile_graph
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_bridge.weights import compile_project
from backend.keras_env import import_keras
from tests import keras_models

WORDS = ["good", "bad", "film"]


def text_classifier() -> LayerGraph:
    """Raw text -> word ids -> embedding -> mean -> a score; and a tag looked up by name."""
    graph = LayerGraph()
    text = graph.add_node("Input", {"shape": [1], "dtype": "string"}, name="text")
    words = graph.add_node(
        "TextVectorization", {"vocabulary": WORDS, "output_sequence_length": 4}, name="words"
    )
    tag = graph.add_node("StringLookup", {"vocabulary": ["x, y", "z"]}, name="tag")
    embed = graph.add_node("Embedding", {"input_dim": 6, "output_dim": 3}, name="embed")
    mean = graph.add_node("GlobalAveragePooling1D", name="mean")
    join = graph.add_node("Concatenate", name="join")
    score = graph.add_node("Dense", {"units": 1, "activation": "sigmoid"}, name="score")
    for src, dst, port in [
        (text, words, 0),
        (text, tag, 0),
        (words, embed, 0),
        (embed, mean, 0),
        (mean, join, 0),
        (tag, join, 1),
        (join, score, 0),
    ]:
        graph.connect(src.id, dst.id, port)
    return graph


def strings(*rows: str) -> np.ndarray:
    return np.array([[r] for r in rows], dtype=object)


# ----------------------------------------------------------------- the inspector's editors
def test_a_vocabulary_is_typed_as_a_list_of_words() -> None:
    param = layer_spec("StringLookup").param("vocabulary")
    assert (param.kind, param.required) == ("str_list", True)
    assert param.parse_text("red, green,blue ") == ["red", "green", "blue"]
    assert param.parse_text('["a, b", " c"]') == ["a, b", " c"]  # JSON for commas, spaces
    assert param.format_text(["red", "green"]) == "red, green"
    assert param.format_text(["a, b", " c"]) == '["a, b", " c"]'
    for value in (["red", "green"], ["a, b", " c"], ["1", "2"]):
        assert param.parse_text(param.format_text(value)) == value
    with pytest.raises(ValueError, match="vocabulary is required"):
        param.parse_text("")
    with pytest.raises(ValueError, match="not a valid list of words"):
        param.parse_text("[1, 2]")


def test_an_integer_vocabulary_takes_whole_numbers() -> None:
    param = layer_spec("IntegerLookup").param("vocabulary")
    assert param.kind == "int_list"
    assert param.parse_text("10, 20, 30") == [10, 20, 30]
    assert param.parse_text("7") == [7]  # a one-word vocabulary is still a list
    assert param.parse_text(param.format_text([3, 1])) == [3, 1]
    with pytest.raises(ValueError, match="not a valid list of whole numbers"):
        param.parse_text("10, ten")


def test_text_layer_choices_and_counts_come_as_editors() -> None:
    text = layer_spec("TextVectorization")
    assert text.param("standardize").choices == (
        None,
        "lower_and_strip_punctuation",
        "lower",
        "strip_punctuation",
    )
    assert text.param("split").choices == (None, "whitespace", "character")
    assert text.param("output_mode").kind == "choice"
    assert text.param("max_tokens").kind == "optional_int"
    assert text.param("output_sequence_length").kind == "optional_int"
    assert layer_spec("HashedCrossing").param("output_mode").choices == ("int", "one_hot")


def test_a_lookup_without_vocabulary_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="StringLookup 'tags' needs vocabulary"):
        layer_kwargs("StringLookup", {}, "tags")


# ----------------------------------------------------------------- shapes and the model
def test_shapes_dtypes_and_lookups_on_raw_strings() -> None:
    graph = text_classifier()
    shapes = ShapeInference().infer(graph)
    by_name = {graph.nodes[nid].name: result for nid, result in shapes.items()}
    assert (by_name["text"].shape, by_name["text"].dtype) == ((None, 1), "string")
    assert (by_name["words"].shape, by_name["words"].dtype) == ((None, 4), "int64")
    assert (by_name["tag"].shape, by_name["tag"].dtype) == ((None, 1), "int64")
    assert by_name["score"].shape == (None, 1)

    model = compile_graph(graph, shapes)
    ids = import_keras().Model(model.input, model.get_layer("words").output)
    # 0 pads, 1 is the unknown word, then the vocabulary in order
    np.testing.assert_array_equal(
        np.asarray(ids(strings("Good film!", "bad unknown good"))), [[2, 4, 0, 0], [3, 1, 2, 0]]
    )
    tags = import_keras().Model(model.input, model.get_layer("tag").output)
    np.testing.assert_array_equal(np.asarray(tags(strings("z", "x, y", "w"))), [[2], [1], [0]])


def test_integer_ids_and_a_hashed_cross_of_two_features() -> None:
    graph = LayerGraph()
    code = graph.add_node("Input", {"shape": [1], "dtype": "int64"}, name="code")
    city = graph.add_node("Input", {"shape": [1], "dtype": "string"}, name="city")
    lookup = graph.add_node("IntegerLookup", {"vocabulary": [10, 20]}, name="lookup")
    cross = graph.add_node("HashedCrossing", {"num_bins": 5}, name="cross")
    join = graph.add_node("Concatenate", name="join")
    graph.connect(code.id, lookup.id)
    graph.connect(city.id, cross.id, 0)
    graph.connect(code.id, cross.id, 1)
    graph.connect(lookup.id, join.id, 0)
    graph.connect(cross.id, join.id, 1)
    assert ShapeInference().infer(graph)[join.id].shape == (None, 2)

    model = compile_graph(graph)
    codes, cities = np.array([[20], [10], [99], [20]]), strings("a", "b", "a", "a")
    out = np.asarray(model([codes, cities]))
    np.testing.assert_array_equal(out[:, 0], [2, 1, 0, 2])  # 0: a code not in the vocabulary
    crossed = import_keras().layers.HashedCrossing(num_bins=5)([cities, codes])
    np.testing.assert_array_equal(out[:, 1:], np.asarray(crossed))
    assert out[0, 1] == out[3, 1]  # the same pair, the same bin


def test_hashed_crossing_takes_exactly_two_features() -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [1], "dtype": "string"})
    cross = graph.add_node("HashedCrossing", {"num_bins": 4})
    graph.connect(a.id, cross.id, 0)
    result = ShapeInference().infer(graph)[cross.id]
    assert result.error is not None and "needs inputs (a, b)" in result.error


# ----------------------------------------------------------------- files: import, script
def test_a_saved_text_model_imports_with_its_vocabularies(tmp_path: Path) -> None:
    model = compile_graph(text_classifier())
    model.save(tmp_path / "text.keras")
    project = import_model(tmp_path / "text.keras", tmp_path / "text.dcproj.json")
    words = project.graph.node_by_name("words")
    assert words.params["vocabulary"] == WORDS
    assert project.graph.node_by_name("tag").params["vocabulary"] == ["x, y", "z"]
    again = compile_project(project)  # with the weights imported beside it
    sample = strings("good film", "x, y")
    np.testing.assert_allclose(np.asarray(again(sample)), np.asarray(model(sample)), rtol=1e-6)


def test_adapted_lookups_import_with_the_vocabulary_they_learnt(tmp_path: Path) -> None:
    """A TextVectorization and an IntegerLookup adapted to data (the usual Keras text
    tutorial): their vocabularies are read from the loaded layers into the nodes, and the
    project's model gives the same ids and scores for the same text."""
    keras = import_keras()
    words = keras.layers.TextVectorization(output_sequence_length=5, name="words")
    words.adapt(np.array(["the cat sat", "the dog ran fast", "a cat ran", "the end"]))
    ids = keras.layers.IntegerLookup(name="ids")
    ids.adapt(np.array([7, 3, 7, 9, 3, 7]))
    text = keras.Input(shape=(1,), dtype="string", name="text")
    code = keras.Input(shape=(1,), dtype="int64", name="code")
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(words(text)))
    joined = keras.layers.Concatenate()([pooled, keras.ops.cast(ids(code), "float32")])
    model = keras.Model([text, code], keras.layers.Dense(1, name="score")(joined))
    model.save(tmp_path / "adapted.keras")

    project = import_model(tmp_path / "adapted.keras", tmp_path / "adapted.dcproj.json")
    node = project.graph.node_by_name("words")
    assert node.params["vocabulary"] == ["the", "ran", "cat", "sat", "fast", "end", "dog", "a"]
    assert project.graph.node_by_name("ids").params["vocabulary"] == [7, 3, 9]
    again = compile_project(project)
    sample = [strings("the dog sat", "a cat", "zebra"), np.array([[7], [9], [5]])]
    assert (
        np.asarray(words(sample[0])).tolist()
        == np.asarray(again.get_layer("words")(sample[0])).tolist()
    )
    np.testing.assert_allclose(np.asarray(again(sample)), np.asarray(model(sample)), rtol=1e-6)


def test_the_script_rebuilds_the_text_model() -> None:
    graph = text_classifier()
    text = generate_script(Project(graph, name="text"))
    assert 'text = keras.Input(shape=(1,), dtype="string", name="text")' in text
    assert 'layers.StringLookup(vocabulary=["x, y", "z"], name="tag")(text)' in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "text.py", "exec"), namespace)  # not its __main__: no training
    rebuilt = namespace["build_model"]()
    model = compile_graph(graph, name="text")
    assert keras_models.architecture(rebuilt) == keras_models.architecture(model)


# ----------------------------------------------------------------- export formats
@pytest.fixture(scope="module")
def text_model() -> Any:
    return compile_graph(text_classifier())


@pytest.mark.parametrize(("fmt", "suffix"), [("keras", ".keras"), ("savedmodel", "")])
def test_keras_and_savedmodel_exports_run_on_strings(
    text_model: Any, fmt: str, suffix: str, tmp_path: Path
) -> None:
    report = export_model(text_model, tmp_path / f"text{suffix or '_model'}", fmt)
    assert report.matches and report.max_abs_diff < 1e-6
    assert report.sample_source == "random inputs"


def test_check_samples_for_a_text_input_are_strings_from_its_vocabularies(
    text_model: Any,
) -> None:
    (texts,), source = model_inputs(text_model, None, "")
    assert source == "random inputs" and texts.dtype == object and texts.shape == (8, 1)
    used = {word for text in texts.ravel() for word in text.split()}
    assert used <= {*WORDS, "unknown", "x,", "y", "z"} and used & set(WORDS)
    (again,), _ = model_inputs(text_model, np.zeros((8, 1)), "numbers")  # not text: ignored
    np.testing.assert_array_equal(again, texts)


def test_tflite_names_the_text_layer_it_cannot_convert(text_model: Any, tmp_path: Path) -> None:
    target = tmp_path / "text.tflite"
    with pytest.raises(ExportError, match="no TFLite kernel") as caught:
        export_model(text_model, target, "tflite")
    assert "StringSplitV2" in str(caught.value)
    assert "in TextVectorization 'words'" in str(caught.value)
    assert "use SavedModel or Keras" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_onnx_names_the_text_layer_it_cannot_convert(text_model: Any, tmp_path: Path) -> None:
    if missing_requirement("onnx"):
        pytest.skip("the ONNX converter is not installed")
    target = tmp_path / "text.onnx"
    with pytest.raises(ExportError, match="ONNX conversion failed: tf2onnx has no ONNX") as caught:
        export_model(text_model, target, "onnx")
    message = str(caught.value)
    assert "StringSplitV2" in message and "TextVectorization 'words'" in message
    assert "StringLookup 'tag'" in message  # its table lookup has no ONNX operator either
    assert list(tmp_path.iterdir()) == []
