"""The template gallery: documented networks for every idea of an introductory course,
each ready to train at once on built-in data (see `backend.templates.examples.EXAMPLES`)."""

from __future__ import annotations

import itertools
from typing import Any

from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig

Spec = tuple[str, str, dict[str, Any], tuple[float, float]]


def _graph(nodes: list[Spec], edges: list[tuple[str, str]]) -> LayerGraph:
    """Nodes as (key, type, params, (column, row)); edges by key, wired in the order given."""
    graph = LayerGraph()
    ids = {}
    for key, layer_type, params, (col, row) in nodes:
        ids[key] = graph.add_node(layer_type, params, (col * 250.0, row * 150.0), name=key).id
    for src, dst in edges:
        graph.connect(ids[src], ids[dst])
    return graph


def _chain_edges(keys: list[str]) -> list[tuple[str, str]]:
    return list(itertools.pairwise(keys))


def _project(
    name: str, description: str, graph: LayerGraph, data: DatasetChoice, **training: Any
) -> Project:
    project = Project(graph, data, TrainingConfig(**training), name=name)
    project.description = description
    project.dirty = False
    return project


def perceptron() -> Project:
    nodes: list[Spec] = [
        ("features", "Input", {"shape": [30]}, (0, 0)),
        ("neuron", "Dense", {"units": 1, "activation": "sigmoid"}, (1, 0)),
    ]
    return _project(
        "Perceptron (logistic regression)",
        "One neuron with a sigmoid: logistic regression on 30 tumour measurements.",
        _graph(nodes, [("features", "neuron")]),
        DatasetChoice("breast_cancer"),
        learning_rate=0.05,
        epochs=20,
        optimizer="sgd",
    )


def wine_mlp() -> Project:
    keys = ["features", "hidden1", "hidden2", "classes"]
    nodes: list[Spec] = [
        ("features", "Input", {"shape": [13]}, (0, 0)),
        ("hidden1", "Dense", {"units": 32, "activation": "relu"}, (1, 0)),
        ("hidden2", "Dense", {"units": 16, "activation": "relu"}, (2, 0)),
        ("classes", "Dense", {"units": 3, "activation": "softmax"}, (3, 0)),
    ]
    return _project(
        "MLP (wine)",
        "A multilayer perceptron: two hidden ReLU layers, softmax over three cultivars.",
        _graph(nodes, _chain_edges(keys)),
        DatasetChoice("wine"),
        learning_rate=0.01,
        epochs=30,
        batch_size=16,
    )


def resnet_cnn() -> Project:
    conv = {"filters": 16, "kernel_size": [3, 3], "padding": "same"}
    nodes: list[Spec] = [
        ("image", "Input", {"shape": [16, 16, 1]}, (0, 0)),
        ("stem", "Conv2D", {**conv, "activation": "relu"}, (1, 0)),
        ("conv_a", "Conv2D", {**conv, "activation": "relu"}, (2, 1)),
        ("conv_b", "Conv2D", conv, (3, 1)),
        ("skip_add", "Add", {}, (4, 0)),
        ("relu", "ReLU", {}, (5, 0)),
        ("pool", "MaxPooling2D", {"pool_size": [2, 2]}, (6, 0)),
        ("gap", "GlobalAveragePooling2D", {}, (7, 0)),
        ("classes", "Dense", {"units": 4, "activation": "softmax"}, (8, 0)),
    ]
    edges = [
        ("image", "stem"),
        ("stem", "conv_a"),
        ("conv_a", "conv_b"),
        ("stem", "skip_add"),
        ("conv_b", "skip_add"),
        ("skip_add", "relu"),
        ("relu", "pool"),
        ("pool", "gap"),
        ("gap", "classes"),
    ]
    return _project(
        "ResNet-style CNN",
        "A residual block: two convolutions whose output is added to their input (a skip "
        "connection), on synthetic 16x16 shapes.",
        _graph(nodes, edges),
        DatasetChoice("shapes"),
        learning_rate=3e-3,
        epochs=10,
    )


def _sequence_classifier(layer: str) -> Project:
    keys = ["sequence", layer.lower(), "classes"]
    nodes: list[Spec] = [
        ("sequence", "Input", {"shape": [20, 2]}, (0, 0)),
        (layer.lower(), layer, {"units": 32}, (1, 0)),
        ("classes", "Dense", {"units": 2, "activation": "softmax"}, (2, 0)),
    ]
    return _project(
        f"{layer} sequence classifier",
        f"An {layer} reads 20 steps of a random walk and tells whether it trends up or down.",
        _graph(nodes, _chain_edges(keys)),
        DatasetChoice("trend_sequences"),
        learning_rate=5e-3,
        epochs=10,
    )


def lstm_sequences() -> Project:
    return _sequence_classifier("LSTM")


def gru_sequences() -> Project:
    return _sequence_classifier("GRU")


