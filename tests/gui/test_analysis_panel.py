"""The analysis dock: live summary, throttled refresh, Fix buttons as one undo step, selection."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QDockWidget,
    QPushButton,
    QStyleOptionGraphicsItem,
    QTreeWidgetItem,
)

from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice, Project
from backend.document.training_config import TrainingConfig
from backend.editing.commands import MoveNodes, SetParams
from backend.keras_bridge.compiler import compile_graph
from gui.editor.analysis_panel import AnalysisPanel
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window

WAIT_MS = 5_000


def refreshed(qtbot: Any, panel: AnalysisPanel, after: int) -> None:
    qtbot.waitUntil(lambda: panel.refresh_count > after, timeout=WAIT_MS)


def show_panel(qtbot: Any, window: MainWindow) -> AnalysisPanel:
    """Bring the Analysis tab to the front, as clicking its tab does."""
    dock = window.findChild(QDockWidget, "dock_analysis")
    assert dock is not None
    dock.raise_()
    qtbot.waitUntil(window.analysis_panel.isVisible, timeout=WAIT_MS)
    return window.analysis_panel


def cell(panel: AnalysisPanel, name: str, column: int) -> str:
    table = panel.table
    for row in range(table.rowCount()):
        first = table.item(row, 0)
        if first is not None and first.text() == name:
            item = table.item(row, column)
            return item.text() if item is not None else ""
    raise AssertionError(f"no row {name!r}")


def problem_item(panel: AnalysisPanel, text: str) -> QTreeWidgetItem:
    tree = panel.problems
    for index in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(index)
        if item is not None and text in item.text(0):
            return item
    raise AssertionError(f"no problem mentioning {text!r}")


def button(panel: AnalysisPanel, label: str) -> QPushButton:
    for candidate in panel.fix_buttons():
        if candidate.text() == label:
            return candidate
    raise AssertionError(f"no Fix button {label!r}: {[b.text() for b in panel.fix_buttons()]}")


def click(qtbot: Any, widget: QPushButton) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.fixture
def image_dense_window(qtbot: Any, dialogs: Dialogs) -> Iterator[MainWindow]:
    """Digits, with a Dense fed the unflattened feature maps of a Conv2D."""
    graph = LayerGraph()
    ids = []
    for i, (layer_type, params) in enumerate(
        [
            ("Input", {"shape": [8, 8, 1]}),
            ("Conv2D", {"filters": 4, "kernel_size": [3, 3]}),
            ("Dense", {"units": 10, "activation": "softmax"}),
        ]
    ):
        ids.append(graph.add_node(layer_type, params, position=(i * 260.0, 0.0)).id)
        if i:
            graph.connect(ids[-2], ids[-1])
    project = Project(graph, DatasetChoice("digits"), TrainingConfig(), name="Broken")
    project.dirty = False
    window = make_window(qtbot, project, dialogs)
    yield window
    window.shutdown()


def test_the_summary_matches_keras_for_the_example(qtbot: Any, window: MainWindow) -> None:
    panel = window.analysis_panel
    refreshed(qtbot, panel, 0)
    graph = window.project.graph
    assert panel.table.rowCount() == len(graph.nodes) + 1
    expected = compile_graph(graph).count_params()
    assert cell(panel, "Total", 3) == f"{expected:,}"
    assert cell(panel, "conv2d", 2) == "(None, 8, 8, 16)"
    assert cell(panel, "conv2d", 3) == "160"
    assert f"<b>{expected:,}</b> parameters" in panel.totals_label.text()
    assert "Training memory ✓" in panel.memory_label.text()
    assert panel.problems.topLevelItem(0).text(0) == "No problems found."  # type: ignore[union-attr]
    dense = graph.node_by_name("dense")
    assert panel.analysis.params_of(dense.id) == 256 * 64 + 64


def test_edits_refresh_live_and_a_burst_refreshes_once(qtbot: Any, window: MainWindow) -> None:
    panel = window.analysis_panel
    refreshed(qtbot, panel, 0)
    dense = window.project.graph.node_by_name("dense")
    before = panel.refresh_count
    for units in range(20, 40):  # twenty edits before the event loop runs again
        window.undo.push(SetParams(dense.id, {"units": units}))
    refreshed(qtbot, panel, before)
    qtbot.wait(250)
    assert panel.refresh_count == before + 1
    assert cell(panel, "dense", 3) == f"{256 * 39 + 39:,}"


def test_clicking_a_row_selects_its_node(qtbot: Any, window: MainWindow) -> None:
    panel = show_panel(qtbot, window)
    refreshed(qtbot, panel, 0)
    conv = window.project.graph.node_by_name("conv2d")
    row = next(
        r
        for r in range(panel.table.rowCount())
        if panel.table.item(r, 0).text() == "conv2d"  # type: ignore[union-attr]
    )
    rect = panel.table.visualItemRect(panel.table.item(row, 1))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.scene.selected_node_ids() == [conv.id]


def test_a_fix_button_repairs_in_one_undo_step(qtbot: Any, image_dense_window: MainWindow) -> None:
    window = image_dense_window
    panel = show_panel(qtbot, window)
    refreshed(qtbot, panel, 0)
    graph = window.project.graph
    before = graph.to_dict()
    item = problem_item(panel, "unflattened image")
    assert item.child(0).text(0).startswith("Try: Flatten")  # type: ignore[union-attr]
    count = panel.refresh_count
    click(qtbot, button(panel, "Insert Flatten before 'dense'"))
    assert [n.layer_type for n in graph.nodes.values()] == ["Input", "Conv2D", "Dense", "Flatten"]
    assert window.undo.undo_label == "Insert Flatten before 'dense'"
    refreshed(qtbot, panel, count)
    assert all("unflattened" not in f.message for f in panel.findings)
    assert cell(panel, "dense", 2) == "(None, 10)"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert graph.to_dict() == before


def test_clicking_a_problem_selects_its_node(qtbot: Any, image_dense_window: MainWindow) -> None:
    window = image_dense_window
    panel = show_panel(qtbot, window)
    refreshed(qtbot, panel, 0)
    item = problem_item(panel, "unflattened image")
    rect = panel.problems.visualItemRect(item)
    qtbot.mouseClick(panel.problems.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dense = window.project.graph.node_by_name("dense")
    assert window.scene.selected_node_ids() == [dense.id]


def test_a_batch_that_will_not_fit_turns_the_memory_line_into_a_warning(
    qtbot: Any, dialogs: Dialogs
) -> None:
    graph = LayerGraph()
    ids = [
        graph.add_node("Input", {"shape": [512, 512, 3]}).id,
        graph.add_node("Conv2D", {"filters": 64, "kernel_size": [3, 3], "padding": "same"}).id,
        graph.add_node("GlobalAveragePooling2D").id,
        graph.add_node("Dense", {"units": 10, "activation": "softmax"}).id,
    ]
    for a, b in itertools.pairwise(ids):
        graph.connect(a, b)
    project = Project(graph, DatasetChoice("digits"), TrainingConfig(batch_size=8))
    window = make_window(qtbot, project, dialogs)
    panel = window.analysis_panel
    try:
        refreshed(qtbot, panel, 0)
        assert "✓" in panel.memory_label.text()
        count = panel.refresh_count
        spin = window.settings_panel.editor("batch_size")
        spin.setFocus()
        spin.selectAll()
        qtbot.keyClicks(spin, "65536")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert window.project.training.batch_size == 65536
        refreshed(qtbot, panel, count)
        assert "will not fit" in panel.memory_label.text()
        assert panel.memory_warning is not None and "at batch 65536" in panel.memory_warning
        assert problem_item(panel, "Training needs about")
    finally:
        window.shutdown()


def test_the_panel_waits_for_tensorflow(qtbot: Any) -> None:
    window = MainWindow(Project(LayerGraph()))
    qtbot.addWidget(window)
    panel = window.analysis_panel
    panel.refresh()
    assert panel.refresh_count == 0 and "Waiting for TensorFlow" in panel.totals_label.text()
    window.shutdown()


def test_the_dock_sits_beside_training(window: MainWindow) -> None:
    dock = window.findChild(QDockWidget, "dock_analysis")
    assert dock is not None and dock.widget() is window.analysis_panel
    tabs = window.tabifiedDockWidgets(dock)
    assert "dock_training" in [d.objectName() for d in tabs]


def test_a_file_dataset_is_read_in_the_background_then_checked(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    panel = window.analysis_panel
    refreshed(qtbot, panel, 0)
    path = tmp_path / "twelve_classes.npz"
    rng = np.random.default_rng(1)
    np.savez(path, x=rng.random((48, 8, 8, 1), dtype=np.float32), y=np.arange(48) % 12)
    window.project.set_dataset(DatasetChoice("numpy", {"path": str(path)}))
    qtbot.waitUntil(
        lambda: any("has 12 classes" in f.message for f in panel.findings), timeout=WAIT_MS
    )
    assert not panel.learning_dataset
    click(qtbot, button(panel, "Set units of 'dense_1' to 12"))
    assert window.project.graph.node_by_name("dense_1").params["units"] == 12


def test_moving_nodes_does_not_refresh_the_analysis(qtbot: Any, window: MainWindow) -> None:
    panel = window.analysis_panel
    refreshed(qtbot, panel, 0)
    qtbot.wait(150)
    before = panel.refresh_count
    node = window.project.graph.node_by_name("dense")
    old = node.position
    for step in range(10):
        window.undo.push(MoveNodes({node.id: (old, (old[0] + step, old[1]))}))
    qtbot.wait(250)
    assert panel.refresh_count == before


def render(item: Any) -> QImage:
    rect = item.boundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-rect.topLeft())
    item.paint(painter, QStyleOptionGraphicsItem(), None)
    painter.end()
    return image


def test_node_faces_show_their_parameter_count(qtbot: Any, window: MainWindow) -> None:
    panel = window.analysis_panel
    refreshed(qtbot, panel, 0)
    graph = window.project.graph
    dense = window.scene.node_items[graph.node_by_name("dense").id]
    assert dense.param_count == 256 * 64 + 64
    assert window.scene.node_items[graph.node_by_name("flatten").id].param_count == 0
    with_count = render(dense)
    dense.set_param_count(None)
    assert render(dense) != with_count  # "16.4 K params" was painted
    count = panel.refresh_count
    window.undo.push(SetParams(dense.node.id, {"units": 8}))
    refreshed(qtbot, panel, count)
    assert dense.param_count == 256 * 8 + 8
