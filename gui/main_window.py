"""The main window: palette, canvas, inspector, training panel, menus, status bar."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
)

from backend.analysis.memory import training_memory_warning
from backend.document.graph import GraphError, LayerGraph, new_node_id
from backend.document.layer_table import UnknownLayerError
from backend.document.project import (
    FILE_SUFFIX,
    Project,
    ProjectError,
    load_project,
    save_project,
)
from backend.document.session_files import (
    Autosave,
    discard_autosave,
    recover,
    remember,
    write_autosave,
)
from backend.editing import clipboard
from backend.editing.commands import AddNode, Connect, Macro, UndoStack
from backend.editing.layout import layout_command
from backend.evaluation.insight import DecisionGrid
from backend.keras_bridge.live_shapes import LiveShapes
from backend.keras_bridge.weights import resolved_training
from backend.templates.examples import EXAMPLES
from backend.training.devices import list_devices
from backend.training.trainer import EpochEnd, TrainEnd, TrainResult
from gui.canvas.minimap import Minimap
from gui.canvas.scene import GraphScene
from gui.canvas.view import CanvasView
from gui.data.data_panel import DataPanel
from gui.editor.analysis_panel import AnalysisPanel, show_param_counts
from gui.editor.history_view import HistoryView
from gui.editor.inspector import Inspector
from gui.editor.learn_panel import LearnPanel
from gui.editor.palette import Palette
from gui.editor.quick_add import QuickAdd
from gui.editor.start_panel import StartPanel
from gui.evaluation.evaluation_panel import EvaluationPanel
from gui.evaluation.insight_panel import InsightPanel
from gui.export import keras_actions
from gui.runtime import gc_guard, theme
from gui.runtime.keras_loader import KerasLoader
from gui.training.runs_panel import RunsPanel
from gui.training.training_panel import TrainingPanel
from gui.training.training_worker import TrainingWorker

AUTOSAVE_MS = 60_000
PROJECT_FILTER = f"DeepCanvas projects (*{FILE_SUFFIX} *.json)"


class MainWindow(QMainWindow):
    keras_ready = Signal()
    training_finished = Signal(object)  # TrainResult

    def __init__(self, project: Project | None = None) -> None:
        super().__init__()
        self.collector = gc_guard.install()  # Qt objects are only ever collected on this thread
        self.project = project or Project(LayerGraph())
        self.live = LiveShapes(self.project.graph)
        self.ready = False
        self.worker: TrainingWorker | None = None
        self.last_result: TrainResult | None = None
        self.trained_model: Any = None
        self.loader: KerasLoader | None = None
        self.resize(1400, 900)

        self.session_id = uuid.uuid4().hex[:12]
        self.undo = UndoStack(self.project.graph)
        self.scene = GraphScene(self.project.graph, self.live, self.undo, self)
        self.view = CanvasView(self.scene, self)
        self.setCentralWidget(self.view)
        self.palette = Palette(self)
        self.inspector = Inspector(self.project.graph, self.live, self.undo, self)
        self.history = HistoryView(self.undo, self)
        self.training = TrainingPanel(self.project, self)
        left = self._dock("Layers", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        right = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        bottom = self._dock("Training", self.training, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.analysis_panel = AnalysisPanel(
            self.project, self.live, self.undo, self.scene.select_node, self
        )
        analysis = self._dock(
            "Analysis", self.analysis_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.analysis_panel.refreshed.connect(self._show_analysis_on_nodes)
        self.tabifyDockWidget(bottom, analysis)
        self.insight_panel = InsightPanel(lambda: self.is_training, self)
        self.evaluation_panel = EvaluationPanel(
            self.project,
            lambda: self.trained_model,
            lambda: self.is_training,
            self.insight_panel,
            self,
        )
        evaluation = self._dock(
            "Evaluation", self.evaluation_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.tabifyDockWidget(bottom, evaluation)
        self.data_panel = DataPanel(self.project, self.undo, self)
        self.tabifyDockWidget(
            bottom, self._dock("Data", self.data_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        )
        self.runs_panel = RunsPanel(
            self.project, self.undo, self.start_training, lambda t, m: self.show_error(t, m), self
        )
        runs = self._dock("Runs", self.runs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(bottom, runs)
        self.runs_panel.training_started.connect(bottom.raise_)
        bottom.raise_()
        history = self._dock("History", self.history, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(right, history)
        self.start_panel = StartPanel(self)
        self.learn_panel = LearnPanel(self)
        self.start_dock = self._dock(
            "Start", self.start_panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        learn = self._dock("Learn", self.learn_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(right, self.start_dock)
        self.tabifyDockWidget(right, learn)
        insight = self._dock("Insight", self.insight_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(right, insight)
        self.inspector_dock = right
        (self.start_dock if self.start_panel.has_pending else right).raise_()
        self.resizeDocks([left, right], [210, 290], Qt.Orientation.Horizontal)
        self.resizeDocks([bottom], [360], Qt.Orientation.Vertical)
        self.device_label = QLabel("Loading TensorFlow…")
        self.device_label.setObjectName("device_label")
        self.statusBar().addPermanentWidget(self.device_label)
        self.quick_add = QuickAdd(self)
        self.quick_add.chosen.connect(self.add_layer_here)
        self._build_menus()
        self.minimap = Minimap(self.view)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_theme_changed)
        self.view.resized.connect(self.minimap.place)

        self.view.layer_dropped.connect(self.add_layer_at)
        self.palette.layer_activated.connect(self.add_layer_here)
        self.scene.node_selected.connect(self._on_node_selected)
        self.palette.layer_selected.connect(self.learn_panel.show_layer)
        self.start_panel.recover_requested.connect(self.recover_autosave)
        self.start_panel.open_requested.connect(self._open_recent)
        self.start_panel.template_requested.connect(self.open_example)
        self.scene.status_message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.training.train_requested.connect(self.start_training)
        self.training.stop_requested.connect(self.stop_training)
        self.training.stop_after_epoch_requested.connect(self.stop_after_epoch)
        self.training.pause_toggled.connect(self.pause_training)
        self.training.alert_clicked.connect(self._select_by_name)
        self.training_finished.connect(self.evaluation_panel.mark_stale)
        self.project.changed.connect(self._update_title)
        self.project.changed.connect(self.training.show_data_choice)
        self.live.updated.connect(self._on_shapes_updated)
        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self._update_title()
        QTimer.singleShot(0, self.view.fit_all)

    def _dock(self, title: str, widget: Any, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&New", self.new_project, QKeySequence.StandardKey.New)
        examples = file.addMenu("New from &example")
        for name, factory in EXAMPLES.items():
            self._action(examples, factory().name, lambda _=False, n=name: self.open_example(n))
        self._action(file, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self._action(file, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file, "Save &As…", self.save_as_dialog, QKeySequence.StandardKey.SaveAs)
        file.addSeparator()
        self._action(file, "&Export Keras model (.keras)…", self.export_keras_dialog, "Ctrl+E")
        self._action(file, "Export &as… (TFLite, ONNX…)", self.export_dialog, "Ctrl+Shift+E")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(
            edit, "&Undo", self.undo_last, QKeySequence.StandardKey.Undo
        )
        self.redo_action = self._action(edit, "&Redo", self.redo_last, "Ctrl+Shift+Z")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addSeparator()
        self._action(edit, "Cu&t", self.cut, QKeySequence.StandardKey.Cut)
        self._action(edit, "&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self._action(edit, "&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self._action(edit, "D&uplicate", self.duplicate, "Ctrl+D")
        self._action(edit, "&Delete selection", self.scene.delete_selection, "Del")
        self._action(edit, "Select &all", self.select_all, QKeySequence.StandardKey.SelectAll)
        edit.addSeparator()
        self._action(edit, "&Quick add layer…", self.quick_add.open_fresh, "Ctrl+K")
        self._action(edit, "Auto-&layout", self.auto_layout, "Ctrl+L")
        keras_actions.install(self, file, edit)
        self.undo.changed.connect(self._update_undo_actions)
        self._update_undo_actions()
        view = bar.addMenu("&View")
        self._action(view, "&Fit to window", self.view.fit_all, "Ctrl+0")
        self.minimap_action = self._action(view, "&Minimap", self._toggle_minimap, "Ctrl+M")
        self.minimap_action.setCheckable(True)
        self.minimap_action.setChecked(True)
        themes = view.addMenu("&Theme")
        for label, scheme in (
            ("Follow the &system", Qt.ColorScheme.Unknown),
            ("&Light", Qt.ColorScheme.Light),
            ("&Dark", Qt.ColorScheme.Dark),
        ):
            self._action(themes, label, lambda _=False, s=scheme: self.set_color_scheme(s))
        self._action(
            view, "Zoom &in", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn
        )
        self._action(
            view, "Zoom &out", lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut
        )
        run = bar.addMenu("&Run")
        self.train_action = self._action(run, "&Train", self.start_training, "F5")
        self.stop_action = self._action(run, "&Stop", self.stop_training, "Shift+F5")
        self.evaluate_action = self._action(
            run, "&Evaluate on test split", self.evaluation_panel.evaluate, "F6"
        )

    # ----------------------------------------------------------------- Keras in the background
    def start_loading_keras(self) -> None:
        if self.loader is not None or self.ready:
            return
        self.loader = KerasLoader(self)
        self.loader.loaded.connect(self._on_keras_loaded)
        self.loader.failed.connect(self._on_keras_failed)
        self.loader.start()

    def _on_keras_loaded(self, devices: str, seconds: float) -> None:
        self.ready = True
        self.device_label.setText(devices)
        self.statusBar().showMessage(f"TensorFlow ready in {seconds:.1f} s", 4000)
        self.inspector.set_ready()
        self.training.settings.set_devices(list_devices())
        self.live.activate()
        self.collector.freeze()  # TensorFlow's and Keras' objects: out of every later collection
        self.keras_ready.emit()

    def _on_keras_failed(self, message: str) -> None:
        self.device_label.setText("TensorFlow unavailable")
        self.show_error("TensorFlow", message)

    # ----------------------------------------------------------------- editing
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
        """Add from the palette by keyboard: right of the selected node, connected to it."""
        selected = self.scene.selected_node_ids()
        if selected:
            anchor = self.project.graph.nodes[selected[0]]
            pos = QPointF(anchor.position[0] + 230, anchor.position[1])
        else:
            pos = self.view.mapToScene(self.view.viewport().rect().center())
        node_id = new_node_id()
        add = AddNode(layer_type, position=(pos.x(), pos.y()), node_id=node_id)
        command: Any = add
        if selected:
            anchor = self.project.graph.nodes[selected[0]].name
            command = Macro(
                f"Add {layer_type} after '{anchor}'", [add, Connect(selected[0], node_id)]
            )
        try:
            self.undo.push(command)
        except GraphError as exc:  # e.g. an Input cannot take an input: add it unconnected
            self.statusBar().showMessage(f"added unconnected: {exc}", 5000)
            self.undo.push(AddNode(layer_type, position=(pos.x(), pos.y()), node_id=node_id))
        self.scene.select_node(node_id)

    def set_color_scheme(self, scheme: Qt.ColorScheme) -> None:
        """Light, dark, or (Unknown) whatever the system uses; the canvas follows at once."""
        theme.choose_scheme(scheme)
        self._on_theme_changed()

    def _on_theme_changed(self, *_args: Any) -> None:
        self.scene.restyle()
        self.view.viewport().update()

    def _show_analysis_on_nodes(self) -> None:
        """Parameter counts and warning badges on the node faces, from the analysis."""
        show_param_counts(self.scene.node_items, self.analysis_panel.analysis)
        found: dict[str, list[str]] = {}
        severe: set[str] = set()
        for finding in self.analysis_panel.findings:
            if not finding.node_id:
                continue
            shape = self.live.results.get(finding.node_id)
            if shape is not None and shape.error == finding.message:
                continue  # shape errors already outline the node in red
            found.setdefault(finding.node_id, []).append(finding.message)
            if finding.severity == "error":
                severe.add(finding.node_id)
        for node_id, item in self.scene.node_items.items():
            item.set_warnings(found.get(node_id, []), node_id in severe)

    def _on_node_selected(self, node_id: str | None) -> None:
        self.inspector.show_node(node_id)
        if node_id is not None:
            self.inspector_dock.raise_()
            self.learn_panel.show_layer(self.project.graph.nodes[node_id].layer_type)

    def _toggle_minimap(self, on: bool) -> None:
        self.minimap.enabled = on
        self.minimap.fit()

    def select_all(self) -> None:
        for item in self.scene.node_items.values():
            item.setSelected(True)

    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        mime = QMimeData()
        text = clipboard.to_text(clipboard.copy_nodes(self.project.graph, ids))
        mime.setData(clipboard.CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.statusBar().showMessage(f"Copied {len(ids)} layer(s)", 3000)
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
            command = self.undo.push(
                clipboard.paste_command(self.project.graph, clipboard.from_text(text))
            )
        except (GraphError, UnknownLayerError) as exc:
            self.statusBar().showMessage(f"Cannot paste: {exc}", 5000)
            return []
        ids = clipboard.pasted_ids(command)
        self.scene.clearSelection()
        for nid in ids:
            self.scene.node_items[nid].setSelected(True)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        data = clipboard.copy_nodes(self.project.graph, ids)
        command = self.undo.push(
            clipboard.paste_command(self.project.graph, data, verb="Duplicate")
        )
        new = clipboard.pasted_ids(command)
        self.scene.clearSelection()
        for nid in new:
            self.scene.node_items[nid].setSelected(True)
        return new

    def auto_layout(self) -> None:
        """Lay out the selection if there is one (two or more layers), else the whole graph."""
        selected = self.scene.selected_node_ids()
        command = layout_command(self.project.graph, selected if len(selected) > 1 else None)
        if command is not None:
            self.undo.push(command)
        self.view.fit_all()

    def undo_last(self) -> None:
        label = self.undo.undo()
        if label:
            self.statusBar().showMessage(f"Undid: {label}", 4000)

    def redo_last(self) -> None:
        label = self.undo.redo()
        if label:
            self.statusBar().showMessage(f"Redid: {label}", 4000)

    def _update_undo_actions(self) -> None:
        self.undo_action.setEnabled(self.undo.can_undo)
        self.redo_action.setEnabled(self.undo.can_redo)
        self.undo_action.setText(f"&Undo {self.undo.undo_label}".rstrip())
        self.redo_action.setText(f"&Redo {self.undo.redo_label}".rstrip())

    def _on_shapes_updated(self) -> None:
        errors = self.live.errors()
        if errors:
            self.statusBar().showMessage(f"{len(errors)} problem(s): {errors[0].message}", 8000)

    # ----------------------------------------------------------------- training
    @property
    def is_training(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def start_training(self) -> bool:
        if self.is_training:
            self.statusBar().showMessage("A training run is already going.", 4000)
            return False
        if not self.ready:
            self.training.status.setText("TensorFlow is still loading; Train in a moment.")
            return False
        self.live.refresh()
        errors = self.live.errors()
        if errors:
            first = errors[0]
            self.training.status.setText(f"Cannot train: {first.message}")
            if first.node_id is not None:
                self.scene.select_node(first.node_id)
            return False
        memory = training_memory_warning(
            self.project, self.live.results, self.analysis_panel.analysis
        )
        if memory and not self.confirm("Not enough memory", f"{memory}\n\nTrain anyway?"):
            self.training.status.setText(f"Not started: {memory}")
            return False
        self.training.reset_plots()
        self.training.set_running(True)
        training = resolved_training(self.project.training, self.project.path)
        worker = TrainingWorker(self.project.graph.to_dict(), self.project.dataset, training, self)
        worker.event.connect(self.training.on_event)
        worker.event.connect(self._on_training_event)
        worker.data_ready.connect(self._on_training_data)
        worker.done.connect(self._on_training_done)
        self.worker = worker
        self.runs_panel.run_started()
        worker.start()
        return True

    def stop_training(self) -> None:
        if self.worker is not None:
            self.worker.request_stop()
            self.training.status.setText("Stopping…")

    def _on_training_data(self, dataset: Any) -> None:
        self._boundary_points = (dataset.x_train, dataset.y_train)

    def _on_training_event(self, event: Any) -> None:
        """Draw the live decision boundary that the worker computed at an epoch's end."""
        if isinstance(event, EpochEnd) and isinstance(event.extra, DecisionGrid):
            points = getattr(self, "_boundary_points", None)
            if points is not None:
                self.insight_panel.boundary.show_grid(event.extra, *points)
                self._boundary_points = None  # drawn once; later grids only recolour
            else:
                self.insight_panel.boundary.show_grid(event.extra)

    def stop_after_epoch(self) -> None:
        if self.worker is not None:
            self.worker.request_stop_after_epoch()
            self.training.status.setText("Stopping after this epoch…")

    def pause_training(self, paused: bool) -> None:
        if self.worker is not None:
            (self.worker.pause if paused else self.worker.resume)()

    def _select_by_name(self, name: str) -> None:
        for node in self.project.graph.nodes.values():
            if node.name == name:
                self.scene.select_node(node.id)
                self.view.centerOn(self.scene.node_items[node.id])
                return

    def _on_training_done(self, result: TrainResult) -> None:
        worker = self.worker
        if worker is not None:
            worker.wait()
        self.worker = None
        self.last_result = result
        if worker is not None:  # every run is kept in the project, failed ones too
            self.runs_panel.record(result, worker.graph_data, worker.dataset_choice, worker.config)
        if result.model is not None:
            self.trained_model = result.model
        self.training.set_running(False)
        self.training.on_event(TrainEnd(result.status, result.message, result.history))
        final = {k: v[-1] for k, v in result.history.items() if v and k != "samples_per_s"}
        summary = ", ".join(f"{k} {v:.4f}" for k, v in final.items())
        self.training.status.setText(f"{result.status.capitalize()}: {result.message}. {summary}")
        if result.status == "failed" and result.node_id:
            self.scene.select_node(result.node_id)
        self.training_finished.emit(result)

    # ----------------------------------------------------------------- files
    def _update_title(self) -> None:
        mark = "*" if self.project.dirty else ""
        where = f" — {self.project.path}" if self.project.path else ""
        self.setWindowTitle(f"{mark}{self.project.name}{where} — DeepCanvas")

    def replace_project(self, project: Project) -> None:
        """Show another project; the current one's autosave goes (the user saved or discarded)."""
        discard_autosave(self.project, self.session_id)
        if self.is_training:
            self.stop_training()
            if self.worker is not None:
                self.worker.wait()
        self.project.replace_with(project)
        self.undo.clear()
        self.trained_model = None
        self.evaluation_panel.clear()
        self.training.load_from_project()
        self.training.reset_plots()
        self.inspector.show_node(None)
        self._update_title()
        QTimer.singleShot(0, self.view.fit_all)

    def new_project(self) -> None:
        if self.confirm_discard():
            self.replace_project(Project(name="Untitled"))

    def open_example(self, name: str) -> None:
        if self.confirm_discard():
            self.replace_project(EXAMPLES[name]())

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path: str | Path) -> bool:
        """Open a project file; on any error the current project stays as it was."""
        try:
            project = load_project(path)
        except ProjectError as exc:
            self.show_error("Cannot open project", str(exc))
            return False
        self.replace_project(project)
        remember(path)
        self.start_panel.refresh()
        self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as_dialog()
        return self.save_to(self.project.path)

    def save_as_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", f"{self.project.name}{FILE_SUFFIX}", PROJECT_FILTER
        )
        return self.save_to(path) if path else False

    def save_to(self, path: str | Path) -> bool:
        discard_autosave(self.project, self.session_id)  # keyed by the old file, if any
        try:
            save_project(self.project, path)
        except ProjectError as exc:
            self.show_error("Cannot save project", str(exc))
            return False
        discard_autosave(self.project, self.session_id)
        remember(path)
        self.start_panel.refresh()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        self._update_title()
        return True

    def autosave(self) -> Path | None:
        """Write a copy of unsaved work to the autosave folder (never over the user's file)."""
        if not self.project.dirty:
            return None
        return write_autosave(self.project, self.session_id)

    def recover_autosave(self, autosave: Autosave) -> bool:
        if not self.confirm_discard():
            return False
        try:
            project = recover(autosave)
        except ProjectError as exc:
            self.show_error("Cannot recover", str(exc))
            return False
        self.replace_project(project)
        self.project.dirty = True
        write_autosave(self.project, self.session_id)  # ours now; the old one can go
        Path(autosave.path).unlink(missing_ok=True)
        self.start_panel.refresh()
        self._update_title()
        self.statusBar().showMessage(f"Recovered {autosave.describe()}", 6000)
        return True

    def _open_recent(self, path: str) -> None:
        if self.confirm_discard():
            self.open_project(path)

    def export_dialog(self) -> Any:
        """File > Export as…: every format, verified (gui/export/export_dialog.py)."""
        from gui.export.export_dialog import open_export_dialog

        return open_export_dialog(self)

    def export_keras_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export Keras model", f"{self.project.name}.keras", "Keras model (*.keras)"
        )
        if path:
            self.export_keras(path)

    def export_keras(self, path: str | Path) -> bool:
        """Export the trained model, or a freshly compiled untrained one before any training."""
        from backend.exchange.keras_file import ModelFileError, save_keras
        from backend.keras_bridge.compiler import CompileError
        from backend.keras_bridge.weights import WeightsError, compile_project

        if not self.ready:
            self.show_error("Export", "TensorFlow is still loading; try again in a moment.")
            return False
        if self.is_training:
            self.show_error("Export", "Stop the training run before exporting.")
            return False
        try:
            model = self.trained_model or compile_project(self.project)  # imported weights too
            save_keras(model, path)
        except (CompileError, ModelFileError, WeightsError) as exc:
            self.show_error("Cannot export", str(exc))
            return False
        note = "trained weights" if self.trained_model is not None else "untrained weights"
        self.statusBar().showMessage(f"Exported {path} ({note})", 6000)
        return True

    # ----------------------------------------------------------------- dialogs (patched in tests)
    def show_error(self, title: str, text: str) -> None:
        self.statusBar().showMessage(text, 10000)
        QMessageBox.warning(self, title, text)

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved changes: Save, Discard or Cancel."""
        if not self.project.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save changes to '{self.project.name}' first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        self.shutdown()
        discard_autosave(self.project, self.session_id)  # closed normally: nothing to recover
        event.accept()

    def shutdown(self) -> None:
        """Stop training and background threads; wait for them (each stops within a batch)."""
        self._autosave.stop()
        if self.worker is not None:
            self.worker.request_stop()
            self.worker.wait()
            self.worker = None
        self.evaluation_panel.shutdown()
        if self.loader is not None:
            self.loader.wait()
