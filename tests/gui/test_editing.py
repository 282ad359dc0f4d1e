"""Canvas editing as a user does it: clipboard, duplicate, insert on edge, reconnect, layout,
quick add, select all, minimap."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from backend.editing.commands import SetParams
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window
from tests.gui.test_main_window import drop_layer, view_point


def key(
    qtbot: Any, window: MainWindow, k: Qt.Key, mods: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, k, mods)


CTRL = Qt.KeyboardModifier.ControlModifier


def test_copy_in_one_window_paste_in_another(
    qtbot: Any, window: MainWindow, dialogs: Dialogs
) -> None:
    graph = window.project.graph
    window.scene.clearSelection()
    for name in ("dense", "dropout"):
        window.scene.node_items[graph.node_by_name(name).id].setSelected(True)
    key(qtbot, window, Qt.Key.Key_C, CTRL)
    from backend.templates.examples import moons_mlp

    other = make_window(qtbot, moons_mlp(), dialogs)
    before = set(other.project.graph.nodes)
    key(qtbot, other, Qt.Key.Key_V, CTRL)
    new = set(other.project.graph.nodes) - before
    assert len(new) == 2
    names = {other.project.graph.nodes[n].name for n in new}
    assert names == {"dense_3", "dropout"}  # moons already has dense, dense_1, dense_2
    assert len(other.project.graph.edges) == 3 + 1  # the inner edge came along
    assert set(other.scene.selected_node_ids()) == new
    assert other.undo.undo_label == "Paste 2 layers"
    other.shutdown()


def test_cut_then_paste_and_duplicate(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dropout = graph.node_by_name("dropout")
    window.scene.select_node(dropout.id)
    key(qtbot, window, Qt.Key.Key_X, CTRL)
    assert dropout.id not in graph.nodes
    key(qtbot, window, Qt.Key.Key_V, CTRL)
    assert graph.node_by_name("dropout")  # its name was free again
    key(qtbot, window, Qt.Key.Key_D, CTRL)
    assert graph.node_by_name("dropout_1")
    assert window.undo.undo_label == "Duplicate 1 layer"


def test_foreign_clipboard_text_is_a_message_not_a_crash(qtbot: Any, window: MainWindow) -> None:
    QApplication.clipboard().setText("just some text")
    count = len(window.project.graph.nodes)
    assert window.editing.paste() == []
    assert len(window.project.graph.nodes) == count
    assert "Cannot paste" in window.statusBar().currentMessage()


def test_drop_on_edge_inserts_layer(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dense = graph.node_by_name("dense")
    dropout = graph.node_by_name("dropout")
    edge = next(e for e in graph.edges if (e.src, e.dst) == (dense.id, dropout.id))
    middle = window.scene.edge_items[edge].path().pointAtPercent(0.5)
    drop_layer(window, "BatchNormalization", view_point(window, middle))
    bn = graph.node_by_name("batch_normalization")
    pairs = {(e.src, e.dst) for e in graph.edges}
    assert (dense.id, bn.id) in pairs and (bn.id, dropout.id) in pairs
    assert (dense.id, dropout.id) not in pairs
    window.editing.undo_last()
    assert (dense.id, dropout.id) in {(e.src, e.dst) for e in graph.edges}
    assert bn.id not in graph.nodes


def test_drag_edge_end_to_reconnect_and_off_to_cut(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dropout = graph.node_by_name("dropout")
    out = graph.node_by_name("dense_1")
    extra = graph.add_node("Dense", {"units": 3}, position=(520, 400))
    viewport = window.view.viewport()
    held = view_point(window, window.scene.node_items[out.id].input_ports[0].scenePos())
    target = view_point(window, window.scene.node_items[extra.id].input_ports[0].scenePos())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=held)
    qtbot.mouseMove(viewport, pos=(held + target) / 2)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=target)
    pairs = {(e.src, e.dst) for e in graph.edges}
    assert (dropout.id, extra.id) in pairs and (dropout.id, out.id) not in pairs
    assert window.undo.undo_label == "Reconnect"
    # now drag that end into empty canvas: the edge is cut
    held = target
    empty = held + QPoint(0, 200)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=held)
    qtbot.mouseMove(viewport, pos=empty)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=empty)
    assert not graph.in_edges(extra.id)
    window.editing.undo_last()
    window.editing.undo_last()
    assert (dropout.id, out.id) in {(e.src, e.dst) for e in graph.edges}


def test_auto_layout_then_undo(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    graph.move_node(graph.node_by_name("dense").id, (900.0, -400.0))  # a messy drawing
    before = {n: node.position for n, node in graph.nodes.items()}
    key(qtbot, window, Qt.Key.Key_L, CTRL)
    after = {n: node.position for n, node in graph.nodes.items()}
    assert after != before
    downward = [after[e.src][1] < after[e.dst][1] for e in graph.edges]  # top to bottom
    assert all(downward)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert {n: node.position for n, node in graph.nodes.items()} == before


def test_quick_add_places_connected_layer(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    last = graph.node_by_name("dense_1")
    window.scene.select_node(last.id)
    key(qtbot, window, Qt.Key.Key_K, CTRL)
    assert window.quick_add.isVisible()
    qtbot.keyClicks(window.quick_add.edit, "softmax")
    qtbot.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    new = graph.node_by_name("softmax")
    assert [e.src for e in graph.in_edges(new.id)] == [last.id]
    assert window.scene.selected_node_ids() == [new.id]
    assert window.undo.undo_label == "Add Softmax after 'dense_1'"
    # one row after it in the drawing's direction, overlapping nothing, scrolled into view
    item, anchor = window.scene.node_items[new.id], window.scene.node_items[last.id]
    assert window.scene.direction in ("TB", "LR")
    if window.scene.direction == "TB":
        assert item.pos().y() > anchor.pos().y() + anchor.size[1]
    else:
        assert item.pos().x() > anchor.pos().x() + anchor.size[0]
    others = [i for nid, i in window.scene.node_items.items() if nid != new.id]
    assert not any(item.sceneBoundingRect().intersects(o.sceneBoundingRect()) for o in others)
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.intersects(item.sceneBoundingRect())


def test_select_all_and_rubber_band(qtbot: Any, window: MainWindow) -> None:
    key(qtbot, window, Qt.Key.Key_A, CTRL)
    assert len(window.scene.selected_node_ids()) == 7
    window.scene.clearSelection()
    graph = window.project.graph
    first_row = [graph.node_by_name(n) for n in ("input", "conv2d")]
    items = [window.scene.node_items[n.id] for n in first_row]
    around = items[0].sceneBoundingRect().united(items[1].sceneBoundingRect())
    top_left = view_point(window, around.topLeft() - QPointF(20, 20))
    bottom_right = view_point(window, around.bottomRight() + QPointF(20, 10))
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=top_left)
    qtbot.mouseMove(viewport, pos=(top_left + bottom_right) / 2)
    qtbot.mouseMove(viewport, pos=bottom_right)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=bottom_right)
    assert set(window.scene.selected_node_ids()) == {n.id for n in first_row}


def test_minimap_shows_when_the_graph_does_not_fit_and_recentres(
    qtbot: Any, window: MainWindow
) -> None:
    window.view.fit_all()
    window.minimap.fit()
    assert not window.minimap.isVisible()  # the whole graph is in view: no overview needed
    window.view.zoom_by(3.0)
    window.minimap.fit()
    assert window.minimap.isVisible()
    before = window.view.mapToScene(window.view.viewport().rect().center())
    qtbot.mouseClick(window.minimap.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    after = window.view.mapToScene(window.view.viewport().rect().center())
    assert after != before
    window.minimap_action.trigger()
    assert not window.minimap.isVisible()
    window.minimap_action.trigger()
    assert window.minimap.isVisible()


def test_dark_theme_restyles_canvas(qtbot: Any, window: MainWindow) -> None:
    from gui.runtime import theme

    try:
        window.set_color_scheme(Qt.ColorScheme.Dark)
        assert theme.is_dark()
        assert window.scene.backgroundBrush().color().lightness() < 60
        window.set_color_scheme(Qt.ColorScheme.Light)
        assert window.scene.backgroundBrush().color().lightness() > 200
    finally:
        window.set_color_scheme(Qt.ColorScheme.Unknown)


def test_teacher_warnings_show_as_badges_on_nodes(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    out = graph.node_by_name("dense_1")
    window.undo.push(SetParams(out.id, {"units": 7}))  # 7 outputs for 10 classes: a warning
    item = window.scene.node_items[out.id]
    qtbot.waitUntil(lambda: bool(item.warnings), timeout=10_000)
    assert "10" in " ".join(item.warnings) and "⚠" in item.toolTip()
    window.editing.undo_last()
    qtbot.waitUntil(lambda: not item.warnings, timeout=10_000)
