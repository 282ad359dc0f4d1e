"""What the scene shows of a large graph: collapsed folds, the display shift they cause, and
where new layers land (`GraphScene` mixes this in).

Folds are a way of reading (`backend.editing.folding`): collapsing one hides its layers behind a
`FoldItem` and moves what follows up into the space they leave, on screen only. A node item is
then drawn at `display_pos(id)`, its model position shifted along the flow; the model, the undo
stack and the saved file never see a fold.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF

from backend.document.graph import GraphError, LayerGraph
from backend.document.layer_table import layer_info
from backend.editing.folding import Fold, compact, find_folds, fold_box, visible_fold
from backend.editing.geometry import LAYER_GAP, TOP_TO_BOTTOM, Direction, node_size
from backend.editing.room import free_spot
from backend.keras_bridge.shapes import block_graph
from gui.canvas.fold_items import FoldItem
from gui.canvas.items import NodeItem
from gui.canvas.peek import PeekItem
from gui.runtime import theme


class FoldedView:
    """Folds and display positions for a scene with `graph`, `node_items` and `direction`."""

    graph: LayerGraph
    node_items: dict[str, NodeItem]
    direction: Direction
    folds: list[Fold]
    collapsed: set[str]
    fold_items: dict[str, FoldItem]
    peeks: dict[str, PeekItem]
    _offsets: dict[str, float]

    # Also from the scene: reroute() (places folds, then routes), addItem(), removeItem().

    def display_pos(self, node_id: str) -> QPointF:
        """Where a node is drawn: its position in the model, moved up (or left) by the space
        collapsed folds above it no longer take."""
        x, y = self.graph.nodes[node_id].position
        shift = self._offsets.get(node_id, 0.0)
        return QPointF(x, y + shift) if self.direction == TOP_TO_BOTTOM else QPointF(x + shift, y)

    def _place_folds(self) -> dict[str, Any]:
        """Show one box per collapsed fold and hide its layers, open the blocks being read in
        their frames, and move the rest along the flow: up into the space folds leave, down
        out of the way of open blocks. Returns, for each layer not drawn itself, the item
        that stands for it (a FoldItem, or the PeekItem of an open block)."""
        self._close_stale_peeks()
        alive = [f for f in self.folds if f.exit in self.graph.nodes]
        hidden = visible_fold(alive, self.collapsed)
        grow = self._peek_room()
        model = {}
        for nid, item in self.node_items.items():
            x, y = self.graph.nodes[nid].position
            peek = self.peeks.get(nid)
            size = peek.size if peek is not None and nid not in hidden else item.size
            model[nid] = self._box(x, y, grow.get(nid, 0.0), size)
        shown = {nid: box for nid, box in model.items() if nid not in hidden}
        fold_boxes = {
            f.key: fold_box(f, model, self.direction) for f in alive if f.key in hidden.values()
        }
        holes = [box for nid, box in model.items() if nid in hidden]
        offsets = compact({**shown, **fold_boxes}, holes, self.direction)
        for key in [k for k in self.fold_items if k not in fold_boxes]:
            self.removeItem(self.fold_items.pop(key))
        for fold in alive:
            if fold.key in fold_boxes:
                x, y, w, h = fold_boxes[fold.key]
                item = self.fold_items.get(fold.key)
                if item is None:
                    item = FoldItem(fold, (w, h), self.expand, self.direction)
                    self.fold_items[fold.key] = item
                    self.addItem(item)
                item.setPos(self._shifted(x, y, offsets[fold.key]))
        drawn = {nid: self.display_pos(nid) for nid in self.node_items}
        self._offsets = {nid: grow.get(nid, 0.0) + offsets.get(nid, 0.0) for nid in self.node_items}
        stand_in: dict[str, Any] = {n: self.fold_items[k] for n, k in hidden.items()}
        for nid, peek in self.peeks.items():
            peek.setVisible(nid not in hidden)
            peek.setPos(self.display_pos(nid))
            if nid not in hidden:
                stand_in[nid] = peek
        for nid, item in self.node_items.items():
            item.setVisible(nid not in stand_in)
            if item.pos() == drawn[nid]:  # not in the middle of a drag
                item.setPos(self.display_pos(nid))
        return stand_in

    def _box(self, x: float, y: float, shift: float, size: tuple[float, float]) -> Any:
        if self.direction == TOP_TO_BOTTOM:
            return (x, y + shift, *size)
        return (x + shift, y, *size)

    def _peek_room(self) -> dict[str, float]:
        """How far each layer moves along the flow to make room for the blocks open for
        reading before it."""
        a = 1 if self.direction == TOP_TO_BOTTOM else 0
        grow: dict[str, float] = {}
        for block_id, peek in self.peeks.items():
            end = self.graph.nodes[block_id].position[a] + self.node_items[block_id].size[a]
            extra = peek.size[a] - self.node_items[block_id].size[a]
            for nid, node in self.graph.nodes.items():
                if nid != block_id and node.position[a] >= end - 1.0:
                    grow[nid] = grow.get(nid, 0.0) + extra
        return grow

    def open_block(self, node_id: str) -> bool:
        """Show a block node's layers in place for reading (the model keeps its block)."""
        node = self.graph.nodes.get(node_id)
        if node is None or node_id in self.peeks or not layer_info(node.layer_type).is_block:
            return False
        try:
            inner = block_graph(node.params, f"block '{node.name}'")
        except GraphError:
            return False
        peek = PeekItem(node_id, node.name, inner, self.direction, self.close_block)
        self.peeks[node_id] = peek
        self.addItem(peek)
        self.reroute()
        return True

    def close_block(self, node_id: str) -> None:
        peek = self.peeks.pop(node_id, None)
        if peek is not None:
            self.removeItem(peek)
            self.reroute()

    def _close_stale_peeks(self) -> None:
        """Blocks deleted, changed or turned since they were opened are closed."""
        for nid, peek in list(self.peeks.items()):
            node = self.graph.nodes.get(nid)
            if node is None or peek.direction != self.direction:
                self.removeItem(self.peeks.pop(nid))

    def _shifted(self, x: float, y: float, shift: float) -> QPointF:
        return QPointF(x, y + shift) if self.direction == TOP_TO_BOTTOM else QPointF(x + shift, y)

    def expand(self, key: str) -> None:
        """Open a collapsed fold in place: its layers appear, the rest moves to make room."""
        self.collapsed.discard(key)
        self.reroute()

    def expand_all(self) -> None:
        self.collapsed.clear()
        self.reroute()

    def collapse_blocks(self) -> int:
        """Collapse the graph into its blocks (found again from its names and structure)."""
        self.folds = find_folds(self.graph)
        self.collapsed = {f.key for f in self.folds}
        self.reroute()
        return len(self.folds)

    def collapse_around(self, node_id: str) -> str | None:
        """Collapse the innermost open fold holding a node; its label, or None."""
        holding = [f for f in self.folds if node_id in f.members and f.key not in self.collapsed]
        if not holding:
            return None
        fold = min(holding, key=lambda f: len(f.members))
        self.collapsed.add(fold.key)
        self.reroute()
        return fold.label

    def reveal(self, node_id: str) -> None:
        """Expand every fold hiding a node (selecting a layer by name, an error's layer)."""
        hiding = {f.key for f in self.folds if node_id in f.members} & self.collapsed
        if hiding:
            self.collapsed -= hiding
            self.reroute()

    def visible_rect(self) -> QRectF:
        """What is shown of the graph: its visible layers and collapsed folds."""
        rect = QRectF()
        items: list[Any] = [i for i in self.node_items.values() if i.isVisible()]
        for item in [*items, *self.fold_items.values()]:
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def drop_spot(self, centre: QPointF) -> tuple[float, float]:
        """The top-left corner of a new node centred at `centre`, moved to the nearest place
        where it overlaps nothing (snapped to the grid)."""
        w, h = node_size(1, 1, self.direction)
        boxes = [(i.pos().x(), i.pos().y(), *i.size) for i in self.node_items.values()]
        boxes += [(i.pos().x(), i.pos().y(), *i.size) for i in self.fold_items.values()]
        snap = theme.GRID / 2
        want = (
            round((centre.x() - w / 2) / snap) * snap,
            round((centre.y() - h / 2) / snap) * snap,
        )
        x, y = free_spot(boxes, want, (w, h))
        shift = self._offsets_at(x, y)
        return (x, y - shift) if self.direction == TOP_TO_BOTTOM else (x - shift, y)

    def spot_after(self, node_id: str) -> QPointF:
        """The centre of a free place one row after a node (below it, or right of it)."""
        item = self.node_items[node_id]
        w, h = item.size
        if self.direction == TOP_TO_BOTTOM:
            return item.pos() + QPointF(w / 2, h + LAYER_GAP + h / 2)
        return item.pos() + QPointF(w + LAYER_GAP + w / 2, h / 2)

    def _offsets_at(self, x: float, y: float) -> float:
        """The display shift (folds) of the drawing where a new node lands: that of the nearest
        shown node before it along the flow, so the model position comes out right."""
        along = y if self.direction == TOP_TO_BOTTOM else x
        best, shift = float("-inf"), 0.0
        for nid, item in self.node_items.items():
            at = item.pos().y() if self.direction == TOP_TO_BOTTOM else item.pos().x()
            if item.isVisible() and best < at <= along:
                best, shift = at, self._offsets.get(nid, 0.0)
        return shift
