"""The training plots tell what happened: each batch's own loss under a lightly smoothed
line, and value axes that include zero (and one for accuracy), so a crawl looks flat."""

from __future__ import annotations

import numpy as np
import pytest

from backend.training.trainer import BatchEnd, EpochEnd, TrainBegin, TrainEnd
from gui.main_window import MainWindow
from gui.training.loss_curves import Smoother


def test_a_crawl_is_drawn_flat_on_an_axis_from_zero(window: MainWindow) -> None:
    panel = window.training_panel
    panel.reset_plots()
    panel.on_event(TrainBegin(epochs=3, steps_per_epoch=2))
    losses = [0.655, 0.651, 0.646, 0.640, 0.633, 0.625]  # learning rate 1e-5
    for i, loss in enumerate(losses):
        epoch, step = divmod(i, 2)
        panel.on_event(BatchEnd(epoch, step, 2, {"loss": 0.9}, losses=((step, loss),)))
        if step == 1:
            logs = {"loss": loss, "accuracy": 0.5, "val_loss": loss + 0.01}
            panel.on_event(EpochEnd(epoch, logs, 1.0, learning_rate=1e-5))
    panel.on_event(TrainEnd("completed", "done", {}))
    raw = panel.curves["loss (batches)"].getData()[1]
    assert list(raw) == pytest.approx(losses)  # the batches' own values, not the logs' 0.9
    smooth = panel.curves["loss (batches) (smoothed)"].getData()[1]
    assert smooth[0] == pytest.approx(losses[0]) and losses[-1] < smooth[-1] < losses[0]
    panel.loss_plot.getViewBox().updateAutoRange()
    low, high = panel.loss_plot.getViewBox().viewRange()[1]
    assert low <= 0.0 < 0.655 < high  # the 0.03 fall is 5% of the axis, not all of it
    panel.metric_plot.getViewBox().updateAutoRange()
    low, high = panel.metric_plot.getViewBox().viewRange()[1]
    assert low <= 0.0 and high >= 1.0  # accuracy 0.5 sits mid-scale
    legend = [label.text for _, label in panel.loss_plot.legend.items]
    assert "loss per batch" in legend and legend.count("loss per batch") == 1


def test_the_smoothing_is_light_and_unbiased() -> None:
    smoother = Smoother()
    values = [smoother.add(v) for v in [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]]
    assert values[:2] == pytest.approx([1.0, 1.0])  # no pull towards zero at the start
    assert values[-1] < 0.15  # four batches later the old level has nearly gone
    assert np.all(np.diff(values[1:]) <= 0)
