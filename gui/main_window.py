"""The main window: docks around the canvas, wired to small controllers.

Files (`gui.files.FileController`), editing (`gui.editor.EditController`), training
(`gui.training.TrainingController`) and export/import (`gui.export.ExportController`) hold the
behaviour; slow work runs on `gui.runtime.jobs.JobRunner`; questions go through one `Prompts`.
The window only places the panels and connects signals. Menus: `gui.menus`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget, QWidget

from backend.analysis.memory import training_memory_warning
from backend.document.project import Project
from backend.exchange.pretrained import backbone_nodes
from backend.keras_bridge.live_shapes import LiveShapes
from backend.training.devices import list_devices
from backend.training.trainer import TrainResult
from backend.workflow.session import Workflow, new_project
from backend.workflow.weights import WeightsState, run_label
from gui import menus
from gui.canvas.minimap import Minimap
from gui.canvas.model_totals import ModelTotals
from gui.canvas.scene import GraphScene
from gui.canvas.view import CanvasView
from gui.data.data_panel import DataPanel
from gui.editor.analysis_panel import AnalysisPanel, show_on_nodes
from gui.editor.edit_controller import EditController
from gui.editor.history_view import HistoryView
from gui.editor.inspector import Inspector
from gui.editor.learn_panel import LearnPanel
from gui.editor.palette import Palette
from gui.editor.quick_add import QuickAdd
from gui.editor.start_panel import StartPanel
from gui.evaluation.evaluation_panel import EvaluationPanel
from gui.evaluation.insight_panel import InsightPanel
from gui.export.export_controller import ExportController
from gui.files.file_controller import FileController
from gui.runtime import gc_guard, theme
from gui.runtime.dock_tabs import hide_stale_tab_bars
from gui.runtime.jobs import BusyIndicator, Job, JobRunner
from gui.runtime.keras_loader import KerasLoader
from gui.runtime.prompts import Prompts
from gui.runtime.status_line import ElidedLabel, MessageFirst
from gui.training.runs_panel import RunsPanel
from gui.training.training_controller import TrainingController
from gui.training.training_panel import TrainingPanel
from gui.training.training_settings import TrainingSettings

LEFT, RIGHT, BOTTOM = (
    Qt.DockWidgetArea.LeftDockWidgetArea,
    Qt.DockWidgetArea.RightDockWidgetArea,
    Qt.DockWidgetArea.BottomDockWidgetArea,
)
SIDE_WIDTHS = (230, 400)  # left, right docks (the Insight views' five tabs fit)
BOTTOM_SHARE = 0.3  # of the window's height: the canvas keeps the rest


class MainWindow(QMainWindow):
    keras_ready = Signal()

    def __init__(self, project: Project | None = None) -> None:
        super().__init__()
        self.collector = gc_guard.install()  # Qt objects are only ever collected on this thread
        self.workflow = Workflow(project if project is not None else new_project())
        self.project = self.workflow.project  # the same object for the window's life
        self.undo = self.workflow.undo
        self.live = LiveShapes(self.project.graph)
        self.ready = False
        self.loader: KerasLoader | None = None
        self.resize(1400, 900)
        self.prompts = Prompts(self)
        self.jobs = JobRunner(self.prompts, self)
        self.scene = GraphScene(self.project.graph, self.live, self.undo, self)
        self.view = CanvasView(self.scene, self)
        self.setCentralWidget(self.view)
        self._build_panels()
        self._build_controllers()
        self._build_docks()
        self.device_label = ElidedLabel("Loading TensorFlow…")
        self.device_label.setObjectName("device_label")
        self.weights_label = ElidedLabel()
        self.weights_label.setObjectName("weights_label")
        busy = BusyIndicator(self.jobs, self)
        self.statusBar().addPermanentWidget(busy)
        self.statusBar().addPermanentWidget(self.weights_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self.message_first = MessageFirst(
            self.statusBar(), [self.weights_label, self.device_label], [busy]
        )
        self.quick_add = QuickAdd(self)
        self.quick_add.chosen.connect(self.editing.add_layer_here)
        menus.build(self)
        self.minimap = Minimap(self.view)
        self.model_totals = ModelTotals(self.view)
        self._connect()
        self._update_title()
        QTimer.singleShot(0, self.view.fit_all)

    # ----------------------------------------------------------------- building
    def _build_panels(self) -> None:
        project = self.project
        self.palette = Palette(self)
        self.inspector = Inspector(project.graph, self.live, self.undo, self)
        self.history = HistoryView(self.undo, self)
        self.settings_panel = TrainingSettings(project, self._set_training, self)
        self.training_panel = TrainingPanel(self)
        self.analysis_panel = AnalysisPanel(
            project, self.live, self.undo, self.scene.select_node, self
        )
        self.insight_panel = InsightPanel(lambda: self.is_training, self)
        self.evaluation_panel = EvaluationPanel(
            self.workflow, lambda: self.is_training, self.insight_panel, self
        )
        self.data_panel = DataPanel(
            project, self.undo, self.workflow.choose_dataset, self.jobs, self
        )
        self.start_panel = StartPanel(self)
        self.learn_panel = LearnPanel(self)

    def _build_controllers(self) -> None:
        self.files = FileController(self.workflow, self.prompts, self)
        self.editing = EditController(
            self.project.graph, self.undo, self.scene, self.view, self.live, self.prompts, self
        )
        self.training = TrainingController(
            self.workflow,
            self.prompts,
            lambda: self.ready,
            lambda: training_memory_warning(
                self.project, self.live.results, self.analysis_panel.analysis
            ),
            self,
        )
        self.exports = ExportController(
            self.workflow,
            self.jobs,
            self.prompts,
            self.keras_work_blocked,
            self.files.replace_project,
            self,
        )
        self.files.import_model = lambda path: self.exports.import_keras_model(path, None)
        self.runs_panel = RunsPanel(
            self.workflow,
            lambda run_id: self.training.start(run_id),
            lambda title, text: self.prompts.show_error(title, text),  # looked up when shown
            self,
        )

    def _build_docks(self) -> None:
        """Left: layers, their explanation, the undo history. Right: start, inspector,
        training settings, insight. Bottom (a third of the height): the training monitor, data,
        runs, evaluation, analysis."""
        self.docks: dict[str, QDockWidget] = {}
        layout = (
            (LEFT, ("Layers", "Learn", "History")),
            (RIGHT, ("Start", "Inspector", "Settings", "Insight")),
            (BOTTOM, ("Training", "Data", "Runs", "Evaluation", "Analysis")),
        )
        widgets = {
            "Layers": self.palette,
            "Learn": self.learn_panel,
            "History": self.history,
            "Start": self.start_panel,
            "Inspector": self.inspector,
            "Settings": self.settings_panel,
            "Insight": self.insight_panel,
            "Training": self.training_panel,
            "Data": self.data_panel,
            "Runs": self.runs_panel,
            "Evaluation": self.evaluation_panel,
            "Analysis": self.analysis_panel,
        }
        for area, titles in layout:
            first = None
            for title in titles:
                dock = self._dock(title, widgets[title], area)
                if first is None:
                    first = dock
                else:
                    self.tabifyDockWidget(first, dock)
        self.docks["Settings"].setToolTip("Training settings: optimizer, loss, epochs…")
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.start_dock = self.docks["Start"]
        self.inspector_dock = self.docks["Inspector"]
        self.docks["Layers"].raise_()
        self.docks["Training"].raise_()
        self.start_dock.raise_()  # templates, recent projects, unsaved work; a click on a layer
        # brings the Inspector forward
        self.resizeDocks(
            [self.docks["Layers"], self.docks["Inspector"]],
            list(SIDE_WIDTHS),
            Qt.Orientation.Horizontal,
        )
        self._size_bottom()
        QTimer.singleShot(0, self._hide_stale_tab_bars)  # once Qt has laid them out

    def _hide_stale_tab_bars(self) -> None:
        hide_stale_tab_bars(self)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _size_bottom(self) -> None:
        self.resizeDocks(
            [self.docks["Training"]],
            [int(self.height() * BOTTOM_SHARE)],
            Qt.Orientation.Vertical,
        )

    def _connect(self) -> None:
        files, training, panel = self.files, self.training, self.training_panel
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_theme_changed)
        self.view.resized.connect(self.minimap.place)
        self.view.resized.connect(self.model_totals.place)
        self.view.layer_dropped.connect(self.editing.add_layer_at)
        self.palette.layer_activated.connect(self.editing.add_layer_here)
        self.palette.layer_selected.connect(self.learn_panel.show_layer)
        self.scene.node_selected.connect(self._on_node_selected)
        self.scene.status_message.connect(lambda m: self.prompts.status(m, 5000))
        self.analysis_panel.refreshed.connect(
            lambda: show_on_nodes(self.scene.node_items, self.analysis_panel, self.live)
        )
        self.analysis_panel.refreshed.connect(
            lambda: self.model_totals.show_totals(
                self.analysis_panel.summary.totals, self.analysis_panel.memory
            )
        )
        self.start_panel.recover_requested.connect(files.recover_autosave)
        self.start_panel.open_requested.connect(files.open_recent)
        self.start_panel.template_requested.connect(self.open_example)
        files.recent_changed.connect(self.start_panel.refresh)
        files.replacing.connect(self._before_replace)
        files.replaced.connect(self._after_replace)
        files.saved.connect(self._update_title)
        self.project.changed.connect(self._update_title)
        self.project.changed.connect(self._show_readiness)
        panel.train_requested.connect(training.start)
        panel.stop_requested.connect(training.stop)
        panel.stop_after_epoch_requested.connect(training.stop_after_epoch)
        panel.pause_toggled.connect(training.pause)
        panel.alert_clicked.connect(self.editing.select_by_name)
        training.started.connect(self._on_training_started)
        training.training_event.connect(panel.on_event)
        training.training_event.connect(self.insight_panel.boundary.on_training_event)
        training.data_ready.connect(self.insight_panel.boundary.follow_training)
        training.refused.connect(self._on_training_refused)
        training.status.connect(panel.show_status)
        training.finished.connect(self._on_training_finished)
        self.live.updated.connect(self._on_shapes_updated)
        self.workflow.weights_changed.connect(self._show_weights)
        self._show_weights(self.workflow.weights)
        self._show_readiness()

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
        self.prompts.status(f"TensorFlow ready in {seconds:.1f} s")
        self.inspector.set_ready()
        self.settings_panel.set_devices(list_devices())
        self.live.activate()
        self.collector.freeze()  # TensorFlow's and Keras' objects: out of every later collection
        self.keras_ready.emit()

    def _on_keras_failed(self, message: str) -> None:
        self.device_label.setText("TensorFlow unavailable")
        self.prompts.show_error("TensorFlow", message)

    def keras_work_blocked(self) -> str | None:
        """Why export, import or evaluation cannot start now, or None."""
        if not self.ready:
            return "TensorFlow is still loading; try again in a moment."
        if self.is_training:
            return "Stop the training run first."
        return None

    def _set_training(self, changes: dict[str, Any]) -> None:
        """A settings form edit: one undoable command (a bad value is shown, nothing changes)."""
        try:
            self.workflow.set_training(**changes)
        except ValueError as exc:
            self.prompts.status(f"Not changed: {exc}", 8000)
            self.settings_panel.load()

    # ----------------------------------------------------------------- canvas and panels
    def set_color_scheme(self, scheme: Qt.ColorScheme) -> None:
        """Light, dark, or (Unknown) whatever the system uses; the canvas follows at once."""
        theme.choose_scheme(scheme)
        self._on_theme_changed()

    def _on_theme_changed(self, *_args: Any) -> None:
        self.scene.restyle()
        self.view.viewport().update()

    def toggle_minimap(self, on: bool) -> None:
        self.minimap.enabled = on
        self.minimap.fit()

    def _on_node_selected(self, node_id: str | None) -> None:
        self.inspector.show_node(node_id)
        if node_id is not None:
            self.inspector_dock.raise_()
            self.learn_panel.show_layer(self.project.graph.nodes[node_id].layer_type)

    def _on_shapes_updated(self) -> None:
        errors = self.live.errors()
        if errors:
            self.prompts.status(f"{len(errors)} problem(s): {errors[0].message}", 8000)
        self._show_readiness()

    def _show_readiness(self) -> None:
        """The Training panel says what is missing before Train is pressed (data, the graph's
        first error); the data's fit to the model is checked when Train is pressed."""
        if not self.is_training:
            errors = [problem.message for problem in self.live.errors()]
            self.training_panel.show_readiness(errors, self.project.dataset is not None)

    def _show_weights(self, state: WeightsState) -> None:
        """Which weights Evaluate, Export and the script use, in the status bar; when an edit
        makes them stop fitting, say which edit."""
        if not state.trained:
            text = "Weights: untrained"
        elif state.run is not None:
            text = f"Weights: run {run_label(state.run)[5:16]}"  # "12-05 08:40"
        elif backbone_nodes(self.project.graph):
            text = "Weights: pretrained"  # a backbone's, loaded when the project was made
        else:
            text = "Weights: imported"
        stale = state.stale_reason
        self.weights_label.setText(text + (" (no longer fit)" if stale else ""))
        self.weights_label.setStyleSheet("color: #C05000;" if stale else "")
        self.weights_label.setToolTip(state.describe())
        if stale and state.trained:
            self.prompts.status(f"The trained weights no longer fit the graph: {stale}", 10000)

    # ----------------------------------------------------------------- training
    @property
    def is_training(self) -> bool:
        return self.training.is_training

    def _on_training_started(self) -> None:
        self.training_panel.begin_run()
        self.settings_panel.set_enabled(False)
        self.docks["Training"].raise_()

    def _on_training_refused(self, message: str, node_id: str | None) -> None:
        self.training_panel.show_problem(message)
        self.docks["Training"].raise_()
        if node_id is not None:
            self.scene.select_node(node_id)

    def _on_training_finished(self, result: TrainResult) -> None:
        self.training_panel.show_result(result)
        self.settings_panel.set_enabled(True)
        self.evaluation_panel.mark_stale()
        if result.status in ("failed", "refused") and result.node_id:
            self.scene.select_node(result.node_id)

    # ----------------------------------------------------------------- projects
    def _update_title(self, *_args: Any) -> None:
        self.setWindowTitle(self.files.title())

    def open_example(self, name: str) -> bool:
        """A new project from the template `name` (its id in `backend.templates.gallery`); one
        offering a pretrained backbone opens as a job (building it reads its weights), and the
        status bar says which model it opened with."""
        from backend.templates.gallery import TemplateError, open_template, template_info

        try:
            info = template_info(name)
            if info.pretrained is None:
                return self._template_opened(open_template(name), info)
        except TemplateError as exc:
            self.prompts.show_error("Cannot open the template", str(exc))
            return False
        return self.jobs.run(
            Job(
                "Opening the template",
                lambda _cancelled: open_template(name),
                lambda opened: self._template_opened(opened, info),
                lambda message: self.prompts.show_error("Cannot open the template", message),
            )
        )

    def _template_opened(self, opened: Any, info: Any) -> bool:
        if not self.files.new_project(opened.project):
            return False
        self.learn_panel.show_template(info.title, info.teaches)  # its lesson, in front
        self.docks["Learn"].raise_()
        if opened.choice is not None:
            name, model = opened.project.name, opened.choice.short
            self.prompts.status(f"{name}: opened with {model}", 30000)
        return True

    def _before_replace(self) -> None:
        self.jobs.cancel_all()
        self.training.stop_and_wait()

    def _after_replace(self) -> None:
        """Everything that belonged to the previous project or its runs resets."""
        self.evaluation_panel.clear()
        self.learn_panel.clear_template()
        self.training_panel.reset()
        self.runs_panel.reset()
        self._show_readiness()
        self.settings_panel.load()
        self.inspector.show_node(None)
        self._update_title()
        QTimer.singleShot(0, self.view.fit_all)

    # ----------------------------------------------------------------- closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Close or Ctrl+Q: a running training run is stopped (and kept) only if the user
        agrees; unsaved changes are saved or discarded as the user says."""
        if self.is_training and not self.prompts.confirm(
            "Training is running",
            "Stop the training run and quit? The epochs trained so far are kept as a run.",
        ):
            event.ignore()
            return
        self.training.stop_and_wait()
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.shutdown()
        self.files.closed()
        event.accept()

    def shutdown(self) -> None:
        """Stop training and background threads; wait for them (each stops within a batch)."""
        self.files.autosave_timer.stop()
        self.training.stop_and_wait()
        self.jobs.cancel_all()
        self.jobs.wait()
        self.evaluation_panel.shutdown()
        if self.loader is not None:
            self.loader.wait()
