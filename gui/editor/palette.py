"""The layer palette: categories from the layer table, searchable, drag to the canvas."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from backend.concepts import docs_url
from backend.document.layer_table import layers_by_category
from backend.exchange.pretrained_catalog import BACKBONES
from gui.canvas.view import LAYER_MIME
from gui.runtime import theme

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
DESC_ROLE = Qt.ItemDataRole.UserRole + 2
PRETRAINED_ROLE = Qt.ItemDataRole.UserRole + 3
PRETRAINED = "Pretrained"


class LayerTree(QTreeWidget):
    """Tree of categories and layers; dragging a layer carries its type name."""

    def startDrag(self, supported_actions: Any) -> None:
        item = self.currentItem()
        layer_type = item.data(0, TYPE_ROLE) if item is not None else None
        if not layer_type:
            return
        mime = QMimeData()
        mime.setData(LAYER_MIME, layer_type.encode("utf-8"))
        mime.setText(layer_type)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Emits `layer_activated(type)` on double-click or Enter (adds the layer to the canvas);
    a backbone of the "Pretrained" section emits `pretrained_activated(name)` instead."""

    layer_activated = Signal(str)
    layer_selected = Signal(str)
    pretrained_activated = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setObjectName("palette")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        for category, infos in layers_by_category().items():
            if not infos:
                continue
            parent = QTreeWidgetItem(self.tree, [category])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            parent.setForeground(0, QBrush(theme.category_color(category)))
            for info in infos:
                child = QTreeWidgetItem(parent, [info.type_name])
                child.setData(0, TYPE_ROLE, info.type_name)
                child.setData(0, DESC_ROLE, info.description.lower())
                child.setToolTip(
                    0,
                    f"<b>{info.type_name}</b><br>{info.description}<br>"
                    f"<i>Keras docs: {docs_url(info.category)}</i>",
                )
                child.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self.items[info.type_name] = child
            parent.setExpanded(True)
        self._add_pretrained()
        self.search.textChanged.connect(self.filter)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.currentItemChanged.connect(self._on_current)
        self.search.returnPressed.connect(self._activate_first_visible)

    def _add_pretrained(self) -> None:
        """keras.applications backbones: activating one opens the pretrained dialog."""
        parent = QTreeWidgetItem(self.tree, [PRETRAINED])
        parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for entry in BACKBONES.values():
            child = QTreeWidgetItem(parent, [entry.name])
            child.setData(0, PRETRAINED_ROLE, entry.name)
            text = f"pretrained on imagenet, {entry.params / 1e6:.1f} m parameters"
            child.setData(0, DESC_ROLE, text)
            child.setToolTip(
                0,
                f"<b>{entry.name}</b><br>A keras.applications network pretrained on ImageNet, "
                f"without its classifier: {entry.params / 1e6:.1f} M parameters. Double-click "
                "to start a transfer-learning project.",
            )
        parent.setExpanded(False)

    def filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(i)
            visible = 0
            for j in range(parent.childCount()):
                child = parent.child(j)
                name = child.text(0).lower()
                desc = child.data(0, DESC_ROLE) or ""
                show = not needle or needle in name or needle in desc
                child.setHidden(not show)
                visible += show
            parent.setHidden(visible == 0)
            if needle and visible and parent.text(0) == PRETRAINED:
                parent.setExpanded(True)  # folded by default: a match must be seen

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items.items() if not item.isHidden()]

    def _on_current(self, item: QTreeWidgetItem | None, _previous: Any) -> None:
        layer_type = item.data(0, TYPE_ROLE) if item is not None else None
        if layer_type:
            self.layer_selected.emit(layer_type)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, PRETRAINED_ROLE):
            self.pretrained_activated.emit(item.data(0, PRETRAINED_ROLE))
            return
        layer_type = item.data(0, TYPE_ROLE)
        if layer_type:
            self.layer_activated.emit(layer_type)

    def _activate_first_visible(self) -> None:
        """Enter in the search box: the first match, a layer or a pretrained network."""
        for i in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(i)
            for j in range(parent.childCount()):
                child = parent.child(j)
                if not parent.isHidden() and not child.isHidden():
                    self._on_activated(child, 0)
                    return
