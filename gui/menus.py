"""The main window's menus: each action calls a controller (files, editing, training,
exports) or a view; the Edit menu's Undo/Redo follow the undo stack's labels."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from backend.templates.gallery import templates

Key = QKeySequence.StandardKey


def action(window: Any, menu: QMenu, text: str, slot: Any, shortcut: Any = None) -> QAction:
    item = QAction(text, window)
    if shortcut is not None:
        item.setShortcut(QKeySequence(shortcut))
    item.triggered.connect(lambda _checked=False: slot())
    menu.addAction(item)
    return item


def build(window: Any) -> None:
    """File, Edit, View and Run menus of `window` (a `MainWindow`)."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _edit_menu(window, bar.addMenu("&Edit"))
    _view_menu(window, bar.addMenu("&View"))
    run = bar.addMenu("&Run")
    window.train_action = action(window, run, "&Train", window.training.start, "F5")
    window.stop_action = action(window, run, "&Stop", window.training.stop, "Shift+F5")
    window.evaluate_action = action(
        window, run, "&Evaluate on test split", window.evaluation_panel.evaluate, "F6"
    )
    from gui.editor.pretrained_actions import install_pretrained  # pretrained: palette, fine-tune

    window.fine_tune_action = install_pretrained(window, run)


def _file_menu(window: Any, file: QMenu) -> None:
    files, exports = window.files, window.exports
    action(window, file, "&New", files.new_project, Key.New)
    examples = file.addMenu("New from &example")
    for info in templates():
        action(window, examples, info.title, lambda n=info.id: window.open_example(n))
    action(window, file, "&Open…", files.open_dialog, Key.Open)
    action(window, file, "&Save", files.save, Key.Save)
    action(window, file, "Save &As…", files.save_as_dialog, Key.SaveAs)
    file.addSeparator()
    window.import_action = action(
        window,
        file,
        "&Import Keras model…",
        lambda: exports.import_keras_dialog(files.confirm_discard),
        "Ctrl+I",
    )
    action(window, file, "&Export Keras model (.keras)…", exports.export_keras_dialog, "Ctrl+E")
    action(window, file, "Export &as… (TFLite, ONNX…)", exports.export_dialog, "Ctrl+Shift+E")
    window.export_python_action = action(
        window, file, "Export &Python script…", exports.export_python_dialog
    )
    file.addSeparator()
    window.quit_action = action(window, file, "&Quit", window.close)
    # The platform's Quit keys, else Ctrl+Q (some platforms define none): it closes the window,
    # which asks first while a run trains or work is unsaved.
    window.quit_action.setShortcuts(QKeySequence.keyBindings(Key.Quit) or [QKeySequence("Ctrl+Q")])


def _edit_menu(window: Any, edit: QMenu) -> None:
    editing, undo = window.editing, window.undo
    window.undo_action = action(window, edit, "&Undo", editing.undo_last, Key.Undo)
    window.redo_action = action(window, edit, "&Redo", editing.redo_last, "Ctrl+Shift+Z")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    edit.addSeparator()
    action(window, edit, "Cu&t", editing.cut, Key.Cut)
    action(window, edit, "&Copy", editing.copy, Key.Copy)
    action(window, edit, "&Paste", editing.paste, Key.Paste)
    action(window, edit, "D&uplicate", editing.duplicate, "Ctrl+D")
    action(window, edit, "&Delete selection", window.scene.delete_selection, "Del")
    action(window, edit, "Select &all", editing.select_all, Key.SelectAll)
    edit.addSeparator()
    action(window, edit, "&Quick add layer…", window.quick_add.open_fresh, "Ctrl+K")
    action(window, edit, "Auto-&layout", editing.auto_layout, "Ctrl+L")
    edit.addSeparator()
    window.group_action = action(
        window, edit, "&Group into block", editing.group_selection, "Ctrl+G"
    )
    window.ungroup_action = action(
        window, edit, "U&ngroup block", editing.ungroup_selection, "Ctrl+Shift+G"
    )

    def follow_undo() -> None:
        window.undo_action.setEnabled(undo.can_undo)
        window.redo_action.setEnabled(undo.can_redo)
        window.undo_action.setText(f"&Undo {undo.undo_label}".rstrip())
        window.redo_action.setText(f"&Redo {undo.redo_label}".rstrip())

    undo.changed.connect(follow_undo)
    follow_undo()


def _view_menu(window: Any, view: QMenu) -> None:
    canvas = window.view
    action(window, view, "&Fit to window", canvas.fit_all, "Ctrl+0")
    window.minimap_action = action(window, view, "&Minimap", lambda: None, "Ctrl+M")
    window.minimap_action.setCheckable(True)
    window.minimap_action.setChecked(True)
    window.minimap_action.toggled.connect(window.toggle_minimap)
    themes = view.addMenu("&Theme")
    for label, scheme in (
        ("Follow the &system", Qt.ColorScheme.Unknown),
        ("&Light", Qt.ColorScheme.Light),
        ("&Dark", Qt.ColorScheme.Dark),
    ):
        action(window, themes, label, lambda s=scheme: window.set_color_scheme(s))
    action(window, view, "Zoom &in", lambda: canvas.zoom_by(1.25), Key.ZoomIn)
    action(window, view, "Zoom &out", lambda: canvas.zoom_by(0.8), Key.ZoomOut)
    view.addSeparator()
    panels = view.addMenu("&Panels")
    for dock in window.docks.values():
        panels.addAction(dock.toggleViewAction())
