"""Inspector editors for what a node holds inside: a wrapper's inner layer and a block's layers.

A wrapper (Bidirectional, TimeDistributed, SpectralNormalization) gets a layer-type combo and
the inner layer's own parameters; a block gets the list of its layers and the parameters of the
chosen one. Every change is reported as the node's whole new parameter value, which the
inspector pushes as one undoable SetParams. A node that applies another node's layer again
shows a note instead of editors.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from backend.document.graph import LayerGraph, Node
from backend.document.layer_table import layer_info
from backend.keras_bridge.catalog import ParamSpec, default_inner_layer, layer_spec

KINDS = ("layer", "graph")
NONE_LABEL = "(none)"
Commit = Callable[[Any], None]


def param_editor(
    param: ParamSpec, value: Any, commit: Commit, on_error: Callable[[str], None]
) -> QWidget:
    """The editor of one layer parameter, by its kind: a check box, a combo of choices, a
    nested layer editor, or a line edit whose text is parsed (`on_error` gets the message
    when it does not parse). The inspector and the nested editors both use it."""
    if param.kind in KINDS:
        return editor_for(param, value, commit)
    if param.kind == "bool":
        box = QCheckBox()
        box.setChecked(bool(value))
        box.toggled.connect(commit)
        return box
    if param.kind == "choice":
        combo = QComboBox()
        choices = list(param.choices) + ([] if value in param.choices else [value])
        for choice in choices:
            combo.addItem(NONE_LABEL if choice is None else str(choice), choice)
        combo.setCurrentIndex(choices.index(value))
        combo.currentIndexChanged.connect(lambda i: commit(combo.itemData(i)))
        return combo
    edit = QLineEdit(param.format_text(value))
    if param.kind in ("optional_int", "optional_float", "json") or param.default is None:
        edit.setPlaceholderText(NONE_LABEL)

    def parse() -> None:
        try:
            parsed = param.parse_text(edit.text())
        except ValueError as exc:
            on_error(f"<span style='color:#D62728'>{exc}</span>")
            return
        commit(parsed)

    edit.editingFinished.connect(parse)
    return edit


def editor_for(param: ParamSpec, value: Any, commit: Commit) -> QWidget:
    """The editor of a 'layer' or 'graph' parameter."""
    if param.kind == "layer":
        return InnerLayerEditor(param, value, commit)
    return BlockEditor(value, commit)


def shared_note(graph: LayerGraph, node: Node) -> QLabel | None:
    """For a node that applies another node's layer: who owns it (None for other nodes)."""
    owner_id = node.params.get("shares")
    if owner_id is None:
        return None
    owner = graph.nodes.get(str(owner_id))
    what = f"<b>{owner.name}</b>" if owner is not None else "a layer that no longer exists"
    label = QLabel(
        f"Applies the layer of {what} again, with the same weights. Edit that node to change both."
    )
    label.setObjectName("shared_note")
    label.setWordWrap(True)
    return label


class ParamForm(QWidget):
    """Editors for one layer's main parameters; each edit reports the whole params dict."""

    def __init__(self, type_name: str, params: dict[str, Any], on_change: Commit) -> None:
        super().__init__()
        self.type_name = type_name
        self.params = dict(params)
        self.on_change = on_change
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.error = QLabel()
        self.error.setObjectName("inner_error")
        self.error.setWordWrap(True)
        for param in layer_spec(type_name).params:
            if param.advanced and param.name not in self.params:
                continue
            editor = self._editor(param, self.params.get(param.name, param.default))
            editor.setObjectName(f"inner_{param.name}")
            self.editors[param.name] = editor
            form.addRow(param.name, editor)
        form.addRow(self.error)

    def _editor(self, param: ParamSpec, value: Any) -> QWidget:
        def commit(new: Any, p: ParamSpec = param) -> None:
            self.error.setText("")
            self._set(p, new)

        return param_editor(param, value, commit, self.error.setText)

    def _set(self, param: ParamSpec, value: Any) -> None:
        new = dict(self.params)
        if not param.required and _same(value, param.default):
            new.pop(param.name, None)
        else:
            new[param.name] = value
        if new != self.params:
            self.params = new
            self.on_change(copy.deepcopy(new))


