"""The training monitor driven through its widgets: settings, pause/resume, stop after the
epoch, learning-rate curve, alerts, histograms, the live decision boundary."""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from backend.templates.examples import moons_mlp
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window
from tests.gui.test_main_window import points


def test_settings_edit_the_project_and_preview_the_schedule(qtbot: Any, window: MainWindow) -> None:
    settings = window.settings_panel
    settings.editor("optimizer").setCurrentText("sgd")
    settings.editor("momentum").setValue(0.9)
    settings.editor("nesterov").setChecked(True)
    settings.editor("schedule").setCurrentText("step")
    assert settings.schedule_box("every_epochs").isVisibleTo(settings)
    settings.schedule_box("every_epochs").setValue(2)  # every 2 epochs
    settings.schedule_box("factor").setValue(0.5)
    settings.editor("epochs").setValue(6)
    t = window.project.training
    assert (t.optimizer, t.momentum, t.nesterov, t.schedule) == ("sgd", 0.9, True, "step")
    assert t.schedule_params == {"every_epochs": 2, "factor": 0.5}
    ys = settings.preview_curve.yData  # the rates themselves (the axis is logarithmic)
    assert len(ys) == 6
    assert list(ys[:4]) == [
        t.learning_rate,
        t.learning_rate,
        t.learning_rate / 2,
        t.learning_rate / 2,
    ]
    assert window.project.dirty


