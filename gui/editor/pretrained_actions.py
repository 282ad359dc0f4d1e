"""Wires the pretrained pieces into a main window: the palette's Pretrained section and the
Start tab's "Start from a pretrained network…" open the pretrained dialog, whose project
replaces the window's (asking about unsaved work), and a "Fine-tune backbone…" action
unfreezes the top layers and continues the last run.

`install_pretrained(window)` needs the window's `palette`, `start_panel`, `files.new_project`,
`workflow`, `training.start(continue_from)` and `prompts.show_error(title, text)`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from backend.document.graph import LayerGraph
from backend.exchange.pretrained import backbone_nodes, fine_tune_command, layer_nodes
from backend.exchange.pretrained_catalog import SMALLEST
from gui.editor.pretrained_dialog import FineTuneDialog, PretrainedDialog


def install_pretrained(window: Any, menu: Any = None) -> QAction:
    """Connect the palette and add the fine-tune action (to `menu` when given)."""

    def open_dialog(name: str) -> None:
        dialog = PretrainedDialog(window, chosen=name)
        dialog.project_ready.connect(lambda project: opened(window, project))
        dialog.open()

    window.palette.pretrained_activated.connect(open_dialog)
    window.start_panel.pretrained_requested.connect(lambda: open_dialog(SMALLEST))
    action = QAction("Fine-tune backbone…", window)
    action.setObjectName("fine_tune_action")
    action.triggered.connect(lambda: fine_tune(window))
    if menu is not None:
        menu.addAction(action)
    return action


def opened(window: Any, project: Any) -> bool:
    """The dialog's project replaces the window's (asking about unsaved work); the status bar
    says what it is: which backbone, its weights, the head."""
    if not window.files.new_project(project):
        return False
    window.prompts.status(project.description, 15000)
    return True


def fine_tune(window: Any, dialog: Any = None) -> bool:
    """Unfreeze the backbone's top layers at a lower learning rate, then train on from the
    run whose weights are current: one undo step, a new run continuing the last one."""
    workflow = window.workflow
    blocks = backbone_nodes(workflow.project.graph)
    run = workflow.weights.run
    if not blocks or run is None:
        window.prompts.show_error(
            "Cannot fine-tune yet",
            "Fine-tuning continues a run of a project with a pretrained backbone: "
            "train the new head first (the backbone frozen), then fine-tune.",
        )
        return False
    node = workflow.project.graph.nodes[blocks[0]]
    layers = len(layer_nodes(LayerGraph.from_dict(node.params["graph"])))
    dialog = dialog or FineTuneDialog(layers, workflow.project.training.learning_rate, window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    command = fine_tune_command(
        workflow.project, blocks[0], dialog.top.value(), dialog.factor.value()
    )
    workflow.undo.push(command)
    return bool(window.training.start(run.id))
