"""Undo/redo from the keyboard and the Edit menu, one step per gesture."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLineEdit

from gui.main_window import MainWindow
from tests.gui.test_main_window import drag_between, drop_layer, view_point


def press(
    qtbot: Any, window: MainWindow, key: Qt.Key, mods: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, key, mods)


def test_every_gesture_undoes_in_one_step(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    start = graph.to_dict()
    states = [start]

    # 1. drop a layer from the palette
    drop_layer(window, "Dense", window.view.viewport().rect().center() + QPoint(0, 150))
    states.append(graph.to_dict())
    new_id = list(graph.nodes)[-1]
    # 2. connect the old output to it with the mouse
    last = graph.node_by_name("dense_1")
    src = window.scene.node_items[last.id].output_port
    assert src is not None
    drag_between(qtbot, window, src, window.scene.node_items[new_id].input_ports[0])
    states.append(graph.to_dict())
    # 3. edit a parameter in the inspector
    window.scene.select_node(new_id)
    editor = window.inspector.editors["units"]
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    states.append(graph.to_dict())
    # 4. delete it (node and its edge in one step)
    window.scene.select_node(new_id)
    press(qtbot, window, Qt.Key.Key_Delete)
    states.append(graph.to_dict())
    assert len({str(s) for s in states[:4]}) == 4, "each gesture changed the graph"
    assert states[4] == states[0]  # deleting the new node took its edge with it
    assert window.history.count() == 5  # "(opened)" + 4 gestures

    for expected in reversed(states[:-1]):
        press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert graph.to_dict() == expected
    assert not window.undo_action.isEnabled()
    for expected in states[1:]:
        press(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
        assert graph.to_dict() == expected
    # the canvas mirrors the model after all that
    assert set(window.scene.node_items) == set(graph.nodes)
    assert len(window.scene.edge_items) == len(graph.edges)


def test_undo_of_a_move_and_menu_labels(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dense = graph.node_by_name("dense")
    item = window.scene.node_items[dense.id]
    before = dense.position
    start = view_point(window, item.scenePos() + QPointF(60, 40))
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=start + QPoint(30, 30))
    qtbot.mouseMove(viewport, pos=start + QPoint(60, 60))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 60))
    assert graph.nodes[dense.id].position != before
    assert window.undo_action.text() == "&Undo Move 'dense'"
    window.undo_action.trigger()
    assert graph.nodes[dense.id].position == before
    assert (item.pos().x(), item.pos().y()) == before
    assert window.redo_action.text() == "&Redo Move 'dense'"


def test_history_click_jumps(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    original = graph.to_dict()
    node_id = graph.node_by_name("dense").id
    window.scene.select_node(node_id)
    for name in ("a", "b", "c"):
        editor = window.inspector.editors["name"]
        assert isinstance(editor, QLineEdit)
        editor.setText(name)
        editor.editingFinished.emit()
    assert graph.node_by_name("c")
    window.history.itemClicked.emit(window.history.item(0))
    assert graph.to_dict() == original
    window.history.itemClicked.emit(window.history.item(2))
    assert graph.node_by_name("b")
