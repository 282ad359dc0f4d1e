"""The Runs table and its overlay legend name each run by what changed."""

from __future__ import annotations

from dataclasses import replace

from gui.main_window import MainWindow
from tests.backend.test_run_names import record


def test_the_runs_table_and_legend_say_what_changed(window: MainWindow) -> None:
    first = replace(record("a"), history={"loss": [0.6, 0.4], "val_loss": [0.6, 0.5]})
    second = replace(
        record("b"),
        training={**first.training, "optimizer": "sgd"},
        history={"loss": [0.7, 0.6], "val_loss": [0.7, 0.65]},
    )
    window.project.runs[:] = [first, second]
    panel = window.runs_panel
    panel.refresh()
    assert panel.table.horizontalHeaderItem(0).text() == "Run (what changed)"
    names = [panel.table.item(row, 0).text().removeprefix("● ") for row in range(2)]
    assert names == ["optimizer adam → sgd", "first run: adam, learning rate 0.01"]
    panel.select_runs(["a", "b"])
    legend = [label.text for _, label in panel.legend.items]
    assert legend == ["optimizer adam → sgd", "first run: adam, learning rate 0.01"]
