"""Python export: the script rebuilds, in a fresh interpreter, the model the app compiles."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backend.cli.main import main as cli_main
from backend.document.graph import LayerGraph
from backend.document.project import Project, save_project
from backend.exchange.codegen import generate_script, write_script
from backend.exchange.importer import import_model
from backend.keras_bridge.weights import compile_project
from backend.templates.examples import digits_cnn
from tests import keras_models
from tests.script_runner import build_in_subprocess, script_env


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    """The varied models as imported projects, plus one made on the canvas with blocks."""
    folder = tmp_path_factory.mktemp("codegen")
    result: dict[str, Project] = {}
    for name, build in keras_models.VARIED.items():
        build().save(folder / f"{name}.keras")
        result[name] = import_model(folder / f"{name}.keras", folder / f"{name}.dcproj.json")
    result["canvas_blocks"] = canvas_with_blocks()
    return result


def canvas_with_blocks() -> Project:
    graph = LayerGraph()
    image = graph.add_node("Input", {"shape": [8, 8, 3]}, name="image")
    res = graph.add_node("ResidualBlock", name="res")
    se = graph.add_node("SqueezeExcitationBlock", name="se")
    pool = graph.add_node("GlobalAveragePooling2D", name="pool")
    wrapped = graph.add_node("Reshape", {"target_shape": [4, 8]}, name="steps")
    bi = graph.add_node(
        "Bidirectional",
        {"layer": {"type": "GRU", "params": {"units": 4}}, "merge_mode": "sum"},
        name="bi",
    )
    head = graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="head")
    for a, b in [(image, res), (res, se), (se, pool), (pool, wrapped), (wrapped, bi), (bi, head)]:
        graph.connect(a.id, b.id)
    return Project(graph, name="Canvas blocks")


def test_every_script_rebuilds_the_compiled_model(
    projects: dict[str, Project], tmp_path: Path
) -> None:
    scripts = {name: write_script(p, tmp_path / f"{name}.py") for name, p in projects.items()}

    built = build_in_subprocess(list(scripts.values()), tmp_path)

    for name, project in projects.items():
        model = compile_project(project)
        got = built[str(scripts[name])]
        assert got["architecture"] == keras_models.architecture(model), name
        assert got["params"] == model.count_params(), name


def test_the_script_is_clean_idiomatic_keras(projects: dict[str, Project]) -> None:
    text = generate_script(projects["siamese_nested"])
    tree = ast.parse(text)
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == [
        "build_encoder",
        "build_head",
        "build_model",
        "compile_model",
        "load_data",
        "load_weights",  # an imported model's weights: training continues from them
        "training_batches",  # a fresh order every epoch, as the app shuffles
        "fit_model",
    ]
    assert text.startswith('"""siamese: a Keras model written by DeepCanvas.')
    assert "import keras\nimport tensorflow as tf\nfrom keras import layers\n" in text
    # the shared Dense is one variable applied twice; the nested model too
    assert 'shared_layer = layers.Dense(6, name="shared")' in text
    assert "shared = shared_layer(left)" in text and "shared_call2 = shared_layer(right)" in text
    assert "encoder_layer = build_encoder()" in text
    assert "head.trainable = False" in text
    # only non-default arguments: Dense's use_bias, initializers... never appear
    assert "use_bias" not in text and "kernel_initializer" not in text
    assert all(len(line) <= 100 for line in text.splitlines())

    lstm = generate_script(projects["lstm_text"])
    assert 'layers.Embedding(200, 16, mask_zero=True, name="embed")(tokens)' in lstm
    assert "layers.Bidirectional(" in lstm and "layers.LSTM(8, return_sequences=True" in lstm


def test_a_block_is_written_as_its_named_layers(projects: dict[str, Project]) -> None:
    text = generate_script(projects["canvas_blocks"])
    assert "# block 'res' (ResidualBlock)" in text
    assert 'name="res.conv_a"' in text and 'name="se.squeeze"' in text
    assert 'layers.Bidirectional(layers.GRU(4, name="bi"), merge_mode="sum", name="bi")' in text


def test_compile_uses_the_project_training_settings() -> None:
    project = digits_cnn()
    project.training.optimizer = "sgd"
    project.training.learning_rate = 0.05
    project.training.momentum = 0.9
    text = generate_script(project)
    assert "optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)" in text
    assert 'loss="sparse_categorical_crossentropy"' in text
    assert 'metrics=["accuracy"]' in text
    assert 'load_dataset("digits", {}' in text