def test_pause_resume_and_stop_after_epoch(qtbot: Any, window: MainWindow) -> None:
    window.project.training.epochs = 50
    window.settings_panel.load()
    qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: points(window, "loss (batches)") > 0, timeout=60_000)
    qtbot.mouseClick(window.training_panel.pause_button, Qt.MouseButton.LeftButton)
    assert window.training_panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # let a batch in flight finish
    frozen = window.training_panel.progress.value()
    qtbot.wait(700)
    assert window.training_panel.progress.value() == frozen  # nothing moves while paused
    qtbot.mouseClick(window.training_panel.pause_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.training.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(window.training_panel.stop_epoch_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "stopped"
    assert 1 <= len(result.history["loss"]) < 50
    assert points(window, "learning_rate") == len(result.history["loss"])


def test_alerts_and_histograms_show_and_point_at_layers(qtbot: Any, window: MainWindow) -> None:
    settings = window.settings_panel
    settings.editor("histograms").setChecked(True)
    settings.editor("epochs").setValue(2)
    graph = window.project.graph
    dense = graph.node_by_name("dense")  # dead from the start: every unit's input is negative
    graph.set_params(dense.id, {"kernel_initializer": "zeros", "bias_initializer": "zeros"})
    with qtbot.waitSignal(window.training.finished, timeout=90_000):
        assert window.training.start()
    alerts = window.training_panel.alerts
    texts = [alerts.item(i).text() for i in range(alerts.count())]
    assert any("'dense'" in t and "ReLU" in t for t in texts), texts
    row = next(i for i, t in enumerate(texts) if "'dense'" in t)
    alerts.itemClicked.emit(alerts.item(row))
    assert window.scene.selected_node_ids() == [dense.id]
    assert window.training_panel.hist_layer.count() >= 2
    assert window.training_panel.histograms["dense_1"]


def test_decision_boundary_is_drawn_live_on_2d_data(qtbot: Any, dialogs: Dialogs) -> None:
    project = moons_mlp()
    project.training.epochs = 2
    win = make_window(qtbot, project, dialogs)
    start = time.perf_counter()
    with qtbot.waitSignal(win.training.finished, timeout=90_000):
        assert win.training.start()
    assert time.perf_counter() - start < 90
    boundary = win.insight_panel.boundary
    assert boundary.grid is not None
    win.shutdown()


def test_train_warns_before_a_run_that_will_not_fit(
    qtbot: Any, window: MainWindow, dialogs: Dialogs
) -> None:
    graph = window.project.graph
    window.settings_panel.editor("batch_size").setValue(60000)  # activations x batch: far too big
    graph.set_params(graph.node_by_name("conv2d").id, {"filters": 4096})
    dialogs.confirm_answer = False
    assert window.training.start() is False
    assert dialogs.questions and "more than the" in dialogs.questions[-1]
    assert "Not started" in window.training_panel.status.text()


def test_device_list_is_what_tensorflow_sees(qtbot: Any, window: MainWindow) -> None:
    from backend.training.devices import list_devices

    combo = window.settings_panel.editor("device")
    values = [combo.itemData(i) for i in range(combo.count())]
    gpus = [d for d in list_devices() if d["type"] == "GPU"]
    assert values[:2] == ["auto", "cpu"] and len(values) == 2 + len(gpus) + (len(gpus) > 1)
    combo.setCurrentIndex(values.index("cpu"))
    assert window.project.training.device == "cpu"


def test_plots_redraw_in_turn_and_all_at_the_end(window: MainWindow) -> None:
    """Each redraw tick makes at most one new curve (an epoch's end brings five at once) and
    draws one plot (a third of the paint while TensorFlow holds the CPU), none starved by
    another that keeps getting points, and everything is drawn when the run ends."""
    from backend.training.trainer import BatchEnd, EpochEnd, TrainBegin, TrainEnd

    panel = window.training_panel
    panel._timer.stop()  # tick by hand
    panel.reset_plots()

    def drawn(key: str) -> int:
        curve = panel.curves.get(key)
        x = None if curve is None else curve.getData()[0]
        return 0 if x is None else len(x)

    def batch(epoch: int, step: int, loss: float) -> BatchEnd:
        return BatchEnd(epoch, step, 4, {"loss": loss, "accuracy": 0.5}, losses=((step, loss),))

    panel.on_event(TrainBegin(epochs=2, steps_per_epoch=4))
    for step in range(4):
        panel.on_event(batch(0, step, 1.0 - step / 10))
    panel.on_event(EpochEnd(0, {"loss": 0.7, "accuracy": 0.6}, 1.0, learning_rate=0.01))
    keys = ["loss (batches)", "loss (batches) (smoothed)", "accuracy", "loss", "learning_rate"]
    made, shown = [], []
    for _ in range(6):
        panel._redraw()
        made.append(len(panel.curves))
        shown.append([drawn(k) > 0 for k in keys])
        panel.on_event(batch(1, 0, 0.5))  # the loss plot stays due
    assert made == [1, 2, 3, 4, 5, 5]  # one new curve a tick, in the order they came
    T, F = True, False
    assert shown == [  # a plot is drawn once it has a curve; then each plot in turn
        [T, F, F, F, F],
        [T, T, F, F, F],
        [T, T, F, T, F],
        [T, T, T, T, F],  # the metrics plot's turn, though the loss plot has new points
        [T, T, T, T, T],
        [T, T, T, T, T],
    ]
    panel.on_event(batch(1, 1, 0.4))
    panel.on_event(EpochEnd(1, {"loss": 0.4, "accuracy": 0.8}, 1.0, learning_rate=0.005))
    panel.on_event(TrainEnd("completed", "done", {}))
    assert [drawn(k) for k in keys] == [len(panel.series[k].x) for k in keys] == [11, 11, 2, 2, 2]
    for plot, values in ((panel.loss_plot, [0.0]), (panel.metric_plot, [0.0, 1.0])):
        anchors = [i for i in plot.items if isinstance(i, pg.ScatterPlotItem)]
        assert sorted(a.getData()[1][0] for a in anchors) == values  # once each, not per curve


def test_a_real_run_draws_each_batch_once_at_its_place(window: MainWindow) -> None:
    """A throttled run of 8 batches a call (25 batches an epoch: the last call is short):
    the per-batch curve gets every batch of every epoch once, left to right, the last
    epoch's tail included (each event holds its own epoch's batches)."""
    import numpy as np

    from backend.data import Dataset
    from backend.document.training_config import TrainingConfig
    from backend.training.trainer import Trainer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2)).astype("float32")
    y = (x[:, 0] > x[:, 1]).astype("int64")
    data = Dataset("points", "classification", x, y, x[:0], y[:0], x[:0], y[:0], ["a", "b"])
    config = TrainingConfig(epochs=3, batch_size=4, steps_per_execution=8)
    panel = window.training_panel
    panel.reset_plots()
    result = Trainer(moons_mlp().graph, data, config, panel.on_event).run()
    assert result.status == "completed", result.message
    xs = panel.series["loss (batches)"].x.tolist()
    assert xs == [epoch + (step + 1) / 25 for epoch in range(3) for step in range(25)]
    assert panel.curves["loss (batches)"].getData()[0] is not None  # drawn at TrainEnd


def test_a_series_grows_past_its_arrays_and_keeps_what_was_drawn() -> None:
    """A curve's points live in arrays that double when full; a plot holds views of them."""
    from gui.training.training_panel import Series

    series = Series()
    for i in range(100):
        series.add(i, 2.0 * i)
    drawn = series.x  # what a redraw handed the plot
    for i in range(100, 300):
        series.add(i, 2.0 * i)
    assert series.x.tolist() == list(range(300)) and series.y[-1] == 598.0
    assert drawn.tolist() == list(range(100))  # never written over by later points
