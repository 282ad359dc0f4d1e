"""Inside the network for one chosen sample: activations, saliency, first-layer filters.

Choosing a sample (in the predictions browser) calls `show_sample`; the work runs on a
`KerasJob` thread, one at a time, and only the latest request waits while one runs. The
decision boundary of 2-D data has its own tab (`boundary`, a `DecisionBoundaryView`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend.evaluation.insight import (
    InsightError,
    LayerActivation,
    SampleInsight,
    inspect_sample,
    tile,
)
from gui.evaluation.attention_view import AttentionView
from gui.evaluation.decision_boundary import DecisionBoundaryView
from gui.evaluation.predictions_view import is_image
from gui.runtime.keras_job import KerasJob

MAX_MAPS = 64  # feature maps shown per layer
NO_BOUNDARY = (
    "The decision boundary is drawn for models of 2-D points (moons, circles, two clouds): "
    "live at each epoch while one trains, and after Evaluate."
)
GREYS = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (20, 20, 20)])
SIGNED = pg.ColorMap(  # negative red, zero white, positive blue
    [0.0, 0.5, 1.0], [(192, 57, 43), (255, 255, 255), (31, 95, 180)]
)
HEAT = pg.ColorMap(  # transparent where the gradient is small, so the sample shows through
    [0.0, 0.5, 1.0], [(255, 60, 0, 0), (255, 60, 0, 150), (255, 230, 0, 230)]
)
Request = tuple[Any, np.ndarray, int, str, "bool | None"]


def image_plot(title: str) -> tuple[pg.PlotWidget, pg.ImageItem]:
    """A white, aspect-locked, top-down plot holding one image."""
    plot = pg.PlotWidget()
    plot.setBackground("w")
    item = plot.getPlotItem()
    item.setTitle(title, color="#333333")
    item.setAspectLocked(True)
    item.invertY(True)
    item.hideAxis("bottom")
    item.hideAxis("left")
    image = pg.ImageItem(axisOrder="row-major")
    item.addItem(image)
    return plot, image


def bar_plot(title: str) -> tuple[pg.PlotWidget, pg.BarGraphItem]:
    plot = pg.PlotWidget()
    plot.setBackground("w")
    plot.getPlotItem().setTitle(title, color="#333333")
    bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4C78A8")
    plot.addItem(bars)
    return plot, bars


class ValuesView(QStackedWidget):
    """An image (maps, matrices) or bars (a vector), whichever suits the values."""

    def __init__(self, title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.image_plot, self.image = image_plot(title)
        self.image.setColorMap(GREYS)
        self.bar_plot, self.bars = bar_plot(title)
        self.addWidget(self.image_plot)
        self.addWidget(self.bar_plot)

    def show_image(self, pixels: np.ndarray, title: str, colors: Any = GREYS) -> None:
        self.image.setColorMap(colors)
        self.image.setImage(pixels, levels=(0.0, 1.0))
        self.image_plot.getPlotItem().setTitle(title, color="#333333")
        self.image_plot.getPlotItem().autoRange()
        self.setCurrentWidget(self.image_plot)

    def show_bars(self, values: np.ndarray, title: str) -> None:
        values = np.asarray(values, dtype="float64").ravel()
        self.bars.setOpts(x=np.arange(len(values)), height=values, width=0.8, brushes=None)
        self.bar_plot.getPlotItem().getAxis("bottom").setTicks(None)
        self.bar_plot.getPlotItem().setTitle(title, color="#333333")
        self.bar_plot.getPlotItem().autoRange()
        self.setCurrentWidget(self.bar_plot)

    def show_signed_bars(self, values: np.ndarray, names: list[str], title: str) -> None:
        """Bars above zero in blue, below in red, each named on the axis."""
        values = np.asarray(values, dtype="float64").ravel()
        brushes = [pg.mkBrush("#1f5fb4" if v >= 0 else "#c0392b") for v in values]
        self.bars.setOpts(x=np.arange(len(values)), height=values, width=0.8, brushes=brushes)
        ticks = [(i, name) for i, name in enumerate(names[: len(values)])]
        self.bar_plot.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.bar_plot.getPlotItem().setTitle(title, color="#333333")
        self.bar_plot.getPlotItem().autoRange()
        self.setCurrentWidget(self.bar_plot)


class InsightPanel(QWidget):
    """Activations per layer (a combo chooses), saliency, first-layer filters, boundary."""

    shown = Signal(object)  # the SampleInsight just drawn
    failed = Signal(str)

    def __init__(self, is_training: Callable[[], bool] = lambda: False, parent: Any = None):
        super().__init__(parent)
        self.setObjectName("insight_panel")
        self.is_training = is_training
        self.insight: SampleInsight | None = None
        self.sample: np.ndarray | None = None
        self.feature_names: list[str] = []
        """Names of the input features, for the weights of a Dense layer on them."""
        self.vocabulary: list[str] = []
        """What each token id stands for (the dataset's), for the attention maps' axes."""
        self.class_names: list[str] = []
        """The evaluated data's class names, for the saliency's title."""
        self.job: KerasJob | None = None
        self._done_job: KerasJob | None = None
        self._pending: Request | None = None
        self._running: tuple[np.ndarray, str] = (np.zeros(0), "")
        self._build()

    def _build(self) -> None:
        self.caption = QLabel("Evaluate, then choose a test sample to look inside the network.")
        self.caption.setObjectName("insight_caption")
        self.caption.setWordWrap(True)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("insight_layer")
        self.layer_combo.currentIndexChanged.connect(self._draw_activation)
        self.activations = ValuesView("Activations")
        activations = QWidget()
        box = QVBoxLayout(activations)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.layer_combo)
        box.addWidget(self.activations, 1)
        self.saliency_plot, self.saliency_base = image_plot("Saliency")
        self.saliency_base.setColorMap(GREYS)
        self.saliency_overlay = pg.ImageItem(axisOrder="row-major")
        self.saliency_overlay.setColorMap(HEAT)
        self.saliency_plot.addItem(self.saliency_overlay)
        self.saliency_bars = ValuesView("Saliency per input feature")
        self.saliency = QStackedWidget()
        self.saliency.addWidget(self.saliency_plot)
        self.saliency.addWidget(self.saliency_bars)
        self.filters = ValuesView("First-layer filters")
        self.boundary = DecisionBoundaryView()
        self.boundary_head = QComboBox()  # side-by-side networks: whose boundary
        self.boundary_head.setObjectName("boundary_head")
        self.boundary_head.setToolTip("The output (network) whose decision boundary is drawn")
        self.boundary_head.setVisible(False)
        self.boundary_head.currentTextChanged.connect(
            lambda name: name and self.boundary.choose_head(name)
        )
        self.boundary.heads_found.connect(self._list_heads)
        self.boundary_note = QLabel(NO_BOUNDARY)
        self.boundary_note.setWordWrap(True)
        self.boundary.drawn.connect(self._show_boundary)
        self._show_boundary(False)
        boundary = QWidget()
        box = QVBoxLayout(boundary)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.boundary_head)
        box.addWidget(self.boundary_note)
        box.addWidget(self.boundary, 1)
        self.attention = AttentionView()
        self.tabs = QTabWidget()
        for page, title, tip in (  # short titles: the dock is narrow; the tooltip says more
            (activations, "Activations", "What each layer outputs for the chosen sample"),
            (self.saliency, "Saliency", "Which inputs the prediction is most sensitive to"),
            (self.filters, "Filters", "The learnt kernels of a convolution, the weights of a unit"),
            (boundary, "Boundary", "The decision boundary over 2-D data, live while training"),
            (self.attention, "Attention", "Where each position looks, per attention head"),
        ):
            self.tabs.setTabToolTip(self.tabs.addTab(page, title), tip)
        self.tabs.tabBar().setUsesScrollButtons(False)  # every view's tab in sight
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.tabs, 1)

    def _show_boundary(self, drawn: bool) -> None:
        """The plot when a grid is drawn; else what would draw one."""
        self.boundary.setVisible(drawn)
        self.boundary_note.setVisible(not drawn)

    def _list_heads(self, heads: list[str]) -> None:
        """The outputs of side-by-side networks, to choose whose boundary is drawn."""
        chosen = self.boundary.head
        self.boundary_head.blockSignals(True)
        self.boundary_head.clear()
        self.boundary_head.addItems(heads)
        self.boundary_head.setCurrentIndex(max(heads.index(chosen) if chosen in heads else 0, 0))
        self.boundary_head.blockSignals(False)
        self.boundary_head.setVisible(bool(heads))

    # ----------------------------------------------------------------- requests
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def show_sample(
        self,
        model: Any,
        inputs: np.ndarray,
        index: int,
        description: str = "",
        classifier: bool | None = None,
    ) -> bool:
        """Look inside `model` for `inputs[index]` (on a worker thread). False if refused."""
        if self.is_training():
            self.caption.setText("Training is running: look inside the network after it ends.")
            return False
        request: Request = (model, inputs, index, description, classifier)
        if self.busy:
            self._pending = request  # only the latest choice matters
            return True
        self._start(request)
        return True

    def _start(self, request: Request) -> None:
        model, inputs, index, description, classifier = request
        sample = np.asarray(inputs[index])
        self._running = (sample, description)
        self.caption.setText(f"Sample {index}: computing… {description}")
        vocabulary = list(self.vocabulary)
        job = KerasJob(
            lambda: inspect_sample(model, sample, index, classifier, vocabulary), (InsightError,)
        )
        job.succeeded.connect(self._on_result)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._next)
        self.job = job
        job.start()

    def _next(self) -> None:
        """The job ended (its result, if any, is already drawn): start the waiting request."""
        if self.job is not None:
            self.job.wait()
        self._done_job, self.job = self.job, None  # deleted (no parent) when replaced
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)

    def _on_result(self, insight: SampleInsight) -> None:
        sample, description = self._running
        self._on_done(insight, sample, description)

    def _on_failed(self, message: str) -> None:
        self.caption.setText(f"Cannot look inside the network: {message}")
        self.failed.emit(message)

    def shutdown(self) -> None:
        self._pending = None
        if self.job is not None:
            self.job.wait()

    # ----------------------------------------------------------------- drawing
    def _on_done(self, insight: SampleInsight, sample: np.ndarray, description: str) -> None:
        self.insight = insight
        self.sample = sample
        self.caption.setText(f"Sample {insight.index}: {description}".rstrip(": "))
        previous = self.layer_combo.currentText()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for act in insight.activations:
            self.layer_combo.addItem(f"{act.name} ({act.layer_type}) {act.values.shape}")
        names = [a.name for a in insight.activations]
        chosen = previous.split(" ")[0] if previous else ""
        self.layer_combo.setCurrentIndex(names.index(chosen) if chosen in names else 0)
        self.layer_combo.blockSignals(False)
        self._draw_activation()
        self._draw_saliency(sample)
        self._draw_filters()
        self.attention.show_maps(insight.attention)
        self._raise_dock()
        self.shown.emit(insight)

    def _raise_dock(self) -> None:
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.raise_()

    def current_activation(self) -> LayerActivation | None:
        if self.insight is None or not self.insight.activations:
            return None
        index = max(self.layer_combo.currentIndex(), 0)
        return self.insight.activations[index]

    def _draw_activation(self, *_args: Any) -> None:
        act = self.current_activation()
        if act is None:
            return
        if act.is_feature_maps:
            maps = act.feature_maps()
            shown = min(len(maps), MAX_MAPS)
            title = f"{act.name}: {shown} of {len(maps)} feature maps"
            self.activations.show_image(tile(maps[:MAX_MAPS]), title)
        elif act.values.ndim == 2:
            self.activations.show_image(tile(act.values[None]), f"{act.name} {act.values.shape}")
        else:
            size = act.values.size
            self.activations.show_bars(act.values, f"{act.name}: {size} unit{_s(size)}")

    def _draw_saliency(self, sample: np.ndarray) -> None:
        assert self.insight is not None
        sal = self.insight.saliency
        if sal is None:
            self.saliency_bars.show_bars(np.zeros(0), "No saliency: token ids have no gradient")
            self.saliency.setCurrentWidget(self.saliency_bars)
            return
        title = "Saliency" + self._of_class(sal.class_index)
        sequence = sample.ndim == 2 and not is_image(sample[None])  # (steps, channels)
        if not is_image(sample[None]) and not sequence:
            self.saliency_bars.show_bars(sal.values, title + " per input feature")
            self.saliency.setCurrentWidget(self.saliency_bars)
            return
        if sequence:  # a map of steps (rows) by channels, not 48 unnamed bars
            title += ": steps (rows) x channels"
        picture = sample[..., 0] if sample.ndim == 3 and sample.shape[-1] == 1 else sample
        self.saliency_base.setImage(tile(picture[None]), levels=(0.0, 1.0))
        heat = tile(sal.image[None])
        self.saliency_overlay.setImage(heat, levels=(0.0, 1.0))
        h, w = heat.shape[:2]
        for item in (self.saliency_base, self.saliency_overlay):
            item.setRect(QRectF(0, 0, w, h))
        self.saliency_plot.getPlotItem().setTitle(title, color="#333333")
        self.saliency_plot.getPlotItem().autoRange()
        self.saliency.setCurrentWidget(self.saliency_plot)

    def _of_class(self, index: int | None) -> str:
        """' of 'B first'' for the differentiated class, by name when the data names it."""
        if index is None:
            return ""
        if index < len(self.class_names):
            return f" of '{self.class_names[index]}'"
        return f" of class {index}"

    def _draw_filters(self) -> None:
        assert self.insight is not None
        filters = self.insight.filters
        if filters is None:
            self.filters.show_bars(np.zeros(0), "No Conv or Dense layer with a kernel")
            return
        count = len(filters.images)
        if filters.images.shape[1:2] == (1,):  # a Dense layer on features: signed weights
            self._draw_unit_weights(filters.layer_name, filters.images[:, 0, :])
            return
        title = f"{filters.layer_name} ({filters.layer_type}): {count} filter{_s(count)}"
        self.filters.show_image(tile(filters.images[:MAX_MAPS]), title)

    def _draw_unit_weights(self, layer: str, weights: np.ndarray) -> None:
        """One unit: its signed weight per input feature; several: units x inputs, signed."""
        names = self.feature_names or [f"x{i + 1}" for i in range(weights.shape[1])]
        if len(weights) == 1:
            self.filters.show_signed_bars(weights[0], names, f"{layer}: the weight of each input")
            return
        limit = float(np.abs(weights).max()) or 1.0
        title = f"{layer}: {len(weights)} units x {weights.shape[1]} input weights (signed)"
        self.filters.show_image((weights / limit + 1) / 2, title, SIGNED)

    def clear(self) -> None:
        """Another project (or model): nothing of the previous one's sample stays drawn."""
        self.insight = None
        self.sample = None
        self.feature_names, self.vocabulary, self.class_names = [], [], []
        self.attention.show_maps([])
        self.layer_combo.clear()
        for view in (self.activations, self.saliency_bars, self.filters):
            view.show_bars(np.zeros(0), "")
        self.saliency.setCurrentWidget(self.saliency_bars)
        self.caption.setText("Evaluate, then choose a test sample to look inside the network.")


def _s(count: int) -> str:
    return "" if count == 1 else "s"
