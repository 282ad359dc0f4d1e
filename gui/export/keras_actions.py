"""Menu actions for Keras models and blocks: import a model file, export a Python script,
group the selection into a block and ungroup it.

`install(window, file_menu, edit_menu)` adds them to the main window's menus; each action is a
plain function of the window, so tests call them directly with file paths instead of dialogs.
Every graph edit goes through `window.undo.push`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog

from backend.document.graph import GraphError
from backend.document.project import FILE_SUFFIX, ProjectError
from backend.editing.blocks import DEFAULT_BLOCK_NAME, group, ungroup

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5)"


def install(window: Any, file_menu: Any, edit_menu: Any) -> None:
    """Add File > Import Keras model…, File > Export Python…, Edit > Group/Ungroup."""
    window.import_action = window._action(
        file_menu, "&Import Keras model…", lambda: import_keras_dialog(window), "Ctrl+I"
    )
    window.export_python_action = window._action(
        file_menu, "Export &Python script…", lambda: export_python_dialog(window)
    )
    actions = file_menu.actions()  # move both above the separator before Quit
    anchor = actions[-4] if len(actions) >= 4 and actions[-4].isSeparator() else None
    if anchor is not None:
        file_menu.insertActions(anchor, [window.import_action, window.export_python_action])
    edit_menu.addSeparator()
    window.group_action = window._action(
        edit_menu, "&Group into block", lambda: group_selection(window), "Ctrl+G"
    )
    window.ungroup_action = window._action(
        edit_menu, "U&ngroup block", lambda: ungroup_selection(window), "Ctrl+Shift+G"
    )


# ----------------------------------------------------------------- import
def import_keras_dialog(window: Any) -> bool:
    if not window.confirm_discard():
        return False
    model, _ = QFileDialog.getOpenFileName(window, "Import Keras model", "", MODEL_FILTER)
    if not model:
        return False
    suggested = str(Path(model).with_name(Path(model).stem + FILE_SUFFIX))
    target, _ = QFileDialog.getSaveFileName(
        window, "Save the imported project as", suggested, f"DeepCanvas projects (*{FILE_SUFFIX})"
    )
    return import_keras_model(window, model, target or None)


def import_keras_model(window: Any, model: str | Path, project_path: str | Path | None) -> bool:
    """Open `model` as the window's project (weights saved beside `project_path`, or kept in
    the app's folder until saved). On any error the current project stays as it was."""
    if not window.ready:
        window.show_error("Import", "TensorFlow is still loading; try again in a moment.")
        return False
    from backend.exchange.importer import ModelImportError, import_model
    from backend.keras_bridge.weights import WeightsError

    try:
        project = import_model(model, project_path)
    except (ModelImportError, WeightsError, ProjectError) as exc:
        window.show_error("Cannot import model", str(exc))
        return False
    window.replace_project(project)
    if project_path is None:
        window.project.dirty = True
        window._update_title()
    layers = len(project.graph.nodes)
    window.statusBar().showMessage(f"Imported {model}: {layers} layers, weights kept", 6000)
    return True


# ----------------------------------------------------------------- export
def export_python_dialog(window: Any) -> bool:
    path, _ = QFileDialog.getSaveFileName(
        window, "Export Python script", f"{window.project.name}.py", "Python (*.py)"
    )
    return export_python(window, path) if path else False


def export_python(window: Any, path: str | Path) -> bool:
    """Write the project as a runnable Keras script."""
    if not window.ready:
        window.show_error("Export", "TensorFlow is still loading; try again in a moment.")
        return False
    from backend.data import DatasetError
    from backend.exchange.codegen import CodegenError, write_script
    from backend.keras_bridge.compiler import CompileError

    try:
        write_script(window.project, path)
    except (CodegenError, CompileError, DatasetError, OSError) as exc:
        window.show_error("Cannot export the script", str(exc))
        return False
    window.statusBar().showMessage(f"Exported {path} (Python script)", 6000)
    return True


# ----------------------------------------------------------------- blocks
def group_selection(window: Any, name: str | None = None) -> bool:
    """Group the canvas selection into a block (asks for its name unless given)."""
    selected = window.scene.selected_node_ids()
    if not selected:
        window.statusBar().showMessage("Select the layers to group first.", 5000)
        return False
    if name is None:
        name, ok = QInputDialog.getText(window, "Group into block", "Block name:", text="block")
        if not ok:
            return False
    graph = window.project.graph
    try:
        command = group(graph, selected, name.strip() or DEFAULT_BLOCK_NAME, window.live.results)
        window.undo.push(command)
    except GraphError as exc:
        window.statusBar().showMessage(f"Cannot group: {exc}", 8000)
        return False
    block_id = next(c.node_id for c in command.commands if hasattr(c, "layer_type"))
    window.scene.select_node(block_id)
    return True


def ungroup_selection(window: Any) -> bool:
    """Put the selected block's layers back on the canvas, wired as they were."""
    from backend.document.layer_table import layer_info

    graph = window.project.graph
    blocks = [
        nid
        for nid in window.scene.selected_node_ids()
        if layer_info(graph.nodes[nid].layer_type).is_block
    ]
    if len(blocks) != 1:
        window.statusBar().showMessage("Select one block to ungroup.", 5000)
        return False
    try:
        window.undo.push(ungroup(graph, blocks[0]))
    except GraphError as exc:
        window.statusBar().showMessage(f"Cannot ungroup: {exc}", 8000)
        return False
    return True
