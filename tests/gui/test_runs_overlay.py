"""The Runs overlay stays readable: its legend sits outside the curves, and one diverged run
(learning rate 1, loss in the thousands) does not squash the other runs' curves flat."""

from __future__ import annotations

from dataclasses import replace

from gui.main_window import MainWindow
from tests.backend.test_run_names import record

HEALTHY = {"loss": [0.7, 0.5, 0.35, 0.3, 0.25, 0.22], "val_loss": [0.7, 0.55, 0.4, 0.35, 0.3, 0.3]}
DIVERGED = {"loss": [5e3, 900.0, 40.0, 8.0, 0.9, 0.8], "val_loss": [2e3, 300.0, 9.0, 2.0, 0.8, 0.8]}


def overlay(window: MainWindow) -> None:
    healthy = replace(record("a"), history=HEALTHY)
    diverged = replace(
        record("b"), training={**healthy.training, "learning_rate": 1.0}, history=DIVERGED
    )
    window.project.runs[:] = [healthy, diverged]
    window.runs_panel.refresh()
    window.runs_panel.select_runs(["a", "b"])


def test_a_diverged_run_does_not_squash_the_others_and_the_legend_covers_nothing(
    window: MainWindow,
) -> None:
    window.resize(1400, 900)
    window.show()
    overlay(window)
    panel = window.runs_panel
    view = panel.plot.getPlotItem().getViewBox()
    low, high = view.viewRange()[1]
    assert low <= 0 < 0.7 < high < 10  # the healthy run fills the plot, from zero
    assert (
        panel.clipped_at == high
        and "(a run reaches 5000)" in panel.plot.getPlotItem().titleLabel.text
    )
    legend = panel.legend.sceneBoundingRect()
    assert [label.text for _, label in panel.legend.items] == [
        "learning rate 0.01 → 1",
        "first run: adam, learning rate 0.01",
    ]  # one entry per run: loss solid, val_loss dashed, as the title says
    assert legend.left() >= view.sceneBoundingRect().right() - 1  # beside the curves, not on them

    panel.ignore_outliers.setChecked(False)  # everything, the 5000 included
    assert view.viewRange()[1][1] >= 5e3 and panel.clipped_at is None

    panel.ignore_outliers.setChecked(True)
    panel.select_runs(["a"])  # a single run is always shown whole
    assert view.viewRange()[1][1] >= 0.7 and panel.clipped_at is None
