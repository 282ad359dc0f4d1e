"""The training monitor: Train / Pause / Stop, progress, throughput and ETA, live
curves of every loss and metric (train per batch smoothed and per epoch, validation per epoch,
per output head), the learning rate, alerts, and weight/gradient histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend.training.trainer import (
    BatchEnd,
    EpochEnd,
    TrainAlert,
    TrainBegin,
    TrainEnd,
    TrainResult,
)
from gui.runtime.empty_state import EmptyState
from gui.training.loss_curves import RAW, Smoother, anchor, batch_pens, is_rate
from gui.training.rate_axis import show_rates

REDRAW_MS = 250  # each plot redraws at most this often, the three plots in turn
READY = "Ready: press Train."
NO_DATA = "No data yet: choose data in the Data tab first, then press Train."
CURVES_EMPTY = (
    "Press ▶ Train: the loss, the metrics and the learning rate appear here as they are "
    "measured, batch by batch."
)
HISTOGRAMS_EMPTY = (
    "Weight and gradient histograms per layer: turn them on in Settings, Advanced settings, "
    "Logging, then train."
)
LEFT_WIDTH = 240
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


class Series:
    """Points of one curve, appended cheaply and drawn at most once per redraw tick.

    They are kept in arrays that double when full: a redraw hands the plot views of them, not
    a conversion of Python lists (6 ms a redraw for a run's 75,000 batch losses)."""

    def __init__(self) -> None:
        self._xy = np.empty((2, 64))
        self._n = 0

    def add(self, x: float, y: float) -> None:
        if self._n == self._xy.shape[1]:
            self._xy = np.concatenate([self._xy, np.empty_like(self._xy)], axis=1)
        self._xy[:, self._n] = (x, y)
        self._n += 1

    @property
    def x(self) -> np.ndarray:
        return self._xy[0, : self._n]

    @property
    def y(self) -> np.ndarray:
        return self._xy[1, : self._n]


def family(key: str) -> str:
    """Which plot a log key belongs to: 'loss' or 'metrics' (learning rate has its own)."""
    return "loss" if key.endswith("loss") else "metrics"


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class TrainingPanel(QWidget):
    """`train_requested` asks the main window to start a run (it validates the graph first)."""

    train_requested = Signal()
    stop_requested = Signal()
    stop_after_epoch_requested = Signal()
    pause_toggled = Signal(bool)
    alert_clicked = Signal(str)  # the layer (node) name an alert points at

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._problem = False
        self.series: dict[str, Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.histograms: dict[str, list[Any]] = {}
        self._smoother = Smoother()
        self._dirty: set[Any] = set()  # plots with new points not drawn yet
        self._turn = 0  # the plot whose turn it is to redraw
        self.plot_of: dict[str, Any] = {}  # curve key -> its PlotItem
        self._unmade: list[str] = []  # curves with points whose plot item is not made yet
        self._anchored: set[tuple[int, float]] = set()  # (plot, value) anchors in place
        self._steps = 1
        self._epochs = 1
        self._color = 0
        self._colours: dict[str, str] = {}
        self._heads: tuple[str, ...] = ()  # side-by-side networks: each output's own curves
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS // 3)  # one plot per tick: shorter paints
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    # ----------------------------------------------------------------- widgets
    def _build(self) -> None:
        self.train_button = QPushButton("▶ Train")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("■ Stop")
        self.stop_epoch_button = QPushButton("Stop after epoch")
        for name in ("train_button", "pause_button", "stop_button", "stop_epoch_button"):
            getattr(self, name).setObjectName(name)
        self.train_button.clicked.connect(self.train_requested.emit)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.stop_epoch_button.clicked.connect(self.stop_after_epoch_requested.emit)
        self.pause_button.toggled.connect(self._on_pause)
        self.epoch_progress = QProgressBar()
        self.epoch_progress.setObjectName("epoch_progress")
        self.progress = QProgressBar()
        self.progress.setObjectName("train_progress")
        self.speed = QLabel("")
        self.speed.setObjectName("train_speed")
        self.status = QLabel(READY)
        self.status.setObjectName("train_status")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status_box = QScrollArea()  # a long message wraps and scrolls here, never over the rest
        status_box.setObjectName("train_status_box")
        status_box.setWidgetResizable(True)
        status_box.setFrameShape(QScrollArea.Shape.NoFrame)
        status_box.setWidget(self.status)
        buttons = QGridLayout()
        buttons.addWidget(self.train_button, 0, 0)
        buttons.addWidget(self.pause_button, 0, 1)
        buttons.addWidget(self.stop_button, 1, 0)
        buttons.addWidget(self.stop_epoch_button, 1, 1)
        left = QVBoxLayout()
        left.addLayout(buttons)
        self.epoch_progress.setFormat("epoch %p%")
        self.progress.setFormat("run %p%")
        for bar in (self.epoch_progress, self.progress):
            bar.setValue(0)  # "epoch 0%" before a run, not a blank bar
        left.addWidget(self.epoch_progress)
        left.addWidget(self.progress)
        left.addWidget(self.speed)
        left.addWidget(status_box, 1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setFixedWidth(LEFT_WIDTH)

        pg.setConfigOptions(antialias=True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setObjectName("train_plots")
        self.plots.setBackground("w")
        self.loss_plot = self.plots.addPlot(title="Loss")
        self.metric_plot = self.plots.addPlot(title="Metrics")
        self.lr_plot = self.plots.addPlot(title="Learning rate")
        self.acc_plot = self.metric_plot  # the accuracy curves live here
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.3)
            for side in ("left", "bottom"):  # major and minor grid lines: half the painting
                axis = plot.getAxis(side)
                axis.setStyle(maxTickLevel=1)
                axis.enableAutoSIPrefix(False)  # else each range change re-lays its label out
            # A value axis fits its widest tick label; shrinking back with the labels re-laid
            # out all three plots and repainted them whole, a few times each epoch: it grows.
            plot.getAxis("left").setStyle(autoReduceTextSpace=False)
        self.loss_plot.addLegend(offset=(-10, 10))
        self.metric_plot.addLegend(offset=(-10, -10))
        self.lr_plot.setLogMode(y=True)  # rates span decades
        for column, stretch in enumerate((2, 2, 1)):  # the rate's plot is narrower, not cramped
            self.plots.ci.layout.setColumnStretchFactor(column, stretch)
        self.alerts = QListWidget()
        self.alerts.setObjectName("train_alerts")
        self.alerts.setWordWrap(True)  # an alert quotes its numbers: read it whole
        self.alerts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alerts.itemClicked.connect(
            lambda item: item.data(256) and self.alert_clicked.emit(item.data(256))
        )
        hist_box = QWidget()
        hist_layout = QVBoxLayout(hist_box)
        self.hist_layer = QComboBox()
        self.hist_layer.setObjectName("hist_layer")
        self.hist_plot = pg.PlotWidget(title="Weights (latest epochs)")
        self.hist_plot.setBackground("w")
        self.grad_plot = pg.PlotWidget(title="Gradients (latest epochs)")
        self.grad_plot.setBackground("w")
        hist_layout.addWidget(self.hist_layer)
        row = QHBoxLayout()
        row.addWidget(self.hist_plot)
        row.addWidget(self.grad_plot)
        hist_layout.addLayout(row)
        self.hist_layer.currentTextChanged.connect(self._draw_histograms)
        self.curves_view = EmptyState(self.plots, CURVES_EMPTY)
        self.hist_view = EmptyState(hist_box, HISTOGRAMS_EMPTY)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.curves_view, "Curves")
        self.tabs.addTab(self.alerts, "Alerts")
        self.tabs.addTab(self.hist_view, "Histograms")
        layout = QHBoxLayout(self)
        layout.addWidget(left_box)
        layout.addWidget(self.tabs, 1)
        self.set_running(False)

    # ----------------------------------------------------------------- run display
    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        for button in (self.stop_button, self.stop_epoch_button, self.pause_button):
            button.setEnabled(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_problem(self, text: str) -> None:
        """Why a run did not start; `clear_problem` takes it back once it is fixed."""
        self.status.setText(text)
        self._problem = True

    def clear_problem(self) -> None:
        if self._problem:
            self.status.setText(READY)
            self._problem = False

    def show_readiness(self, problems: list[str], has_data: bool) -> None:
        """Before a run: what stops it (no data first, then the graph's first error), or
        READY once nothing does."""
        if not has_data:
            self.show_problem(NO_DATA)
        elif problems:
            self.show_problem(f"Cannot train yet: {problems[0]}")
        else:
            self.clear_problem()

    def show_result(self, result: TrainResult) -> None:
        """The run ended (any status): its final values, and the plots drawn completely."""
        self.set_running(False)
        if result.status == "refused":  # its data could not load or does not fit: no run
            self.curves_view.show_content(bool(self.series))
            self.show_problem(f"Cannot train: {result.message}")
            return
        self.on_event(TrainEnd(result.status, result.message, result.history))
        self.speed.setText(self.speed.text().split(" · ETA")[0])  # nothing left to wait for
        final = {k: v[-1] for k, v in result.history.items() if v and k != "samples_per_s"}
        summary = ", ".join(f"{k} {v:.4f}" for k, v in final.items())
        self.status.setText(f"{result.status.capitalize()}: {result.message}. {summary}")

    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.status.setText("Paused." if paused else "Training…")
        self.pause_toggled.emit(paused)

    def reset(self) -> None:
        """Another project: nothing of the previous one's runs stays."""
        self.reset_plots()
        self.set_running(False)
        self.status.setText(READY)
        self._problem = False

    def reset_plots(self) -> None:
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.clear()
            if plot.legend is not None:
                plot.legend.clear()
        self.series.clear()
        self.curves.clear()
        self.plot_of.clear()
        self._unmade.clear()
        self._anchored.clear()
        self._dirty.clear()
        self.histograms.clear()
        self.hist_layer.clear()
        self.curves_view.show_content(False)
        self.hist_view.show_content(False)
        self._smoother = Smoother()
        self._color = 0
        self._colours = {}
        self._show_heads(())
        self.alerts.clear()
        self.tabs.setTabText(1, "Alerts")
        self.progress.setValue(0)
        self.epoch_progress.setValue(0)
        self.speed.setText("")

    def begin_run(self) -> None:
        """A run was started: the last one's curves go, and the empty plots show at once. Their
        first layout and paint (10-25 ms) then happen while the run loads its data, not at its
        TrainBegin, when its thread traces the model in Python and each of the paint's many
        calls into Python waits for the interpreter lock (benchmarks/README.md, bench_ui)."""
        self.reset_plots()
        self.set_running(True)
        self.curves_view.show_content(True)
        self.status.setText("Starting…")

    def _show_heads(self, heads: tuple[str, ...]) -> None:
        """Several outputs: each head's loss and metrics in the head's colour, validation
        dashed and unnamed (a legend of a dozen names covers the curves), and no total: the
        sum of unlike heads' losses says nothing about any of them."""
        if heads == self._heads:
            return  # a new title or legend re-lays out and repaints all three plots
        self._heads = heads
        dashed = " (dashed: validation)" if heads else ""
        self.loss_plot.setTitle(("Loss of each output" if heads else "Loss") + dashed)
        self.metric_plot.setTitle("Metrics" + dashed)
        for plot in (self.loss_plot, self.metric_plot):
            if plot.legend is not None:
                plot.legend.setColumnCount(2 if heads else 1)

    def _head_of(self, base: str) -> str | None:
        """The output a quantity belongs to ('relu' for relu_accuracy), the longest match."""
        found = [h for h in self._heads if base.startswith(f"{h}_")]
        return max(found, key=len) if found else None

    def _shown(self, key: str) -> bool:
        """With several heads, the total loss and its per-batch curve are not drawn."""
        return not self._heads or key.removeprefix("val_") != "loss"

    def _colour_of(self, base: str) -> str:
        """A quantity's colour: the palette in order of first appearance, so the same run
        looks the same in every session (never `hash()`, which changes per process)."""
        if base not in self._colours:
            self._colours[base] = PALETTE[len(self._colours) % len(PALETTE)]
        return self._colours[base]

    def _plot_for(self, key: str) -> Any:
        if key == "learning_rate":
            return self.lr_plot
        base = key.removeprefix("val_").removesuffix(" (smoothed)").removesuffix(" (batches)")
        return self.loss_plot if family(base) == "loss" else self.metric_plot

    def _make_curve(self, key: str) -> None:
        """The plot item of a curve whose points came already (about 2 ms: made at a redraw
        tick, one a tick, not all at an epoch's end, when a run adds five at once)."""
        plot = self.plot_of[key]
        base = key.removeprefix("val_").removesuffix(" (smoothed)").removesuffix(" (batches)")
        if key == "learning_rate":
            color = "#2ca02c"
        else:
            color = self._colour_of(self._head_of(base) or base)
            self._anchor(plot, 0.0)  # value axes include zero: honest scales
            if plot is self.metric_plot and is_rate(base):
                self._anchor(plot, 1.0)  # accuracy is read against its whole 0..1 scale
        batches = "(batches" in key
        if batches:  # each batch's loss, faint and unnamed, under its smoothed line
            raw, smooth = batch_pens(color)
            smoothed = key.endswith("(smoothed)")
            name = RAW if smoothed else None
            item = plot.plot(pen=smooth if smoothed else raw, name=name, antialias=False)
        elif key.startswith("val_"):
            item = plot.plot(
                pen=pg.mkPen(color, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                symbol="s",
                symbolSize=5,
                symbolBrush=color,
                name=None if self._heads else key,  # the title says dashed is validation
            )
        else:
            item = plot.plot(
                pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5, symbolBrush=color, name=key
            )
        if batches:  # PlotItem.addItem resets these: set them after the curve was added
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
        self.curves[key] = item
        self._dirty.add(plot)  # its points are drawn at the plot's next turn

    def _anchor(self, plot: Any, value: float) -> None:
        """One invisible point per plot and value (each is an item to paint and to index)."""
        if (id(plot), value) not in self._anchored:
            self._anchored.add((id(plot), value))
            anchor(plot, value)

    def on_event(self, event: Any) -> None:
        if isinstance(event, TrainBegin):
            self.curves_view.show_content(True)
            self._epochs = max(1, event.epochs)
            self._steps = max(1, event.steps_per_epoch)
            self.progress.setRange(0, self._epochs * self._steps)
            self.epoch_progress.setRange(0, self._steps)
            self._show_heads(tuple(event.heads))
            self.status.setText("Training…")
        elif isinstance(event, BatchEnd):
            losses = event.losses if self._shown("loss") else ()  # several heads: no total
            for step, loss in losses:  # measured on each batch, not the epoch's mean
                x = event.epoch + (step + 1) / self._steps  # an event holds its epoch's batches
                self._add("loss (batches)", x, loss)
                self._add("loss (batches) (smoothed)", x, self._smoother.add(loss))
            done = event.epoch * self._steps + event.step + 1
            self.progress.setValue(done)
            self.epoch_progress.setValue(event.step + 1)
            if event.seconds > 0:
                per_step = event.seconds / done
                left = per_step * (self._epochs * self._steps - done)
                self.speed.setText(f"ETA {_eta(left)}")
        elif isinstance(event, EpochEnd):
            x = event.epoch + 1.0
            for key, value in event.logs.items():
                if key != "learning_rate" and self._shown(key):
                    self._add(key, x, value)
            self._add("learning_rate", x, event.learning_rate)
            self.progress.setValue((event.epoch + 1) * self._steps)
            self.epoch_progress.setValue(self._steps)
            left = (self._epochs - event.epoch - 1) * event.seconds
            self.speed.setText(f"{event.samples_per_s:,.0f} samples/s · ETA {_eta(left)}")
            parts = [f"{k} {v:.4f}" for k, v in event.logs.items() if k != "learning_rate"]
            self.status.setText(f"Epoch {event.epoch + 1}/{self._epochs}: " + ", ".join(parts))
            if event.histograms:
                self._add_histograms(event.epoch, event.histograms)
        elif isinstance(event, TrainAlert):
            alert = event.alert
            self.alerts.addItem(f"⚠ {alert.text()}")
            point_at = alert.layer or alert.head or ""  # a head is its output layer
            self.alerts.item(self.alerts.count() - 1).setData(256, point_at)
            self.tabs.setTabText(1, f"Alerts ({self.alerts.count()})")
        elif isinstance(event, TrainEnd):
            self._redraw(everything=True)

    def _add_histograms(self, epoch: int, hist: dict[str, Any]) -> None:
        self.hist_view.show_content(True)
        for layer in hist.get("weights", {}):
            if layer not in self.histograms:
                self.histograms[layer] = []
                self.hist_layer.addItem(layer)
            self.histograms[layer].append(
                (epoch, hist["weights"].get(layer), hist.get("gradients", {}).get(layer))
            )
        self._draw_histograms(self.hist_layer.currentText())

    def _draw_histograms(self, layer: str) -> None:
        self.hist_plot.clear()
        self.grad_plot.clear()
        recent = self.histograms.get(layer, [])[-5:]
        for i, (_epoch, weights, grads) in enumerate(recent):
            alpha = int(60 + 195 * (i + 1) / len(recent))
            for plot, data in ((self.hist_plot, weights), (self.grad_plot, grads)):
                if data is not None:
                    counts, edges = data
                    plot.plot(
                        edges,
                        counts,
                        stepMode="center",
                        pen=pg.mkPen((31, 119, 180, alpha), width=2),
                    )

    def point_count(self) -> int:
        return sum(len(s.x) for s in self.series.values())

    def _add(self, key: str, x: float, y: float) -> None:
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = Series()
            self.plot_of[key] = self._plot_for(key)
            self._unmade.append(key)
        series.add(x, y)
        self._dirty.add(self.plot_of[key])

    def _redraw(self, everything: bool = False) -> None:
        """Make the next new curve's item, then draw the new points of the next plot that has
        any, in turn; or make and draw all of them.

        A repaint of one plot costs a third of all three: while TensorFlow keeps the CPU busy,
        that is what bounds the window's longest pause (benchmarks/bench_ui.py)."""
        for key in self._unmade if everything else self._unmade[:1]:
            self._make_curve(key)
        del self._unmade[: len(self._unmade) if everything else 1]
        plots = [self.loss_plot, self.metric_plot, self.lr_plot]
        drawable = {id(self.plot_of[key]) for key in self.curves}
        due = [p for p in plots if p in self._dirty and id(p) in drawable]
        if not due:
            return
        if not everything:
            later = [p for p in due if plots.index(p) >= self._turn]
            due = [(later or due)[0]]
            self._turn = (plots.index(due[0]) + 1) % len(plots)
        self._dirty.difference_update(due)
        for key, curve in self.curves.items():
            if self.plot_of[key] in due:
                series = self.series[key]
                curve.setData(series.x, series.y)
        rates = self.series.get("learning_rate")
        if rates is not None and self.lr_plot in due:
            show_rates(self.lr_plot, rates.y)
