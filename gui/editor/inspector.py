"""The inspector: the selected node's name and parameters, with an editor per parameter type.

Editors are built from the Keras-derived `backend.keras_bridge.catalog.LayerSpec`; edits go to the
graph model, and the inspector re-reads the node when the model announces a change. A layer with
several outputs (an LSTM with its states) lists each output's shape and can mark any of them
as a model output; when an edit changes how many it has, the panel is rebuilt.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
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

from backend.document.graph import LayerGraph, output_entry
from backend.editing.commands import Rename, SetOutputs, SetParams, UndoStack
from backend.exchange.pretrained import describe_backbone
from backend.keras_bridge.catalog import ParamSpec, layer_spec
from backend.keras_bridge.live_shapes import LiveShapes
from backend.keras_bridge.shapes import format_shape, output_labels
from gui.editor import inner_layer_editor


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
        self.output_boxes: list[QCheckBox] = []
        """One 'model output' box per output of the node (output 0 is `output_box`)."""
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
        self.about: QLabel | None = None
        """What a pretrained backbone is and what trains (None for other layers)."""
        self.output_boxes = []
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
        labels = self._output_labels()
        self.output_boxes = []
        for port, label in enumerate(labels):
            box = QCheckBox("model output" if len(labels) == 1 else f"model output: {label}")
            box.setObjectName("param_is_output" if port == 0 else f"param_is_output_{port}")
            box.setChecked(output_entry(self.node_id, port) in self.graph.explicit_outputs)
            box.toggled.connect(lambda on, p=port: self._set_output(on, p))
            form.addRow("", box)
            self.output_boxes.append(box)
        self.output_box = self.output_boxes[0]
        layout.addLayout(form)
        if not self.ready:
            layout.addWidget(QLabel("<i>Loading Keras… parameters appear in a moment.</i>"))
            self.setWidget(body)
            self._update_status()
            return
        if isinstance(node.params.get("pretrained"), dict):  # a keras.applications backbone
            self.about = QLabel(f"<i>{describe_backbone(node.params)}</i>")
            self.about.setObjectName("inspector_pretrained")
            self.about.setWordWrap(True)
            layout.insertWidget(layout.indexOf(self.status) + 1, self.about)  # above editors
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

    def _output_labels(self) -> list[str]:
        """The node's outputs as inference last found them (one while it has no shape)."""
        if self.node_id is None:
            return []
        result = self.live.results.get(self.node_id)
        count = result.output_count if result is not None and result.ok else 1
        return output_labels(self.graph, self.graph.nodes[self.node_id], max(count, 1))

    def _set_output(self, on: bool, port: int = 0) -> None:
        if self.node_id is None:
            return
        entry = output_entry(self.node_id, port)
        outputs = self.graph.explicit_outputs
        if on and entry not in outputs:
            self.undo.push(SetOutputs([*outputs, entry], "Mark as model output"))
        elif not on and entry in outputs:
            self.undo.push(SetOutputs([o for o in outputs if o != entry], "Unmark output"))

    # ----------------------------------------------------------------- model -> view
    def _on_params_changed(self, node_id: str) -> None:
        if node_id != self.node_id:
            return
        node = self.graph.nodes[node_id]
        if self.about is not None and isinstance(node.params.get("pretrained"), dict):
            self.about.setText(f"<i>{describe_backbone(node.params)}</i>")  # fine-tuned, undone
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
        if self.node_id is None:
            return
        for port, box in enumerate(self.output_boxes):
            box.blockSignals(True)
            box.setChecked(output_entry(self.node_id, port) in self.graph.explicit_outputs)
            box.blockSignals(False)

    def _on_node_removed(self, node: Any) -> None:
        if node.id == self.node_id:
            self.show_node(None)

    def _update_status(self) -> None:
        if self.node_id is None or self.node_id not in self.graph.nodes:
            return
        result = self.live.results.get(self.node_id)
        if result is not None and result.ok and result.output_count != len(self.output_boxes):
            # its outputs changed (say return_state was ticked): rebuild once this edit is done
            QTimer.singleShot(0, self, lambda node=self.node_id: self._rebuild_for(node))
        if result is None:
            self.status.setText("")
        elif result.error:
            self.status.setText(f"<span style='color:#D62728'>⚠ {result.error}</span>")
        elif result.blocked:
            self.status.setText("<i>no shape: a layer before this one has an error</i>")
        elif result.output_count > 1:
            labels = self._output_labels()
            shapes = [result.port(i) for i in range(result.output_count)]
            rows = [
                f"{label} <b>{format_shape(s.shape if s else None)}</b>"
                for label, s in zip(labels, shapes, strict=False)
            ]
            self.status.setText("output shapes: " + ", ".join(rows))
        else:
            self.status.setText(f"output shape <b>{format_shape(result.shape)}</b>")

    def _rebuild_for(self, node_id: str | None) -> None:
        result = self.live.results.get(node_id) if node_id is not None else None
        if node_id != self.node_id or result is None or not result.ok:
            return
        if result.output_count != len(self.output_boxes):
            self.show_node(node_id)


def _same(a: Any, b: Any) -> bool:
    def norm(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return bool(norm(a) == norm(b))
