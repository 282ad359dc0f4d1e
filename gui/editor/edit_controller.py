"""Edit menu and palette gestures on the canvas: add, clipboard, duplicate, select, layout,
undo and redo, group into a block and ungroup.

Every graph change is one undoable command pushed on the project's `UndoStack`; the canvas and
panels follow from the model's events. Clipboard data is the app's own JSON (also as text), so
layers paste between windows and projects.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, QObject, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QWidget

from backend.document.graph import GraphError, LayerGraph, new_node_id
from backend.document.layer_table import UnknownLayerError, layer_info
from backend.editing import clipboard
from backend.editing.blocks import DEFAULT_BLOCK_NAME, group
from backend.editing.commands import AddNode, Connect, Macro, UndoStack
from backend.keras_bridge.live_shapes import LiveShapes
from gui.canvas.scene import GraphScene
from gui.canvas.view import CanvasView
from gui.runtime.prompts import Prompts


class EditController(QObject):
    def __init__(
        self,
        graph: LayerGraph,
        undo: UndoStack,
        scene: GraphScene,
        view: CanvasView,
        live: LiveShapes,
        prompts: Prompts,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.graph = graph
        self.undo = undo
        self.scene = scene
        self.view = view
        self.live = live
        self.prompts = prompts
        self.dialog_parent = parent

    # ----------------------------------------------------------------- adding layers
    def add_layer_at(self, layer_type: str, pos: QPointF) -> None:
        """A palette drop: on an edge it splices the layer in, elsewhere it just places it."""
        edge = self.scene.edge_at(pos)
        if edge is not None:
            node_id = self.scene.insert_on_edge(layer_type, edge, pos)
            if node_id is not None:
                self.scene.select_node(node_id)
            return
        node = self.scene.add_layer(layer_type, pos)
        if node is not None:
            self.scene.select_node(node.id)

    def add_layer_here(self, layer_type: str) -> None:
        """Add from the palette by keyboard: one row after the selected node (below it, or
        right of it), connected to it; else at the view's centre. Either way at the nearest
        free place, and scrolled into view."""
        selected = self.scene.selected_node_ids()
        if selected:
            centre = self.scene.spot_after(selected[0])
        else:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
        spot = self.scene.drop_spot(centre)
        node_id = new_node_id()
        add = AddNode(layer_type, position=spot, node_id=node_id)
        command: Any = add
        if selected:
            label = f"Add {layer_type} after '{self.graph.nodes[selected[0]].name}'"
            command = Macro(label, [add, Connect(selected[0], node_id)])
        try:
            self.undo.push(command)
        except GraphError as exc:  # e.g. an Input cannot take an input: add it unconnected
            self.prompts.status(f"added unconnected: {exc}", 5000)
            self.undo.push(AddNode(layer_type, position=spot, node_id=node_id))
        self.scene.select_node(node_id)
        self.view.ensureVisible(self.scene.node_items[node_id])

    # ----------------------------------------------------------------- selection
    def select_all(self) -> None:
        for item in self.scene.node_items.values():
            item.setSelected(True)

    def select_by_name(self, name: str) -> bool:
        """Select and show the layer called `name` (an alert or an error points at it)."""
        node = next((n for n in self.graph.nodes.values() if n.name == name), None)
        if node is None:
            return False
        self.scene.select_node(node.id)
        self.view.centerOn(self.scene.node_items[node.id])
        return True

    def _select(self, ids: list[str]) -> None:
        self.scene.clearSelection()
        for nid in ids:
            self.scene.node_items[nid].setSelected(True)

    # ----------------------------------------------------------------- clipboard
    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        mime = QMimeData()
        text = clipboard.to_text(clipboard.copy_nodes(self.graph, ids))
        mime.setData(clipboard.CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.prompts.status(f"Copied {len(ids)} layer(s)", 3000)
        return True

    def cut(self) -> None:
        if self.copy():
            self.scene.delete_selection()

    def paste(self) -> list[str]:
        """Paste layers from the system clipboard (also from another window or project)."""
        mime = QGuiApplication.clipboard().mimeData()
        raw = mime.data(clipboard.CLIPBOARD_MIME) if mime is not None else None
        text = bytes(raw.data()).decode("utf-8") if raw else (mime.text() if mime else "")
        try:
            data = clipboard.from_text(text)
            command = self.undo.push(clipboard.paste_command(self.graph, data))
        except (GraphError, UnknownLayerError) as exc:
            self.prompts.status(f"Cannot paste: {exc}", 5000)
            return []
        ids = clipboard.pasted_ids(command)
        self._select(ids)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        data = clipboard.copy_nodes(self.graph, ids)
        command = self.undo.push(clipboard.paste_command(self.graph, data, verb="Duplicate"))
        new = clipboard.pasted_ids(command)
        self._select(new)
        return new

    # ----------------------------------------------------------------- layout, undo
    def auto_layout(self) -> None:
        """Lay out the selection if there is one (two or more layers), else the whole graph:
        the scene's layout, with the real node sizes and the user's direction, one undo step."""
        selected = self.scene.selected_node_ids()
        self.scene.arrange(selected if len(selected) > 1 else None)
        self.view.fit_all()

    def undo_last(self) -> None:
        label = self.undo.undo()
        if label:
            self.prompts.status(f"Undid: {label}")

    def redo_last(self) -> None:
        label = self.undo.redo()
        if label:
            self.prompts.status(f"Redid: {label}")

    # ----------------------------------------------------------------- blocks
    def group_selection(self, name: str | None = None) -> bool:
        """Group the canvas selection into a block (asks for its name unless given)."""
        selected = self.scene.selected_node_ids()
        if not selected:
            self.prompts.status("Select the layers to group first.", 5000)
            return False
        if name is None:
            name, ok = QInputDialog.getText(
                self.dialog_parent, "Group into block", "Block name:", text="block"
            )
            if not ok:
                return False
        try:
            command = group(
                self.graph, selected, name.strip() or DEFAULT_BLOCK_NAME, self.live.results
            )
            self.undo.push(command)
        except GraphError as exc:
            self.prompts.status(f"Cannot group: {exc}", 8000)
            return False
        block_id = next(c.node_id for c in command.commands if hasattr(c, "layer_type"))
        self.scene.select_node(block_id)
        return True

    def ungroup_selection(self) -> bool:
        """Put the selected block's layers back where it stood, wired as they were; the rest
        of the drawing makes room (one undo step; a large block's layers show folded)."""
        ids = self.scene.selected_node_ids()
        blocks = [nid for nid in ids if layer_info(self.graph.nodes[nid].layer_type).is_block]
        if len(blocks) != 1:
            self.prompts.status("Select one block to ungroup.", 5000)
            return False
        node = self.graph.nodes[blocks[0]]
        if isinstance(node.params.get("pretrained"), dict) and not self.prompts.confirm(
            "Ungroup a pretrained backbone?",
            f"'{node.name}' comes apart into its layers as your own: they are no longer frozen "
            "and its pretrained weights no longer apply to them (they start untrained). "
            "Double-click it instead to read its layers in place. Ungroup anyway? "
            "(Edit > Undo puts it back.)",
        ):
            return False
        return bool(self.scene.expand_block(blocks[0]))  # a refusal says why in the status bar
