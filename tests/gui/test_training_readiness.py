"""Before a run the Training panel says what is missing, not "Ready: press Train."."""

from __future__ import annotations

from typing import Any

from backend.document.project import DatasetChoice
from gui.main_window import MainWindow
from gui.training.training_panel import NO_DATA, READY


def test_the_training_panel_names_missing_data_then_the_first_error(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.training_panel
    assert panel.status.text() == READY  # a template: data and a sound graph
    dataset = window.project.dataset
    window.workflow.choose_dataset(None)  # as an imported model before data is chosen
    qtbot.waitUntil(lambda: panel.status.text() == NO_DATA, timeout=5_000)
    assert "Data tab" in NO_DATA

    assert isinstance(dataset, DatasetChoice)
    window.workflow.choose_dataset(dataset)
    qtbot.waitUntil(lambda: panel.status.text() == READY, timeout=5_000)
    window.scene.clearSelection()
    window.editing.add_layer_here("Dense")  # nothing selected: added unconnected
    [loose] = window.scene.selected_node_ids()
    name = window.project.graph.nodes[loose].name
    qtbot.waitUntil(lambda: f"'{name}'" in panel.status.text(), timeout=5_000)
    assert panel.status.text().startswith("Cannot train yet:")  # before Train is pressed
    window.scene.delete_selection()
    qtbot.waitUntil(lambda: panel.status.text() == READY, timeout=5_000)
