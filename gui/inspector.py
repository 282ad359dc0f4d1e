"""The inspector: the selected node's name and parameters, with an editor per parameter type.

Editors are built from the Keras-derived `backend.catalog.LayerSpec`; edits go to the graph
model, and the inspector re-reads the node when the model announces a change.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backend.catalog import ParamSpec, layer_spec
from backend.commands import Rename, SetOutputs, SetParams, UndoStack
from backend.graph import LayerGraph
from backend.live_shapes import LiveShapes
from backend.shapes import format_shape
from gui import inner_layer_editor


class Inspector(QScrollArea):
    def __init__(
        self, graph: LayerGraph, live: LiveShapes, undo: UndoStack, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.graph = graph
        self.undo = undo
        self.live = live
        self.node_id: str | None = None
        self.ready = False
        self.editors: dict[str, QWidget] = {}
        self.setWidgetResizable(True)
        self.setObjectName("inspector")
        graph.params_changed.connect(self._on_params_changed)
        graph.node_renamed.connect(self._on_params_changed)
        graph.node_removed.connect(self._on_node_removed)
        graph.outputs_changed.connect(self._on_outputs_changed)
        live.updated.connect(self._update_status)
        self.show_node(None)

    def set_ready(self) -> None:
        self.ready = True
        self.show_node(self.node_id)

    # ----------------------------------------------------------------- building
    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if node_id in self.graph.nodes else None
        self.editors = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("inspector_status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        if self.node_id is None:
            self.title.setText("<i>Select a layer to edit its parameters.</i>")
            self.setWidget(body)
            return
        node = self.graph.nodes[self.node_id]
        spec_info = node.layer_type
        self.title.setText(f"<b>{spec_info}</b>")
        layout.addWidget(self.status)
        form = QFormLayout()
        name_edit = QLineEdit(node.name)
        name_edit.setObjectName("param_name")
        name_edit.editingFinished.connect(lambda: self._rename(name_edit))
        form.addRow("name", name_edit)
        self.editors["name"] = name_edit
        output_box = QCheckBox("model output")
        output_box.setObjectName("param_is_output")
        output_box.setChecked(self.node_id in self.graph.explicit_outputs)
        output_box.toggled.connect(self._set_output)
        form.addRow("", output_box)
        self.output_box = output_box
        layout.addLayout(form)
        if not self.ready:
            layout.addWidget(QLabel("<i>Loading Keras… parameters appear in a moment.</i>"))
            self.setWidget(body)
            self._update_status()
            return
        note = inner_layer_editor.shared_note(self.graph, node)  # applies another's layer
        if note is not None:
            layout.addWidget(note)
            self.setWidget(body)
            self._update_status()
            return
        spec = layer_spec(node.layer_type)
        advanced = QGroupBox("Advanced")
        advanced.setCheckable(True)
        advanced.setChecked(False)
        adv_form = QFormLayout(advanced)
        advanced_rows: list[QWidget] = []
        for param in spec.params:
            editor = self._editor_for(param, node.params.get(param.name, param.default))
            editor.setObjectName(f"param_{param.name}")
            editor.setToolTip(f"{param.name} (default: {param.format_text(param.default)})")
            self.editors[param.name] = editor
            if param.advanced:
                adv_form.addRow(param.name, editor)
                advanced_rows.append(editor)
            else:
                form.addRow(param.name, editor)
        if advanced_rows:
            layout.addWidget(advanced)

            def toggle(on: bool) -> None:
                for row in advanced_rows:
                    row.setVisible(on)
                    label = adv_form.labelForField(row)
                    if label is not None:
                        label.setVisible(on)

            advanced.toggled.connect(toggle)
            toggle(False)
        self.setWidget(body)
        self._update_status()

    def _editor_for(self, param: ParamSpec, value: Any) -> QWidget:
        return inner_layer_editor.param_editor(
            param, value, lambda v, p=param: self._commit(p, v), self.status.setText
        )

    # ----------------------------------------------------------------- edits -> model
    def _commit(self, param: ParamSpec, value: Any) -> None:
        if self.node_id is None:
            return
        node = self.graph.nodes[self.node_id]
        current = node.params.get(param.name, param.default)
        if _same(current, value):
            return
        if not param.required and _same(value, param.default):
            self.undo.push(SetParams(self.node_id, reset=[param.name]))
        else:
            self.undo.push(SetParams(self.node_id, {param.name: value}))

    def _rename(self, edit: QLineEdit) -> None:
        if self.node_id is None:
            return
        if edit.text() != self.graph.nodes[self.node_id].name:
            edit.setText(self.undo.push(Rename(self.node_id, edit.text())).name)

    def _set_output(self, on: bool) -> None:
        if self.node_id is None:
            return
        outputs = self.graph.explicit_outputs
        if on and self.node_id not in outputs:
            self.undo.push(SetOutputs([*outputs, self.node_id], "Mark as model output"))
        elif not on and self.node_id in outputs:
            self.undo.push(SetOutputs([o for o in outputs if o != self.node_id], "Unmark output"))

    # ----------------------------------------------------------------- model -> view
    def _on_params_changed(self, node_id: str) -> None:
        if node_id != self.node_id:
            return
        node = self.graph.nodes[node_id]
        for name, editor in self.editors.items():
            if name == "name":
                if isinstance(editor, QLineEdit) and editor.text() != node.name:
                    editor.setText(node.name)
                continue
            if not self.ready:
                continue
            param = layer_spec(node.layer_type).param(name)
            value = node.params.get(name, param.default)
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                index = editor.findData(value)
                if index >= 0:
                    editor.setCurrentIndex(index)
            elif isinstance(editor, QLineEdit):
                editor.setText(param.format_text(value))
            elif isinstance(editor, inner_layer_editor.InnerEditor):
                editor.set_value(value)
            editor.blockSignals(False)

    def _on_outputs_changed(self) -> None:
        if self.node_id is not None and hasattr(self, "output_box"):
            self.output_box.blockSignals(True)
            self.output_box.setChecked(self.node_id in self.graph.explicit_outputs)
            self.output_box.blockSignals(False)

    def _on_node_removed(self, node: Any) -> None:
        if node.id == self.node_id:
            self.show_node(None)

    def _update_status(self) -> None:
        if self.node_id is None or self.node_id not in self.graph.nodes:
            return
        result = self.live.results.get(self.node_id)
        if result is None:
            self.status.setText("")
        elif result.error:
            self.status.setText(f"<span style='color:#D62728'>⚠ {result.error}</span>")
        elif result.blocked:
            self.status.setText("<i>no shape: a layer before this one has an error</i>")
        else:
            self.status.setText(f"output shape <b>{format_shape(result.shape)}</b>")


def _same(a: Any, b: Any) -> bool:
    def norm(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return bool(norm(a) == norm(b))