class InnerEditor(QWidget):
    """Common to both editors: `set_value` when the model changes (undo, another view)."""

    def set_value(self, value: Any) -> None:
        raise NotImplementedError


class InnerLayerEditor(InnerEditor):
    """A wrapper's inner layer: its type (from the wrapper's choices) and its parameters."""

    def __init__(self, param: ParamSpec, value: Any, commit: Commit) -> None:
        super().__init__()
        self.param = param
        self.commit = commit
        self.value: Any = None
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("inner_type")
        self.box.addWidget(self.type_combo)
        self.form: ParamForm | None = None
        self.type_combo.currentIndexChanged.connect(self._type_chosen)
        self.set_value(value)

    def set_value(self, value: Any) -> None:
        self.value = copy.deepcopy(value)
        current = value.get("type") if isinstance(value, dict) else None
        choices = list(self.param.choices)
        if not self.param.required:
            choices.insert(0, None)
        if current not in choices:
            choices.append(current)
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        for choice in choices:
            self.type_combo.addItem(NONE_LABEL if choice is None else str(choice), choice)
        self.type_combo.setCurrentIndex(choices.index(current))
        self.type_combo.blockSignals(False)
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
            self.form = None
        if isinstance(value, dict) and current is not None:
            self.form = ParamForm(str(current), dict(value.get("params") or {}), self._params)
            self.box.addWidget(self.form)

    def _type_chosen(self, index: int) -> None:
        chosen = self.type_combo.itemData(index)
        value = None if chosen is None else default_inner_layer(str(chosen))
        self.set_value(value)
        self.commit(copy.deepcopy(value))

    def _params(self, params: dict[str, Any]) -> None:
        value = {**self.value, "params": params}
        self.value = value
        self.commit(copy.deepcopy(value))


class BlockEditor(InnerEditor):
    """A block's layers: pick one to edit its parameters inside the block."""

    def __init__(self, value: Any, commit: Commit) -> None:
        super().__init__()
        self.commit = commit
        self.graph: dict[str, Any] = {}
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setObjectName("block_summary")
        self.summary.setWordWrap(True)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("block_layer")
        # A backbone's long layer names must not widen the Inspector past its dock.
        self.layer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layer_combo.setMinimumContentsLength(16)
        self.box.addWidget(self.summary)
        self.box.addWidget(self.layer_combo)
        self.form: ParamForm | None = None
        self.layer_combo.currentIndexChanged.connect(lambda _i: self._show_layer())
        self.set_value(value)

    def set_value(self, value: Any) -> None:
        self.graph = copy.deepcopy(value) if isinstance(value, dict) else {}
        nodes = [n for n in self.graph.get("nodes", []) if _is_layer(n)]
        chosen = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for node in nodes:
            self.layer_combo.addItem(f"{node['name']} ({node['type']})", node["id"])
        index = self.layer_combo.findData(chosen)
        self.layer_combo.setCurrentIndex(max(index, 0))
        self.layer_combo.blockSignals(False)
        inputs = len(self.graph.get("nodes", [])) - len(nodes)
        self.summary.setText(
            f"{len(nodes)} layers, {inputs} input(s). Pick a layer to edit it here; "
            "Edit ▸ Ungroup (Ctrl+Shift+G) puts them back on the canvas."
        )
        self._show_layer()

    def _show_layer(self) -> None:
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
            self.form = None
        node_id = self.layer_combo.currentData()
        node = next((n for n in self.graph.get("nodes", []) if n.get("id") == node_id), None)
        if node is None:
            return
        self.form = ParamForm(
            node["type"], dict(node.get("params") or {}), lambda p: self._params(node_id, p)
        )
        self.box.addWidget(self.form)

    def _params(self, node_id: str, params: dict[str, Any]) -> None:
        for node in self.graph.get("nodes", []):
            if node.get("id") == node_id:
                node["params"] = params
        self.commit(copy.deepcopy(self.graph))


def _is_layer(node: Any) -> bool:
    try:
        return isinstance(node, dict) and not layer_info(str(node.get("type"))).is_input
    except KeyError:
        return False


def _same(a: Any, b: Any) -> bool:
    def norm(v: Any) -> Any:
        return [norm(x) for x in v] if isinstance(v, (list, tuple)) else v

    return bool(norm(a) == norm(b))
