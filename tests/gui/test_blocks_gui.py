"""Blocks and wrappers in the window: Group/Ungroup on the selection, the Blocks palette, the
inspector's inner-layer and block editors, the note on a node that shares a layer."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit

from backend.document.graph import LayerGraph
from backend.document.layer_table import BLOCK_TYPE
from backend.document.project import Project
from gui.editor.inner_layer_editor import BlockEditor, InnerLayerEditor
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window


def chain_project() -> Project:
    graph = LayerGraph()
    ids = []
    for i, (layer_type, params) in enumerate(
        [
            ("Input", {"shape": [6, 3]}),
            ("Bidirectional", {}),
            ("Dense", {"units": 8, "activation": "relu"}),
            ("Dense", {"units": 4}),
            ("Dense", {"units": 2}),
        ]
    ):
        node = graph.add_node(layer_type, params, position=(i * 240.0, 0.0))
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return Project(graph, name="Chain")


def select(window: MainWindow, *names: str) -> None:
    window.scene.clearSelection()
    for name in names:
        window.scene.node_items[window.project.graph.node_by_name(name).id].setSelected(True)


def test_group_and_ungroup_the_selection_from_the_edit_menu(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, chain_project(), dialogs)
    graph = window.project.graph
    assert window.group_action.shortcut().toString() == "Ctrl+G"
    assert window.ungroup_action.shortcut().toString() == "Ctrl+Shift+G"
    select(window, "dense", "dense_1")

    assert window.editing.group_selection("mlp_block")

    block = graph.node_by_name("mlp_block")
    assert block.layer_type == BLOCK_TYPE
    assert block.id in window.scene.node_items and len(window.scene.node_items) == 4
    assert window.scene.selected_node_ids() == [block.id]
    assert window.live.results[block.id].shape == (None, 4)
    assert window.undo.undo_label == "Group 2 layers into 'mlp_block'"

    window.ungroup_action.trigger()
    assert {n.name for n in graph.nodes.values()} == {
        "input",
        "bidirectional",
        "dense",
        "dense_1",
        "dense_2",
    }
    window.editing.undo_last()
    assert graph.node_by_name("mlp_block").layer_type == BLOCK_TYPE
    window.editing.undo_last()
    assert BLOCK_TYPE not in {n.layer_type for n in graph.nodes.values()}
    window.shutdown()


def test_a_selection_that_cannot_be_a_block_says_why(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, chain_project(), dialogs)
    select(window, "input", "bidirectional")
    before = window.project.graph.to_dict()
    assert not window.editing.group_selection("x")
    assert "Input 'input' cannot go into a block" in window.statusBar().currentMessage()
    assert window.project.graph.to_dict() == before
    window.shutdown()


def test_the_palette_offers_the_built_in_blocks(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, Project(LayerGraph(), name="Empty"), dialogs)
    for block in (
        "ResidualBlock",
        "TransformerEncoderBlock",
        "InceptionBlock",
        "SqueezeExcitationBlock",
    ):
        assert block in window.palette.items
        assert window.palette.items[block].parent().text(0) == "Blocks"
    assert "Block" not in window.palette.items
    window.palette.layer_activated.emit("InceptionBlock")
    (node,) = window.project.graph.nodes.values()
    assert node.layer_type == "InceptionBlock" and node.params["graph"]["nodes"]
    window.shutdown()


def test_the_inspector_edits_a_wrappers_inner_layer(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, chain_project(), dialogs)
    graph = window.project.graph
    bi = graph.node_by_name("bidirectional")
    window.inspector.show_node(bi.id)
    editor = window.inspector.editors["layer"]
    assert isinstance(editor, InnerLayerEditor)
    combo = editor.findChild(QComboBox, "inner_type")
    assert combo.currentText() == "LSTM"
    assert {combo.itemText(i) for i in range(combo.count())} >= {"SimpleRNN", "LSTM", "GRU"}

    combo.setCurrentIndex(combo.findText("GRU"))

    assert bi.params["layer"] == {"type": "GRU", "params": {"units": 16}}
    assert window.live.results[bi.id].shape == (None, 32)
    units = editor.findChild(QLineEdit, "inner_units")
    units.setText("5")
    units.editingFinished.emit()
    assert bi.params["layer"]["params"] == {"units": 5}
    assert window.live.results[bi.id].shape == (None, 10)
    sequences = editor.findChild(QCheckBox, "inner_return_sequences")
    assert sequences is not None and not sequences.isChecked()

    window.editing.undo_last()
    assert bi.params["layer"] == {"type": "GRU", "params": {"units": 16}}
    assert editor.findChild(QLineEdit, "inner_units").text() == "16"
    window.shutdown()


def test_the_inspector_edits_a_layer_inside_a_block(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, Project(LayerGraph(), name="Blocks"), dialogs)
    graph = window.project.graph
    x = graph.add_node("Input", {"shape": [8, 8, 32]}, name="x")
    se = graph.add_node("SqueezeExcitationBlock", name="se")
    graph.connect(x.id, se.id)
    window.inspector.show_node(se.id)
    editor = window.inspector.editors["graph"]
    assert isinstance(editor, BlockEditor)
    assert "4 layers, 1 input(s)" in editor.findChild(QLabel, "block_summary").text()
    layers = editor.findChild(QComboBox, "block_layer")
    layers.setCurrentIndex(layers.findData("reduce"))

    units = editor.findChild(QLineEdit, "inner_units")
    assert units.text() == "8"
    units.setText("2")
    units.editingFinished.emit()

    inner = {n["id"]: n for n in se.params["graph"]["nodes"]}
    assert inner["reduce"]["params"]["units"] == 2
    model_units = window.live.results[se.id].shape
    assert model_units == (None, 8, 8, 32)
    window.editing.undo_last()
    inner = {n["id"]: n for n in se.params["graph"]["nodes"]}
    assert inner["reduce"]["params"]["units"] == 8
    window.shutdown()


def test_a_node_sharing_a_layer_shows_whose_it_is(qtbot: Any, dialogs: Dialogs) -> None:
    project = chain_project()
    graph = project.graph
    dense = graph.node_by_name("dense_2")
    again = graph.add_node("Dense", name="dense_again")
    again.params = {"shares": dense.id}
    graph.connect(graph.node_by_name("dense_1").id, again.id)
    window = make_window(qtbot, project, dialogs)
    window.inspector.show_node(again.id)
    note = window.inspector.findChild(QLabel, "shared_note")
    assert note is not None and "dense_2" in note.text()
    assert "units" not in window.inspector.editors
    window.shutdown()
