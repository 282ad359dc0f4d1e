"""The graph scene: mirrors a `LayerGraph` and turns mouse gestures into graph edits."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from backend.analysis.fixes import insert_on_edge
from backend.document.graph import Edge, GraphError, LayerGraph, Node
from backend.document.layer_table import UnknownLayerError
from backend.editing.commands import (
    AddNode,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    RemoveNodes,
    UndoStack,
)
from backend.editing.folding import (
    AUTO_FOLD_NODES,
    Fold,
    find_folds,
)
from backend.editing.geometry import (
    DIRECTIONS,
    TOP_TO_BOTTOM,
    Direction,
    flow_direction,
    node_size,
)
from backend.editing.layout import layout_command
from backend.editing.room import expand_block as expand_block_command
from backend.editing.routing import route_edges
from backend.keras_bridge.live_shapes import LiveShapes
from backend.keras_bridge.shapes import format_shape, output_labels, port_shape
from gui.canvas.edge_labels import place_labels
from gui.canvas.fold_items import FoldItem
from gui.canvas.folded_view import FoldedView
from gui.canvas.items import EdgeItem, NodeItem, PortItem, flow_curve, short_shape
from gui.canvas.peek import PeekItem
from gui.runtime import theme

DIRECTION_KEY = "canvas/direction"


def preferred_direction() -> Direction:
    """How the user last chose to lay graphs out (top to bottom until they choose)."""
    value = QSettings().value(DIRECTION_KEY, TOP_TO_BOTTOM)
    return value if value in DIRECTIONS else TOP_TO_BOTTOM  # type: ignore[return-value]


class GraphScene(FoldedView, QGraphicsScene):
    """Canvas items for every node and edge of the graph, kept in step by its events.

    The drawing flows top to bottom or left to right (`direction`: where ports sit, how edges
    curve). A graph that is opened keeps the direction its positions show; a layout sets it.
    Edges are routed around nodes (`backend.editing.routing`) once the model's positions
    settle; while a node is dragged its edges follow as direct curves.
    """

    status_message = Signal(str)
    node_selected = Signal(object)  # node id or None

    def __init__(
        self, graph: LayerGraph, live: LiveShapes, undo: UndoStack, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.graph = graph
        self.undo = undo
        self.live = live
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self._drag_port: PortItem | None = None
        self._reconnect: Edge | None = None
        self._drag_line: QGraphicsPathItem | None = None
        self.direction: Direction = preferred_direction()
        self._fresh = True  # the graph was (re)loaded: read its direction from its positions
        self.folds: list[Fold] = []
        self.collapsed: set[str] = set()
        self.fold_items: dict[str, FoldItem] = {}
        self.peeks: dict[str, PeekItem] = {}
        self._offsets: dict[str, float] = {}
        self._undo_state: tuple[int, Any] = (0, None)
        self._reroute = QTimer(self)
        self._reroute.setSingleShot(True)
        self._reroute.setInterval(0)
        self._reroute.timeout.connect(self.reroute)
        self._subscriptions = [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.edge_added, self._on_edge_added),
            (graph.edge_removed, self._on_edge_removed),
            (graph.params_changed, self._on_node_changed),
            (graph.node_renamed, self._on_node_changed),
            (graph.node_moved, self._on_node_moved),
            (graph.outputs_changed, self._on_outputs_changed),
            (live.updated, self._on_shapes_updated),
            (undo.changed, self._on_undo_changed),
        ]
        for signal, slot in self._subscriptions:
            signal.connect(slot)
        self.selectionChanged.connect(self._on_selection_changed)
        self.setBackgroundBrush(theme.canvas_background())
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        for node in graph.nodes.values():
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_added(edge)
        self._on_outputs_changed()
        self._on_shapes_updated()
        self.reroute()

    def restyle(self) -> None:
        """Re-read theme colours (light/dark) for the background, nodes and edge labels."""
        self.setBackgroundBrush(theme.canvas_background())
        for item in self.node_items.values():
            item.update()
        for edge_item in self.edge_items.values():
            edge_item.update()

    def detach(self) -> None:
        for signal, slot in self._subscriptions:
            signal.disconnect(slot)

    # ----------------------------------------------------------------- model -> items
    def _on_node_added(self, node: Node) -> None:
        item = NodeItem(node)
        item.set_direction(self.direction)
        item.on_moved = self.update_edges_of
        self.node_items[node.id] = item
        self.addItem(item)
        self._reroute.start()
        item.set_shape(self.live.results.get(node.id))
        self._refresh_outputs(node.id)

    def _on_node_removed(self, node: Node) -> None:
        item = self.node_items.pop(node.id, None)
        if item is not None:
            self.removeItem(item)
        if not self.graph.nodes:
            self._fresh = True
        self._reroute.start()

    def _on_edge_added(self, edge: Edge) -> None:
        src, dst = self.node_items[edge.src], self.node_items[edge.dst]
        self._refresh_ports(edge.dst)
        self._refresh_outputs(edge.src)
        item = EdgeItem(edge, src, dst)
        self.edge_items[edge] = item
        self.addItem(item)
        self._refresh_port_marks(edge.src)
        self._label_edge(item)
        self._reroute.start()

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edge_items.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        if edge.dst in self.node_items:
            self._refresh_ports(edge.dst)
        if edge.src in self.node_items:
            self._refresh_outputs(edge.src)
            self._refresh_port_marks(edge.src)
        self._reroute.start()

    def _refresh_ports(self, node_id: str) -> None:
        item = self.node_items[node_id]
        in_edges = self.graph.in_edges(node_id)
        used = max((e.dst_port for e in in_edges), default=-1) + 1
        item.rebuild_ports(used)
        connected = {e.dst_port for e in in_edges}
        for port in item.input_ports:
            port.set_connected(port.index in connected)
        self._reroute.start()

    def _refresh_outputs(self, node_id: str) -> None:
        """One output port per output the node's layer returns (as inferred; while it has no
        shape, as many as before), and never fewer than an edge reads from."""
        item = self.node_items[node_id]
        result = self.live.results.get(node_id)
        count = result.output_count if result is not None and result.ok else item.inferred_outputs
        item.inferred_outputs = count
        used = max((e.src_port for e in self.graph.out_edges(node_id)), default=0) + 1
        node = self.graph.nodes[node_id]
        if item.set_output_labels(output_labels(self.graph, node, max(count, used, 1))):
            self._reroute.start()
            self._refresh_port_marks(node_id)

    def _refresh_port_marks(self, node_id: str) -> None:
        item = self.node_items[node_id]
        used = {e.src_port for e in self.graph.out_edges(node_id)}
        for port in item.output_ports:
            port.set_connected(port.index in used)

    def _on_node_changed(self, node_id: str) -> None:
        item = self.node_items.get(node_id)
        if item is not None:
            if item.info.is_operation:  # its call may now take another number of tensors
                self._refresh_ports(node_id)
            item.refresh()

    def _on_node_moved(self, node_id: str) -> None:
        self._reroute.start()
        item = self.node_items[node_id]
        target = self.display_pos(node_id)
        if item.pos() != target:
            item.setPos(target)

    def _on_outputs_changed(self) -> None:
        explicit = {self.graph.split_output(o)[0] for o in self.graph.explicit_outputs}
        for nid, item in self.node_items.items():
            item.is_output = nid in explicit
            item.update()

    def _on_shapes_updated(self) -> None:
        """Repaint only the nodes whose result changed (results are cached objects)."""
        changed = []
        for nid, item in self.node_items.items():
            result = self.live.results.get(nid)
            if result is not item.shape_result:
                item.set_shape(result)
                changed.append(nid)
        relabelled = False
        for nid in changed:
            self._refresh_outputs(nid)
            for edge in self.graph.out_edges(nid):
                edge_item = self.edge_items.get(edge)
                if edge_item is not None:
                    relabelled |= self._label_edge(edge_item)
        if relabelled:  # placed again: a label's width changed, or one appeared
            self._place_labels()

    def _label_edge(self, item: EdgeItem) -> bool:
        """The edge's label: the shape of the output it reads; True when its text changed."""
        result = port_shape(self.live.results, item.edge)
        ok = result is not None and result.ok
        before = item.label_text
        item.set_shape_text(short_shape(result.shape) if result and ok else "")
        tip = format_shape(result.shape) if result and ok else ""
        labels = self.node_items[item.edge.src].output_labels
        if tip and len(labels) > 1 and item.edge.src_port < len(labels):
            tip = f"{labels[item.edge.src_port]}: {tip}"
        item.setToolTip(tip)
        return item.label_text != before

    def _place_labels(self) -> None:
        """Shape labels clear of the layers shown and of each other, one per fan-out."""
        shown = [*self.node_items.values(), *self.fold_items.values()]
        place_labels(
            self.edge_items.values(), [i.sceneBoundingRect() for i in shown if i.isVisible()]
        )

    def update_edges_of(self, node_id: str) -> None:
        """Direct curves for a node's edges while it is dragged (the routes come back once the
        model has its new position; when a reroute is due anyway, it draws them)."""
        if node_id not in self.graph.nodes or self._reroute.isActive():
            return
        for edge in [*self.graph.in_edges(node_id), *self.graph.out_edges(node_id)]:
            item = self.edge_items.get(edge)
            if item is not None:
                item.update_path()

    # ----------------------------------------------------------------- direction and routes
    def set_direction(self, direction: Direction) -> None:
        """Put every node's ports where a drawing flowing that way needs them."""
        self._fresh = False
        if direction == self.direction:
            return
        self.direction = direction
        for item in self.node_items.values():
            item.set_direction(direction)
        for fold_item in self.fold_items.values():  # drawn again, facing the new way
            self.removeItem(fold_item)
        self.fold_items.clear()
        self.reroute()

    def reroute(self) -> None:
        """Place folds and route every edge around what is shown, where the model puts it."""
        self._reroute.stop()
        if self._fresh and self.graph.nodes:
            self.set_direction(flow_direction(self.graph, preferred_direction()))
            big = len(self.graph.nodes) >= AUTO_FOLD_NODES
            self.folds = find_folds(self.graph) if big else []
            self.collapsed = {f.key for f in self.folds}
            for peek in self.peeks.values():
                self.removeItem(peek)
            self.peeks.clear()
        stand_in = self._place_folds()
        boxes, ends = {}, {}
        for nid, item in self.node_items.items():
            shown = stand_in.get(nid, item)
            boxes[nid] = (shown.pos().x(), shown.pos().y(), *shown.size)
        for edge, edge_item in self.edge_items.items():
            src, dst = stand_in.get(edge.src), stand_in.get(edge.dst)
            edge_item.setVisible(src is None or src is not dst)
            points = edge_item.port_points()
            if not edge_item.isVisible() or points is None or not self._at_rest(edge):
                continue
            p = src.out_point() if src is not None else points[0]
            q = dst.in_point() if dst is not None else points[1]
            ends[edge] = ((p.x(), p.y()), (q.x(), q.y()))
        routes = route_edges(ends, boxes, ends.__getitem__, self.direction)
        for edge, route in routes.items():
            self.edge_items[edge].set_route(route)
        self._place_labels()

    def _at_rest(self, edge: Edge) -> bool:
        """Both ends' items stand where the model puts them (not in the middle of a drag)."""
        ends = (edge.src, edge.dst)
        return all(self.node_items[nid].pos() == self.display_pos(nid) for nid in ends)

    def _on_undo_changed(self) -> None:
        """After an undo or a redo (a layout undone, say), or a move of many layers (a layout
        pushed by any caller), follow the direction the positions now show."""
        done, undone = self.undo.done, self.undo.undone
        count, top = self._undo_state
        redone = bool(done) and top is not None and done[-1] is top
        moved = bool(done) and isinstance(done[-1], MoveNodes) and len(done[-1].moves) > 2
        if len(undone) > count or redone or moved:
            self.set_direction(flow_direction(self.graph, self.direction))
        self._undo_state = (len(undone), undone[-1] if undone else None)

    def layout_command(
        self, node_ids: list[str] | None = None, direction: Direction | None = None
    ) -> Any:
        """The undoable layout of the graph (or of `node_ids`), in `direction`: by default the
        one the user chose for layouts (top to bottom until they pick another), and for a
        selection the drawing's own. The nodes' sizes are those they will be drawn with; None
        if nothing moves."""
        if direction is None:
            direction = preferred_direction() if node_ids is None else self.direction
        sizes = {
            nid: node_size(len(item.input_ports), len(item.output_ports), direction)
            for nid, item in self.node_items.items()
        }
        return layout_command(self.graph, node_ids, direction, sizes)

    def arrange(
        self, node_ids: list[str] | None = None, direction: Direction | None = None
    ) -> bool:
        """Lay out the graph (or a selection) as one undo step; True if anything moved."""
        if direction is not None:
            QSettings().setValue(DIRECTION_KEY, direction)
        else:
            direction = preferred_direction() if node_ids is None else self.direction
        command = self.layout_command(node_ids, direction)
        if command is None:
            return False
        self.undo.push(command)
        self.set_direction(direction)
        return True

    # ----------------------------------------------------------------- gestures -> model
    def add_layer(self, layer_type: str, pos: QPointF) -> Node | None:
        """A layer dropped at `pos`: centred there, or at the nearest free place beside."""
        spot = self.drop_spot(pos)
        try:
            command = self.undo.push(AddNode(layer_type, position=spot))
        except UnknownLayerError as exc:
            self.status_message.emit(str(exc))
            return None
        return self.graph.nodes[command.node_id]

    def connect_ports(self, a: PortItem, b: PortItem) -> Edge | None:
        """Connect two ports dragged onto each other (either direction)."""
        if a.is_output == b.is_output:
            self.status_message.emit("connect an output port (right) to an input port (left)")
            return None
        out, inp = (a, b) if a.is_output else (b, a)
        try:
            command = self.undo.push(
                Connect(out.node_id, inp.node_id, inp.index, src_port=out.index)
            )
        except GraphError as exc:
            self.status_message.emit(f"cannot connect: {exc}")
            return None
        self.status_message.emit(command.label)
        return command._edge

    def delete_selection(self) -> int:
        nodes = [i.node.id for i in self.selectedItems() if isinstance(i, NodeItem)]
        doomed = set(nodes)
        edges = [
            i.edge
            for i in self.selectedItems()
            if isinstance(i, EdgeItem) and not {i.edge.src, i.edge.dst} & doomed
        ]
        commands: list[Any] = []
        if edges:
            commands.append(Disconnect(edges))
        if nodes:
            commands.append(RemoveNodes(nodes))
        if commands:
            label = commands[0].label if len(commands) == 1 else "Delete selection"
            self.undo.push(commands[0] if len(commands) == 1 else Macro(label, commands))
        return len(nodes) + len(edges)

    def selected_node_ids(self) -> list[str]:
        return [i.node.id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def select_node(self, node_id: str) -> None:
        self.reveal(node_id)
        self.clearSelection()
        item = self.node_items.get(node_id)
        if item is not None:
            item.setSelected(True)

    def _on_selection_changed(self) -> None:
        ids = self.selected_node_ids()
        self.node_selected.emit(ids[0] if len(ids) == 1 else None)

    def _port_at(self, pos: QPointF, want_output: bool) -> PortItem | None:
        """The port of the wanted kind under `pos`; a drop anywhere on a node is forgiven."""
        items = self.items(pos)
        for item in items:
            if isinstance(item, PortItem) and item.is_output == want_output:
                return item
        for item in items:
            node_item = item if isinstance(item, NodeItem) else getattr(item, "node_item", None)
            if not isinstance(node_item, NodeItem):
                continue
            if want_output:
                return node_item.output_port
            free = self.graph.free_port(node_item.node.id)
            ports = node_item.input_ports
            return ports[free] if free < len(ports) else None
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        port = next((i for i in self.items(event.scenePos()) if isinstance(i, PortItem)), None)
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            self._reconnect = None
            if not port.is_output:
                held = [e for e in self.graph.in_edges(port.node_id) if e.dst_port == port.index]
                if held:  # pick up the edge's end: drag it to another input, or drop to cut
                    self._reconnect = held[0]
                    self.edge_items[held[0]].setVisible(False)
                    outs = self.node_items[held[0].src].output_ports
                    port = outs[min(held[0].src_port, len(outs) - 1)]
            self._drag_port = port
            self._drag_line = QGraphicsPathItem()
            self._drag_line.setPen(QPen(QColor(theme.SELECTED_COLOR), 2, Qt.PenStyle.DashLine))
            self._drag_line.setZValue(3)
            self.addItem(self._drag_line)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_port is not None and self._drag_line is not None:
            a, b = self._drag_port.scenePos(), event.scenePos()
            a, b = (a, b) if self._drag_port.is_output else (b, a)
            self._drag_line.setPath(flow_curve(a, b, self.direction))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_port is not None:
            start = self._drag_port
            self._drag_port = None
            if self._drag_line is not None:
                self.removeItem(self._drag_line)
                self._drag_line = None
            target = self._port_at(event.scenePos(), want_output=not start.is_output)
            if self._reconnect is not None:
                edge, self._reconnect = self._reconnect, None
                self._finish_reconnect(edge, target)
                if edge in self.edge_items:
                    self.edge_items[edge].setVisible(True)
            elif target is not None and target.node_item is not start.node_item:
                self.connect_ports(start, target)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Double-click a block node (a group, an imported nested model, a pretrained
        backbone) to read its layers in place; the model keeps its block."""
        item = next((i for i in self.items(event.scenePos()) if isinstance(i, NodeItem)), None)
        if item is None or item.node.id not in self.node_items or not item.info.is_block:
            super().mouseDoubleClickEvent(event)
            return
        self.open_block(item.node.id)
        event.accept()

    def expand_block(self, node_id: str) -> list[str]:
        """The edit: replace a block node by its layers where it stood (the rest makes room,
        one undo step; Ctrl+Shift+G); a large one's layers are shown folded by their names.
        Returns the new layers' ids. (Double-click only opens a block for reading.)"""
        before = set(self.graph.nodes)
        try:
            self.undo.push(expand_block_command(self.graph, node_id))
        except GraphError as exc:
            self.status_message.emit(f"cannot expand: {exc}")
            return []
        new = [nid for nid in self.graph.nodes if nid not in before]
        if len(new) >= AUTO_FOLD_NODES:
            revealed = set(new)
            self.folds = [f for f in find_folds(self.graph) if f.members <= revealed]
            self.collapsed = {f.key for f in self.folds}
        self.reroute()
        return new

    def _finish_reconnect(self, edge: Edge, target: PortItem | None) -> None:
        """Move a picked-up edge end to `target`, or cut the edge when dropped elsewhere."""
        if target is not None and (target.node_id, target.index) == (edge.dst, edge.dst_port):
            return  # dropped back where it was
        cut = Disconnect([edge], "Disconnect")
        if target is None or target.node_id == edge.src:
            self.undo.push(cut)
            return
        again = Connect(edge.src, target.node_id, target.index, src_port=edge.src_port)
        move = Macro("Reconnect", [cut, again])
        try:
            self.undo.push(move)
        except GraphError as exc:
            self.status_message.emit(f"cannot reconnect: {exc}")

    def edge_at(self, pos: QPointF) -> Edge | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item.edge
        return None

    def insert_on_edge(self, layer_type: str, edge: Edge, pos: QPointF) -> str | None:
        """Drop a layer onto an edge: it is spliced in between, as one undo step."""
        splice = insert_on_edge(self.graph, edge, layer_type, {}, f"Insert {layer_type}")
        node_id = next(str(c.node_id) for c in splice.commands if isinstance(c, AddNode))
        try:
            self.undo.push(splice)
        except (GraphError, UnknownLayerError) as exc:
            self.status_message.emit(f"cannot insert {layer_type} here: {exc}")
            return None
        return node_id

    def _commit_moves(self) -> None:
        """After a drag: snap moved nodes to the grid and store their positions in the model."""
        snap = theme.GRID / 2
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
        for item in self.node_items.values():
            moved = item.pos() - self.display_pos(item.node.id)
            if abs(moved.x()) < 0.5 and abs(moved.y()) < 0.5:
                continue
            shifted = moved + QPointF(*item.node.position)
            pos = (shifted.x(), shifted.y())
            if pos != item.node.position:
                snapped = (round(pos[0] / snap) * snap, round(pos[1] / snap) * snap)
                moves[item.node.id] = (item.node.position, snapped)
        if moves:
            self.undo.push(MoveNodes(moves))
