"""Graphs named as keras.applications names its layers, built without Keras (fast)."""

from __future__ import annotations

from backend.document.graph import LayerGraph


def resnet_like(stages: int = 2, blocks: int = 2) -> LayerGraph:
    """conv{s}_block{b}_{1,2,3}_* chains with a skip each, as keras.applications names them;
    one Keras-named activation (`activation_7`) inside a block."""
    g = LayerGraph()
    x = g.add_node("Input", {"shape": [8, 8, 3]}, name="input_layer").id
    x_next = g.add_node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, name="conv1_conv").id
    g.connect(x, x_next)
    x = x_next
    for s in range(2, 2 + stages):
        for b in range(1, 1 + blocks):
            prefix = f"conv{s}_block{b}"
            y = x
            for part in ("1_conv", "1_bn", "2_conv", "2_bn", "3_conv"):
                kind = "BatchNormalization" if part.endswith("bn") else "Conv2D"
                params = {} if kind != "Conv2D" else {"filters": 4, "kernel_size": [1, 1]}
                node = g.add_node(kind, params, name=f"{prefix}_{part}")
                g.connect(y, node.id)
                y = node.id
                if (s, b, part) == (2, 2, "1_bn"):
                    act = g.add_node("Activation", {"activation": "relu"}, name="activation_7")
                    g.connect(y, act.id)
                    y = act.id
            add = g.add_node("Add", name=f"{prefix}_add")
            g.connect(y, add.id)
            g.connect(x, add.id)
            out = g.add_node("ReLU", name=f"{prefix}_out")
            g.connect(add.id, out.id)
            x = out.id
    head = g.add_node("GlobalAveragePooling2D", name="avg_pool")
    g.connect(x, head.id)
    return g
