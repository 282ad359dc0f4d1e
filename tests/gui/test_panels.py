"""Panels with room: the canvas gets most of the window, tabs and labels are readable, the
settings form is generated from TrainingConfig's metadata, empty views say what to do, and
everything that belongs to a project or a run resets when it changes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QScrollArea, QTabBar

from backend.document.training_config import HIDDEN, is_visible, setting_fields
from backend.training.trainer import BatchEnd, EpochEnd, TrainBegin
from gui.main_window import MainWindow
from gui.training.training_panel import READY


def test_the_canvas_gets_most_of_the_window_and_every_dock_tab_reads_whole(
    qtbot: Any, window: MainWindow
) -> None:
    window.resize(1600, 1000)
    window._size_bottom()
    qtbot.waitUntil(lambda: window.view.height() > 0.5 * window.height(), timeout=3_000)
    assert window.view.width() > 0.55 * window.width()
    bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window]
    titles = {bar.tabText(i) for bar in bars for i in range(bar.count())}
    assert {"Start", "Inspector", "Settings", "Training", "Runs", "Layers"} <= titles
    for bar in bars:
        metrics = bar.fontMetrics()
        for i in range(bar.count()):
            text = bar.tabText(i)
            assert bar.tabRect(i).width() >= metrics.horizontalAdvance(text), text  # no "…"
    window.docks["Insight"].raise_()
    inner = window.insight_panel.tabs.tabBar()
    qtbot.waitUntil(inner.isVisible, timeout=3_000)
    width = sum(inner.tabRect(i).width() for i in range(inner.count()))
    assert width <= window.insight_panel.tabs.width()  # every view's tab shows, no scrolling


def test_the_settings_form_is_generated_from_the_metadata_and_edits_are_undoable(
    qtbot: Any, window: MainWindow
) -> None:
    form = window.settings_panel
    form.show_advanced(True)
    shown = {name for name, info, _ in setting_fields() if info.group != HIDDEN}
    assert shown - {"schedule_params"} == set(form.editors)  # one editor per described field
    for name, info, _ in setting_fields():
        if name in form.editors:
            widget = form.editor(name)
            assert widget.toolTip().startswith(info.help), name
            text = widget.text() if isinstance(widget, QCheckBox) else form_label(form, name)
            assert text == info.label, name
            visible = widget.isVisibleTo(form)
            assert visible == is_visible(window.project.training, info), name

    momentum = form.editor("momentum")
    assert not momentum.isVisibleTo(form)  # Adam has no momentum
    form.editor("optimizer").setCurrentIndex(form.editor("optimizer").findData("sgd"))
    assert window.project.training.optimizer == "sgd" and momentum.isVisibleTo(form)
    assert window.undo.undo_label.startswith("Set Optimizer")
    window.editing.undo_last()
    assert window.project.training.optimizer == "adam"
    assert form.editor("optimizer").currentData() == "adam" and not momentum.isVisibleTo(form)


def form_label(form: Any, name: str) -> str:
    label = form.forms[name].labelForField(form.editor(name))
    assert isinstance(label, QLabel)
    return label.text()


def test_scrolling_over_a_setting_scrolls_the_form_and_changes_nothing(
    qtbot: Any, window: MainWindow
) -> None:
    form = window.settings_panel
    window.docks["Settings"].raise_()
    form.show_advanced(True)
    combo = form.editor("device")
    qtbot.waitUntil(combo.isVisible, timeout=3_000)
    before = (combo.currentIndex(), window.project.training.device, len(window.undo.done))
    bar = form.verticalScrollBar()
    start = bar.value()
    centre = QPointF(combo.rect().center())
    wheel = QWheelEvent(
        centre,
        QPointF(combo.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, -120),  # one notch down
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(combo, wheel)
    assert (combo.currentIndex(), window.project.training.device, len(window.undo.done)) == before
    assert bar.maximum() == 0 or bar.value() > start


def test_the_rate_preview_labels_a_few_rates_without_overprinting(window: MainWindow) -> None:
    form = window.settings_panel
    window.workflow.set_training(
        schedule="step", schedule_params={"every_epochs": 1, "factor": 0.5}, epochs=12
    )
    axis = form.preview.getPlotItem().getAxis("left")
    labels = [label for _value, label in axis._tickLevels[0]]
    rates = list(form.preview_curve.yData)
    assert labels[0] == f"{min(rates):.2g}" and labels[-1] == f"{max(rates):.2g}"
    assert len(labels) <= 6 and not axis.autoSIPrefix


def test_a_long_cannot_train_message_wraps_apart_and_clears_when_fixed(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.training_panel
    window.scene.clearSelection()
    window.editing.add_layer_here("Dense")  # nothing selected: added unconnected
    [loose] = window.scene.selected_node_ids()
    name = window.project.graph.nodes[loose].name
    assert not window.training.start()
    text = panel.status.text()
    assert text.startswith("Cannot train") and f"'{name}'" in text
    assert panel.status.wordWrap()
    box = window.findChild(QScrollArea, "train_status_box")
    assert box is not None and box.widget() is panel.status  # scrolls there, over nothing
    buttons_top = panel.train_button.mapTo(panel, QPoint(0, 0)).y()
    assert box.mapTo(panel, QPoint(0, 0)).y() > buttons_top
    window.scene.delete_selection()
    qtbot.waitUntil(lambda: panel.status.text() == READY, timeout=5_000)


def test_empty_views_say_what_to_do_and_a_new_project_resets_the_last_runs_views(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.training_panel
    assert panel.curves_view.empty and "Train" in panel.curves_view.message.text()
    assert panel.hist_view.empty and "histograms" in panel.hist_view.message.text()
    assert window.runs_panel.plot_view.empty
    assert window.evaluation_panel.plots_view.empty
    panel.on_event(TrainBegin(epochs=3, steps_per_epoch=2))
    panel.on_event(BatchEnd(0, 0, 2, {"loss": 1.0}, seconds=1.0))
    panel.on_event(EpochEnd(0, {"loss": 0.9}, 1.0, learning_rate=0.01, samples_per_s=50))
    panel.show_status("Epoch 1/3: loss 0.9000")
    assert not panel.curves_view.empty and "ETA" in panel.speed.text()
    assert panel.progress.value() > 0

    window.open_example("moons_mlp")
    assert panel.curves_view.empty and not panel.series
    assert panel.status.text() == READY and panel.speed.text() == ""
    assert panel.progress.value() == 0 and panel.epoch_progress.value() == 0
    assert window.runs_panel.status.text() in ("", "No runs yet: press Train.")
    assert window.settings_panel.editor("epochs").value() == window.project.training.epochs
    assert "moons" in window.settings_panel.data_label.text()


def test_a_closed_window_is_freed_after_its_background_jobs(qtbot: Any) -> None:
    """A job's callbacks must not keep the window alive: a lambda held by a worker thread's
    signal connection is invisible to the garbage collector and kept every closed window."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    from backend.templates.examples import digits_cnn

    def open_and_close() -> weakref.ref[MainWindow]:
        win = MainWindow(digits_cnn())
        win.show()
        win.docks["Data"].raise_()
        qtbot.waitUntil(lambda: win.data_panel.preview is not None, timeout=10_000)
        assert win.jobs._ended  # the preview ran as a job
        win.close()
        win.deleteLater()
        return weakref.ref(win)

    ref = open_and_close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert ref() is None
