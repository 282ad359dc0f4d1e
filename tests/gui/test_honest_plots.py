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


def test_side_by_side_heads_are_drawn_each_in_its_colour_without_the_total(
    window: MainWindow,
) -> None:
    """Four networks in one run: each head's loss and accuracy share its colour, validation is
    dashed and left out of the legend, and the total (their sum) is not drawn to squash them."""
    panel = window.training_panel
    panel.reset_plots()
    heads = ("relu", "tanh")
    panel.on_event(TrainBegin(epochs=2, steps_per_epoch=1, heads=heads))
    for epoch in range(2):
        panel.on_event(BatchEnd(epoch, 0, 1, {"loss": 1.4}, losses=((0, 1.4),)))
        logs = {"loss": 1.4, "val_loss": 1.5}
        for head in heads:
            logs |= {f"{head}_loss": 0.7, f"val_{head}_loss": 0.75, f"{head}_accuracy": 0.5}
            logs |= {f"val_{head}_accuracy": 0.5}
        panel.on_event(EpochEnd(epoch, logs, 1.0, learning_rate=0.01))
    panel.on_event(TrainEnd("completed", "done", {}))
    assert "loss" not in panel.curves and "loss (batches)" not in panel.curves
    assert [label.text for _, label in panel.loss_plot.legend.items] == ["relu_loss", "tanh_loss"]
    metrics = [label.text for _, label in panel.metric_plot.legend.items]
    assert metrics == ["relu_accuracy", "tanh_accuracy"]
    colour = {key: curve.opts["pen"].color().name() for key, curve in panel.curves.items()}
    assert colour["relu_loss"] == colour["val_relu_loss"] == colour["relu_accuracy"]
    assert colour["relu_loss"] != colour["tanh_loss"]
    assert "dashed: validation" in panel.loss_plot.titleLabel.text
    panel.reset_plots()  # the next run, of one output, reads as before
    panel.on_event(TrainBegin(epochs=1, steps_per_epoch=1))
    panel.on_event(EpochEnd(0, {"loss": 0.5, "val_loss": 0.6}, 1.0, learning_rate=0.01))
    panel.on_event(TrainEnd("completed", "done", {}))
    assert [label.text for _, label in panel.loss_plot.legend.items] == ["loss", "val_loss"]
    assert panel.loss_plot.titleLabel.text == "Loss"