def conv1d_forecast() -> Project:
    keys = ["window", "conv1d", "pool", "forecast"]
    nodes: list[Spec] = [
        ("window", "Input", {"shape": [24, 1]}, (0, 0)),
        ("conv1d", "Conv1D", {"filters": 16, "kernel_size": 3, "activation": "relu"}, (1, 0)),
        ("pool", "GlobalAveragePooling1D", {}, (2, 0)),
        ("forecast", "Dense", {"units": 1}, (3, 0)),
    ]
    return _project(
        "1-D CNN forecaster",
        "A 1-D convolution over the last 24 values of a noisy sine predicts the next one.",
        _graph(nodes, _chain_edges(keys)),
        DatasetChoice("sine"),
        learning_rate=5e-3,
        epochs=15,
        metrics=[],
    )


def transformer_classifier() -> Project:
    nodes: list[Spec] = [
        ("sequence", "Input", {"shape": [20, 2]}, (0, 0)),
        ("embed", "Dense", {"units": 16}, (1, 0)),
        ("attention", "MultiHeadAttention", {"num_heads": 2, "key_dim": 8}, (2, 1)),
        ("add_1", "Add", {}, (3, 0)),
        ("norm_1", "LayerNormalization", {}, (4, 0)),
        ("ffn_1", "Dense", {"units": 32, "activation": "relu"}, (5, 1)),
        ("ffn_2", "Dense", {"units": 16}, (6, 1)),
        ("add_2", "Add", {}, (7, 0)),
        ("norm_2", "LayerNormalization", {}, (8, 0)),
        ("pool", "GlobalAveragePooling1D", {}, (9, 0)),
        ("classes", "Dense", {"units": 2, "activation": "softmax"}, (10, 0)),
    ]
    edges = [
        ("sequence", "embed"),
        ("embed", "attention"),
        ("embed", "attention"),
        ("embed", "add_1"),
        ("attention", "add_1"),
        ("add_1", "norm_1"),
        ("norm_1", "ffn_1"),
        ("ffn_1", "ffn_2"),
        ("norm_1", "add_2"),
        ("ffn_2", "add_2"),
        ("add_2", "norm_2"),
        ("norm_2", "pool"),
        ("pool", "classes"),
    ]
    return _project(
        "Transformer encoder classifier",
        "Self-attention, residual Add and LayerNormalization, then a feed-forward block: one "
        "Transformer encoder layer classifying sequences.",
        _graph(nodes, edges),
        DatasetChoice("trend_sequences"),
        learning_rate=2e-3,
        epochs=10,
    )


def autoencoder() -> Project:
    keys = ["image", "flatten", "encode", "code", "decode", "pixels", "reshape"]
    nodes: list[Spec] = [
        ("image", "Input", {"shape": [8, 8, 1]}, (0, 0)),
        ("flatten", "Flatten", {}, (1, 0)),
        ("encode", "Dense", {"units": 32, "activation": "relu"}, (2, 0)),
        ("code", "Dense", {"units": 8, "activation": "relu"}, (3, 0)),
        ("decode", "Dense", {"units": 32, "activation": "relu"}, (4, 0)),
        ("pixels", "Dense", {"units": 64, "activation": "sigmoid"}, (5, 0)),
        ("reshape", "Reshape", {"target_shape": [8, 8, 1]}, (6, 0)),
    ]
    return _project(
        "Autoencoder",
        "Squeezes 8x8 digits through an 8-number code and rebuilds them: the target is the "
        "input itself.",
        _graph(nodes, _chain_edges(keys)),
        DatasetChoice("digits", {"view": "autoencoder"}),
        learning_rate=3e-3,
        epochs=20,
        loss="mean_squared_error",
        metrics=[],
    )


def two_input_model() -> Project:
    nodes: list[Spec] = [
        ("first_half", "Input", {"shape": [15]}, (0, 0)),
        ("second_half", "Input", {"shape": [15]}, (0, 1)),
        ("branch_a", "Dense", {"units": 8, "activation": "relu"}, (1, 0)),
        ("branch_b", "Dense", {"units": 8, "activation": "relu"}, (1, 1)),
        ("join", "Concatenate", {}, (2, 0)),
        ("diagnosis", "Dense", {"units": 1, "activation": "sigmoid"}, (3, 0)),
    ]
    edges = [
        ("first_half", "branch_a"),
        ("second_half", "branch_b"),
        ("branch_a", "join"),
        ("branch_b", "join"),
        ("join", "diagnosis"),
    ]
    return _project(
        "Two-input model",
        "Two Inputs (each half of the tumour measurements), a branch each, joined by Concatenate.",
        _graph(nodes, edges),
        DatasetChoice("breast_cancer", {"view": "two_inputs"}),
        learning_rate=1e-2,
        epochs=20,
    )


TEMPLATES = {
    "perceptron": perceptron,
    "wine_mlp": wine_mlp,
    "resnet_cnn": resnet_cnn,
    "lstm_sequences": lstm_sequences,
    "gru_sequences": gru_sequences,
    "conv1d_forecast": conv1d_forecast,
    "transformer_classifier": transformer_classifier,
    "autoencoder": autoencoder,
    "two_input_model": two_input_model,
}
