"""The canvas reads at any size: top-to-bottom drawing with routed skips, names kept when zoomed
out, large graphs opened folded at a readable zoom and expanded in place, tidy edits undone in
one step. Real scene, view and items (offscreen), no Keras needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPainterPathStroker
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from backend.document.graph import LayerGraph
from backend.editing.commands import UndoStack
from backend.editing.layout import layered_layout
from backend.keras_bridge.live_shapes import LiveShapes
from gui.canvas.fold_items import FoldItem
from gui.canvas.items import READABLE_ZOOM, NodeItem
from gui.canvas.scene import GraphScene
from gui.canvas.view import CanvasView
from tests.named_graphs import resnet_like


class Canvas:
    def __init__(self, qtbot: Any, graph: LayerGraph) -> None:
        self.graph = graph
        self.undo = UndoStack(graph)
        self.scene = GraphScene(graph, LiveShapes(graph), self.undo)
        self.view = CanvasView(self.scene)
        qtbot.addWidget(self.view)
        self.view.resize(1000, 700)
        self.view.show()
        self.view.fit_all()

    def positions(self) -> dict[str, tuple[float, float]]:
        return {n: node.position for n, node in self.graph.nodes.items()}

    def item(self, name: str) -> NodeItem:
        return self.scene.node_items[self.graph.node_by_name(name).id]


@pytest.fixture
def canvas(qtbot: Any) -> Iterator[Any]:
    made: list[Canvas] = []

    def make(graph: LayerGraph, laid_out: bool = True) -> Canvas:
        if laid_out:
            for nid, p in layered_layout(graph, origin=(0.0, 0.0)).items():
                graph.nodes[nid].position = p
        made.append(Canvas(qtbot, graph))
        return made[-1]

    yield make
    for c in made:
        c.scene.detach()


def test_a_large_network_opens_folded_readable_and_expands_in_place(canvas: Any) -> None:
    graph = resnet_like(stages=4, blocks=3)
    assert len(graph.nodes) >= 80
    c = canvas(graph)
    before = graph.to_dict()
    scene, view = c.scene, c.view
    assert scene.direction == "TB"
    folds = {item.fold.label: item for item in scene.fold_items.values()}
    assert {"conv2", "conv3", "conv4", "conv5"} <= set(folds)
    assert not c.item("conv3_block2_2_conv").isVisible()
    assert view.transform().m11() >= READABLE_ZOOM
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(c.item("input_layer").sceneBoundingRect()), "opens at its inputs"
    assert shown.contains(folds["conv3"].sceneBoundingRect()), "the overview fits"
    head_before = c.item("avg_pool").pos().y()

    target = folds["conv3"]
    at = view.mapFromScene(target.sceneBoundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert target.fold.key not in scene.collapsed
    inner = {i.fold.label for i in scene.fold_items.values()}
    assert "conv3_block1" in inner and "conv3" not in inner, "its blocks show, still folded"
    assert c.item("avg_pool").pos().y() > head_before, "what follows moved down to make room"
    assert graph.to_dict() == before, "reading never edits the model"
    assert not c.undo.can_undo
    scene.expand_all()
    assert c.item("conv3_block2_2_conv").isVisible()
    assert c.item("conv3_block2_2_conv").pos() == QPointF(
        *graph.node_by_name("conv3_block2_2_conv").position
    )


def test_a_skip_connection_is_routed_beside_the_layers_it_skips(canvas: Any) -> None:
    c = canvas(resnet_like(stages=1, blocks=1))
    skip = next(
        item
        for edge, item in c.scene.edge_items.items()
        if c.graph.nodes[edge.dst].name == "conv2_block1_add"
        and c.graph.nodes[edge.src].name == "conv1_conv"
    )
    skipped = [c.item(f"conv2_block1_{p}").sceneBoundingRect() for p in ("1_bn", "2_conv")]
    line = QPainterPathStroker()
    line.setWidth(1)
    drawn = line.createStroke(skip.path())
    for rect in skipped:
        assert not drawn.intersects(rect.adjusted(4, 4, -4, -4))
    straight = QPainterPath(skip.path().pointAtPercent(0))
    straight.lineTo(skip.path().pointAtPercent(1))
    assert any(line.createStroke(straight).intersects(r) for r in skipped), "can fail"


def _dark_pixels(view: CanvasView, item: NodeItem, zoom: float) -> int:
    view.resetTransform()
    view.scale(zoom, zoom)
    view.centerOn(item)
    image = QImage(view.viewport().size(), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    view.render(painter)
    painter.end()
    rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    body = rect.adjusted(4, int(rect.height() * 0.35), -4, -4)  # below the header
    dark = 0
    for x in range(body.left(), body.right()):
        for y in range(body.top(), body.bottom()):
            if QColor(image.pixel(x, y)).lightness() < 100:
                dark += 1
    return dark


def test_zoomed_out_a_node_keeps_its_name(canvas: Any) -> None:
    c = canvas(resnet_like(stages=1, blocks=1))
    item = c.item("conv2_block1_2_conv")
    assert _dark_pixels(c.view, item, 0.3) > 15, "the name is drawn at 0.3"
    assert _dark_pixels(c.view, item, 0.08) == 0, "a plain box far out"


def test_a_splice_makes_room_and_one_undo_restores_every_position(canvas: Any) -> None:
    c = canvas(resnet_like(stages=1, blocks=1))
    before = c.positions()
    edge = next(e for e in c.graph.edges if c.graph.nodes[e.src].name == "conv2_block1_1_conv")
    node_id = c.scene.insert_on_edge("Dropout", edge, QPointF(0, 0))
    assert node_id is not None
    rects = [i.sceneBoundingRect().adjusted(5, 5, -5, -5) for i in c.scene.node_items.values()]
    assert not [(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :] if a.intersects(b)], (
        "nothing lands on anything"
    )
    assert c.undo.labels() == ["Insert Dropout"]
    c.undo.undo()
    assert c.positions() == before


def test_a_drop_on_a_node_lands_beside_it_and_layouts_switch_direction(canvas: Any) -> None:
    c = canvas(resnet_like(stages=1, blocks=1))
    target = c.item("conv2_block1_2_conv")
    node = c.scene.add_layer("Dense", target.sceneBoundingRect().center())
    assert node is not None
    new = c.scene.node_items[node.id].sceneBoundingRect()
    assert not new.intersects(target.sceneBoundingRect())
    assert QRectF(new).center().x() - target.sceneBoundingRect().center().x() < 600
    c.undo.undo()
    tb = c.positions()
    assert c.scene.arrange(None, "LR")
    assert c.scene.direction == "LR"
    item = c.item("conv2_block1_add")
    assert item.input_ports[0].pos().x() == 0.0, "inputs on the left edge"
    c.undo.undo()
    assert c.positions() == tb
    assert c.scene.direction == "TB"
    assert item.input_ports[0].pos().y() == 0.0, "inputs back on the top edge"


def test_fold_items_say_what_they_hold() -> None:
    from backend.editing.folding import find_folds

    fold = next(f for f in find_folds(resnet_like()) if f.label == "conv2")
    item = FoldItem(fold, (230.0, 64.0), lambda _key: None)
    assert "layers" in item.toolTip() and "unchanged" in item.toolTip()


def _backbone_graph() -> tuple[LayerGraph, str]:
    from backend.document.layer_table import BLOCK_TYPE

    inner = resnet_like(stages=4, blocks=3)
    g = LayerGraph()
    image = g.add_node("Input", {"shape": [8, 8, 3]}, position=(0.0, 0.0), name="image")
    block = g.add_node(
        BLOCK_TYPE, {"graph": inner.to_dict(), "trainable": False}, (0.0, 130.0), "backbone"
    )
    head = g.add_node("GlobalAveragePooling2D", position=(0.0, 260.0), name="head")
    g.connect(image.id, block.id)
    g.connect(block.id, head.id)
    return g, block.id


def test_double_click_opens_a_nested_model_for_reading_in_place(canvas: Any) -> None:
    """A backbone block (frozen, as a pretrained one is) opens in place: its layers drawn in
    a frame, the head moved out of the way, the model untouched; double-click closes it."""
    g, block_id = _backbone_graph()
    c = canvas(g, laid_out=False)
    before = g.to_dict()
    head_y = c.item("head").pos().y()
    at = c.view.mapFromScene(c.scene.node_items[block_id].sceneBoundingRect().center())
    QTest.mouseDClick(c.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    peek = c.scene.peeks[block_id]
    names = {item.node.name for item in peek.nodes.values()}
    assert {"conv2_block1_1_conv", "conv5_block3_out"} <= names
    assert not c.scene.node_items[block_id].isVisible()
    frame = peek.sceneBoundingRect()
    assert c.item("head").pos().y() >= frame.bottom() > head_y, "the head made room"
    assert g.to_dict() == before and not c.undo.can_undo, "reading is not an edit"
    top = c.view.mapFromScene(QPointF(frame.center().x(), frame.top() + 10))
    QTest.mouseDClick(c.view.viewport(), Qt.MouseButton.LeftButton, pos=top)
    assert not c.scene.peeks
    assert c.item("head").pos().y() == head_y


def test_ungrouping_a_block_in_place_is_one_undoable_edit(canvas: Any) -> None:
    g, block_id = _backbone_graph()
    c = canvas(g, laid_out=False)
    new = c.scene.expand_block(block_id)
    assert block_id not in g.nodes and len(new) > 80
    assert c.undo.labels() == ["Expand 'backbone' in place"]
    assert {"conv2", "conv5"} <= {i.fold.label for i in c.scene.fold_items.values()}
    c.undo.undo()
    QApplication.processEvents()  # the scene re-places what is shown once events settle
    assert block_id in g.nodes and not c.scene.fold_items


def test_a_layout_pushed_by_any_caller_turns_the_ports(canvas: Any) -> None:
    """The window's Ctrl+L pushes `layout_command` itself: the ports follow the positions."""
    from backend.editing.layout import layout_command

    c = canvas(resnet_like(stages=1, blocks=1))
    command = layout_command(c.graph, None, "LR")
    assert command is not None
    c.undo.push(command)
    assert c.scene.direction == "LR"
    c.undo.undo()
    assert c.scene.direction == "TB"
