"""The built-in composite blocks, as plain subgraph documents (no Keras, no graph code).

A block's subgraph has the same JSON form as `LayerGraph.to_dict()`: its Input nodes are the
block's inputs (in node order), its output is the block's output. `backend.document.layer_table`
offers
each block in the palette; `backend.editing.blocks` infers, compiles, groups and ungroups them.
"""

from __future__ import annotations

from typing import Any

Spec = tuple[str, str, dict[str, Any], tuple[float, float]]


def _graph(nodes: list[Spec], edges: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": name, "type": t, "name": name, "params": p, "position": [x, y]}
            for name, t, p, (x, y) in nodes
        ],
        "edges": [{"src": s, "dst": d, "dst_port": port} for s, d, port in edges],
        "outputs": [],
    }


def residual_block(filters: int = 32) -> dict[str, Any]:
    """Conv-BN-ReLU-Conv-BN plus a 1x1 projection shortcut, added, then ReLU (any input depth)."""
    conv = {"filters": filters, "kernel_size": [3, 3], "padding": "same"}
    return _graph(
        [
            ("x", "Input", {"shape": [8, 8, 3]}, (0, 0)),
            ("conv_a", "Conv2D", conv, (260, 0)),
            ("bn_a", "BatchNormalization", {}, (520, 0)),
            ("relu_a", "ReLU", {}, (780, 0)),
            ("conv_b", "Conv2D", conv, (1040, 0)),
            ("bn_b", "BatchNormalization", {}, (1300, 0)),
            ("shortcut", "Conv2D", {"filters": filters, "kernel_size": [1, 1]}, (520, 170)),
            ("add", "Add", {}, (1560, 80)),
            ("out", "ReLU", {}, (1820, 80)),
        ],
        [
            ("x", "conv_a", 0),
            ("conv_a", "bn_a", 0),
            ("bn_a", "relu_a", 0),
            ("relu_a", "conv_b", 0),
            ("conv_b", "bn_b", 0),
            ("x", "shortcut", 0),
            ("bn_b", "add", 0),
            ("shortcut", "add", 1),
            ("add", "out", 0),
        ],
    )


def transformer_encoder_block(
    width: int = 32, heads: int = 2, hidden: int = 64, dropout: float = 0.1
) -> dict[str, Any]:
    """Self-attention and a feed-forward net, each with a residual Add and LayerNormalization."""
    return _graph(
        [
            ("x", "Input", {"shape": [10, width]}, (0, 80)),
            (
                "attention",
                "MultiHeadAttention",
                {"num_heads": heads, "key_dim": max(1, width // heads)},
                (260, 0),
            ),
            ("attention_dropout", "Dropout", {"rate": dropout}, (520, 0)),
            ("add_1", "Add", {}, (780, 80)),
            ("norm_1", "LayerNormalization", {"epsilon": 1e-6}, (1040, 80)),
            ("ffn_1", "Dense", {"units": hidden, "activation": "relu"}, (1300, 0)),
            ("ffn_2", "Dense", {"units": width}, (1560, 0)),
            ("ffn_dropout", "Dropout", {"rate": dropout}, (1820, 0)),
            ("add_2", "Add", {}, (2080, 80)),
            ("norm_2", "LayerNormalization", {"epsilon": 1e-6}, (2340, 80)),
        ],
        [
            ("x", "attention", 0),
            ("x", "attention", 1),
            ("attention", "attention_dropout", 0),
            ("x", "add_1", 0),
            ("attention_dropout", "add_1", 1),
            ("add_1", "norm_1", 0),
            ("norm_1", "ffn_1", 0),
            ("ffn_1", "ffn_2", 0),
            ("ffn_2", "ffn_dropout", 0),
            ("norm_1", "add_2", 0),
            ("ffn_dropout", "add_2", 1),
            ("add_2", "norm_2", 0),
        ],
    )


def inception_block(filters: int = 16) -> dict[str, Any]:
    """Four parallel branches (1x1, 3x3, 5x5, pooling) concatenated along the channels."""

    def conv(size: int) -> dict[str, Any]:
        return {
            "filters": filters,
            "kernel_size": [size, size],
            "padding": "same",
            "activation": "relu",
        }

    pool = {"pool_size": [3, 3], "strides": [1, 1], "padding": "same"}
    return _graph(
        [
            ("x", "Input", {"shape": [8, 8, 3]}, (0, 255)),
            ("branch_1x1", "Conv2D", conv(1), (520, 0)),
            ("reduce_3x3", "Conv2D", conv(1), (260, 170)),
            ("branch_3x3", "Conv2D", conv(3), (520, 170)),
            ("reduce_5x5", "Conv2D", conv(1), (260, 340)),
            ("branch_5x5", "Conv2D", conv(5), (520, 340)),
            ("pool", "MaxPooling2D", pool, (260, 510)),
            ("branch_pool", "Conv2D", conv(1), (520, 510)),
            ("concat", "Concatenate", {}, (780, 255)),
        ],
        [
            ("x", "branch_1x1", 0),
            ("x", "reduce_3x3", 0),
            ("reduce_3x3", "branch_3x3", 0),
            ("x", "reduce_5x5", 0),
            ("reduce_5x5", "branch_5x5", 0),
            ("x", "pool", 0),
            ("pool", "branch_pool", 0),
            ("branch_1x1", "concat", 0),
            ("branch_3x3", "concat", 1),
            ("branch_5x5", "concat", 2),
            ("branch_pool", "concat", 3),
        ],
    )


def squeeze_excitation_block(channels: int = 32, ratio: int = 4) -> dict[str, Any]:
    """Channel attention: pool each feature map, a small bottleneck, sigmoid gates, multiply."""
    return _graph(
        [
            ("x", "Input", {"shape": [8, 8, channels]}, (0, 80)),
            ("squeeze", "GlobalAveragePooling2D", {"keepdims": True}, (260, 0)),
            (
                "reduce",
                "Dense",
                {"units": max(1, channels // ratio), "activation": "relu"},
                (520, 0),
            ),
            ("expand", "Dense", {"units": channels, "activation": "sigmoid"}, (780, 0)),
            ("scale", "Multiply", {}, (1040, 80)),
        ],
        [
            ("x", "squeeze", 0),
            ("squeeze", "reduce", 0),
            ("reduce", "expand", 0),
            ("x", "scale", 0),
            ("expand", "scale", 1),
        ],
    )
