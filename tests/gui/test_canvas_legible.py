"""The default example as a new user first sees it: each edge's tensor shape and each layer's
output shape are drawn, in the pixels of the real view, at the zoom the window opens at; they
hide when zoomed far out and come back at a readable zoom. A layer dropped over the minimap
lands on the canvas under it, in view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QGraphicsView

from gui.canvas.items import DETAIL_LOD, READABLE_ZOOM, TEXT_PIXELS, EdgeItem, NodeItem
from gui.canvas.view import LAYER_MIME
from gui.main_window import MainWindow


def _ink(image: QImage, rect: QRectF, skip_x: tuple[float, float] = (0.0, 0.0)) -> int:
    """Pixels in `rect` (viewport pixels) dark enough to be text, outside the columns
    `skip_x` (where the edge's own line runs)."""
    count = 0
    for x in range(max(0, int(rect.left())), min(image.width(), int(rect.right()) + 1)):
        if skip_x[0] <= x <= skip_x[1]:
            continue
        for y in range(max(0, int(rect.top())), min(image.height(), int(rect.bottom()) + 1)):
            if QColor(image.pixel(x, y)).lightness() < 200:  # the grid is 230
                count += 1
    return count


def _shown(window: MainWindow) -> tuple[QImage, list[EdgeItem], list[NodeItem]]:
    """The view's pixels, and the edges and nodes wholly inside it."""
    view = window.view
    view.viewport().repaint()
    image = view.viewport().grab().toImage()
    area = view.mapToScene(view.viewport().rect()).boundingRect()
    edges = [e for e in window.scene.edge_items.values() if area.contains(e.label_rect())]
    nodes = [n for n in window.scene.node_items.values() if area.contains(n.sceneBoundingRect())]
    return image, edges, nodes


def _label_ink(window: MainWindow, image: QImage, edge: EdgeItem) -> int:
    view = window.view
    rect = view.mapFromScene(edge.label_rect()).boundingRect()
    line_x = view.mapFromScene(edge.path().pointAtPercent(0.5)).x()
    return _ink(image, QRectF(rect), (line_x - 1.5, line_x + 1.5))


def _shape_ink(window: MainWindow, image: QImage, node: NodeItem) -> int:
    """Ink on a node's last line, left of its output port, where `→ (None, 64)` runs and a
    node zoomed out (its name alone, centred) draws nothing."""
    w, h = node.size
    line = QRectF(w * 0.28, h - 17, w * 0.17, 10)
    return _ink(image, QRectF(window.view.mapFromScene(node.mapRectToScene(line)).boundingRect()))


def test_the_default_example_opens_with_every_shape_readable(
    qtbot: Any, window: MainWindow
) -> None:
    scene, view = window.scene, window.view
    qtbot.waitUntil(lambda: all(e.label_text for e in scene.edge_items.values()), timeout=30_000)
    zoom = view.transform().m11()
    assert READABLE_ZOOM <= zoom < 0.7, "the example does not fit at 100%: it opens zoomed out"
    image, edges, nodes = _shown(window)
    assert len(edges) >= 5 and len(nodes) >= 6, "the example opens whole, or nearly"
    for edge in edges:
        assert _label_ink(window, image, edge) > 8, f"edge {edge.label_text!r} has no label"
        assert edge.label_rect(zoom).height() * zoom >= TEXT_PIXELS
    for node in nodes:
        assert node.shape_result is not None and node.shape_result.ok
        assert _shape_ink(window, image, node) > 8, f"{node.node.name}: no output shape"

    view.zoom_by(0.3 / zoom)  # far out: boxes and names only, no labels
    image, edges, _nodes = _shown(window)
    assert view.transform().m11() < DETAIL_LOD and edges
    assert all(_label_ink(window, image, edge) == 0 for edge in edges)
    view.zoom_by(READABLE_ZOOM / view.transform().m11())  # back to a readable zoom
    image, edges, nodes = _shown(window)
    assert edges and all(_label_ink(window, image, edge) > 8 for edge in edges)
    assert all(_shape_ink(window, image, node) > 8 for node in nodes)


def test_a_layer_dropped_over_the_minimap_lands_under_it_and_shows_whole(
    qtbot: Any, window: MainWindow
) -> None:
    view = window.view
    view.zoom_by(1.2 / view.transform().m11())  # the example no longer fits: the overview shows
    minimap = view.findChild(QGraphicsView, "minimap")
    assert minimap is not None
    qtbot.waitUntil(minimap.isVisible, timeout=5_000)
    data = QMimeData()
    data.setData(LAYER_MIME, b"Dense")
    at = minimap.viewport().rect().center()
    target = view.mapToScene(view.viewport().mapFromGlobal(minimap.viewport().mapToGlobal(at)))
    before = set(window.project.graph.nodes)
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    drop = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, data, buttons, keys)
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, data, buttons, keys)
    QApplication.sendEvent(minimap.viewport(), enter)  # Qt drops only where a drag entered
    assert enter.isAccepted()
    QApplication.sendEvent(minimap.viewport(), drop)
    (added,) = set(window.project.graph.nodes) - before
    item = window.scene.node_items[added]
    assert (item.sceneBoundingRect().center() - target).manhattanLength() < 300, "where dropped"
    shown = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(shown), "whole in view"
    cover = minimap.geometry().translated(view.viewport().mapFrom(view, QPoint(0, 0)))
    assert not shown.intersects(cover), "not under the overview"


def test_shape_labels_stay_clear_of_layers_and_of_each_other(
    qtbot: Any, window: MainWindow
) -> None:
    """The Transformer template: one layer feeds query and value (two labels in one
    spot) and a skip edge whose middle runs beside the attention layer."""
    assert window.open_example("transformer_classifier")
    scene = window.scene
    qtbot.waitUntil(lambda: all(e.label_text for e in scene.edge_items.values()), timeout=30_000)
    qtbot.wait(50)  # the reroute after the shapes
    shown = [e for e in scene.edge_items.values() if e.isVisible() and e.label_shown]
    rects = [e.label_rect() for e in shown]
    for i, rect in enumerate(rects):
        assert not any(rect.intersects(other) for other in rects[i + 1 :]), shown[i].label_text
        covering = [n.node.name for n in scene.items(rect) if isinstance(n, NodeItem)]
        assert not covering, f"{shown[i].edge} label under {covering}"
    fed = window.project.graph.node_by_name("add_positions").id
    fan_out = [e for e in scene.edge_items.values() if e.edge.src == fed]
    assert len(fan_out) == 3 and 1 <= sum(e.label_shown for e in fan_out) < 3  # q, v, skip