def test_running_the_exported_script_trains_on_the_project_data(tmp_path: Path) -> None:
    project = digits_cnn()
    project.training.epochs = 1
    project_file = save_project(project, tmp_path / "digits.dcproj.json")
    script = tmp_path / "digits.py"

    assert cli_main(["export", str(project_file), "--format", "python", "-o", str(script)]) == 0

    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Total params" in run.stdout  # model.summary()
    assert "val_accuracy" in run.stdout  # one epoch of fit with validation


def test_a_shared_inline_block_is_refused_by_name(projects: dict[str, Any]) -> None:
    project = canvas_with_blocks()
    graph = project.graph
    res = graph.node_by_name("res")
    again = graph.add_node("ResidualBlock", name="res_again")
    again.params = {"shares": res.id}
    graph.connect(graph.node_by_name("image").id, again.id)
    add = graph.add_node("Add", name="both")
    graph.connect(graph.node_by_name("se").id, add.id, 0)
    graph.connect(again.id, add.id, 1)
    with pytest.raises(ValueError, match="'res_again' applies block 'res' again"):
        generate_script(project)


def test_a_call_returning_several_tensors_is_unpacked_by_name(
    projects: dict[str, Project],
) -> None:
    text = generate_script(projects["seq2seq_states"])
    assert (
        'encoder, encoder_h, encoder_c = layers.LSTM(8, return_state=True, name="encoder")(source)'
        in text
    )
    assert "(target, initial_state=[encoder_h, encoder_c])" in text
    assert "    (\n        bi_encoder,\n        bi_encoder_forward_h," in text
    assert (
        'layers.Concatenate(name="state_h")([bi_encoder_forward_h, bi_encoder_backward_h])' in text
    )
    assert 'summary, summary_state = layers.GRU(4, return_state=True, name="summary")' in text
    assert "outputs=[steps, summary_state]" in text
    build = text[text.index("def build_model") :].split("\n\n\n")[0]
    assert all(len(line) <= 100 for line in build.splitlines())

    scores = generate_script(projects["attention_scores"])
    assert "mha, mha_scores = layers.MultiHeadAttention(" in scores
    assert "outputs=[logits, mha_scores]" in scores

    ops = generate_script(projects["keras_ops"])  # Keras numbers op names per process
    assert re.search(
        r'= keras.src.ops.numpy.Mean\(axis=1, keepdims=False, name="mean\w*"\)\(grid\)', ops
    )
    assert re.search(r'= keras.src.ops.numpy.Multiply\(name="multiply\w*"\)\(add\w*, 2\)', ops)
    assert re.search(r"split\w*, split\w*_output_1 = keras.src.ops.numpy.Split\(", ops)
    assert "(a, [slice(None, None, None), slice(None, 2, None)])" in ops

    nested = generate_script(projects["nested_two_outputs"])
    assert "return keras.Model(inputs=inner_in, outputs=[wide, narrow]" in nested
    assert "trunk_wide, trunk_narrow = trunk_layer(features)" in nested
    assert "outputs=[score, trunk_narrow]" in nested


def test_an_inline_block_with_two_outputs_is_written_and_rebuilds_the_model() -> None:
    from backend.editing.blocks import group
    from tests.keras_models import architecture

    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [6, 3]}, name="seq").id
    enc = graph.add_node("LSTM", {"units": 4, "return_state": True}, name="enc").id
    head = graph.add_node("Dense", {"units": 2}, name="head").id
    graph.connect(seq, enc)
    graph.connect(enc, head, src_port=2)
    graph.set_outputs([head, f"{enc}:1"])
    group(graph, [enc], "encode").do(graph)  # the block's outputs: h (for the model), c
    project = Project(graph, name="Inline states")

    text = generate_script(project)
    namespace: dict[str, Any] = {"__name__": "script"}
    exec(compile(text, "inline_states.py", "exec"), namespace)
    model = namespace["build_model"]()

    assert "# block 'encode' (Block)" in text
    assert "encode_enc, encode_enc_h, encode_enc_c = layers.LSTM(" in text
    assert 'head = layers.Dense(2, name="head")(encode_enc_c)' in text
    assert "outputs=[head, encode_enc_h]" in text
    assert architecture(model) == architecture(compile_project(project))
