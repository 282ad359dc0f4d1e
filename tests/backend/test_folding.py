"""Folds: a large network read in blocks found from its Keras names and its structure, without
changing the graph; collapsed folds close the space their layers leave."""

from __future__ import annotations

from backend.document.graph import LayerGraph
from backend.editing.folding import compact, find_folds, fold_box, visible_fold
from backend.editing.geometry import graph_sizes
from backend.editing.layout import layered_layout
from tests.named_graphs import resnet_like


def test_stages_and_blocks_from_keras_names() -> None:
    g = resnet_like()
    before = g.to_dict()
    folds = find_folds(g)
    assert g.to_dict() == before, "folding reads the graph, never edits it"
    by_label = {f.label: f for f in folds}
    assert {"conv2", "conv3", "conv2_block1", "conv3_block2"} <= set(by_label)
    assert by_label["conv2_block1"].parent == by_label["conv2"].key
    assert by_label["conv2"].parent is None
    names = {g.nodes[n].name for n in by_label["conv2_block2"].members}
    assert "activation_7" in names, "a layer Keras named by its type joins its block"
    assert g.nodes[by_label["conv2"].exit].name == "conv2_block2_out"
    assert "input_layer" not in {g.nodes[n].name for f in folds for n in f.members}


def test_a_scattered_name_prefix_is_no_fold_but_structure_is() -> None:
    """Inception-style: branches named conv2d_N everywhere, blocks closed by `mixed*`."""
    g = LayerGraph()
    x = g.add_node("Input", {"shape": [4]}, name="input_layer").id
    n = 0
    for block in range(3):
        branches = []
        for _branch in range(2):
            y = x
            for _ in range(2):
                node = g.add_node("Dense", {"units": 4}, name=f"conv2d_{n}" if n else "conv2d")
                n += 1
                g.connect(y, node.id)
                y = node.id
            branches.append(y)
        mixed = g.add_node("Concatenate", name=f"mixed{block}")
        for b in branches:
            g.connect(b, mixed.id)
        x = mixed.id
    folds = find_folds(g)
    labels = sorted(f.label for f in folds)
    assert labels == ["mixed0", "mixed1", "mixed2"]
    assert all(len(f.members) == 5 for f in folds)


def test_collapsed_folds_close_their_space() -> None:
    g = resnet_like(stages=3)
    positions = layered_layout(g, origin=(0.0, 0.0))
    sizes = graph_sizes(g)
    boxes = {n: (*positions[n], *sizes[n]) for n in g.nodes}
    folds = find_folds(g)
    top = [f for f in folds if f.parent is None]
    hidden = visible_fold(folds, {f.key for f in top})
    shown = {n: b for n, b in boxes.items() if n not in hidden}
    shown.update({f.key: fold_box(f, boxes) for f in top})
    offsets = compact(shown, [boxes[n] for n in hidden])
    assert compact(shown) == dict.fromkeys(shown, 0.0), "space the user left stays"
    placed = {k: b[1] + offsets[k] for k, b in shown.items()}
    bottom = max(placed.values())
    assert bottom < max(b[1] for b in boxes.values()) / 3, "the overview is much shorter"
    order = sorted(shown, key=lambda k: shown[k][1])
    assert order == sorted(shown, key=placed.__getitem__), "nothing changes order"
    assert not visible_fold(folds, set())
