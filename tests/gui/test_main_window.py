"""The main window driven as a user would: palette, canvas gestures, inspector, train, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLineEdit

from backend.document.graph import LayerGraph
from backend.document.project import Project, load_project
from backend.training.trainer import TrainResult
from gui.canvas.items import NodeItem, PortItem
from gui.canvas.view import LAYER_MIME
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, finish_jobs, make_window


def points(window: MainWindow, key: str) -> int:
    """How many points the training panel holds for a curve (0 before it exists)."""
    series = window.training_panel.series.get(key)
    return len(series.x) if series is not None else 0


def view_point(window: MainWindow, scene_pos: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_pos)


def drop_layer(window: MainWindow, layer_type: str, at: QPoint) -> None:
    """What the view receives when a palette item is dropped on it."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, layer_type.encode())
    event = QDropEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.view.dropEvent(event)


def drag_between(qtbot: Any, window: MainWindow, a: PortItem, b: PortItem) -> None:
    start = view_point(window, a.scenePos())
    end = view_point(window, b.scenePos())
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=(start + end) / 2)
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


@pytest.fixture
def empty_window(qtbot: Any, dialogs: Dialogs) -> Any:
    project = Project(LayerGraph(), name="Scratch")
    project.training.epochs = 1
    win = make_window(qtbot, project, dialogs)
    yield win
    win.shutdown()


def test_window_shows_example_with_shapes_and_device(window: MainWindow) -> None:
    graph = window.project.graph
    assert len(window.scene.node_items) == len(graph.nodes) == 7
    assert len(window.scene.edge_items) == len(graph.edges) == 6
    flatten = graph.node_by_name("flatten")
    edge = next(e for e in window.scene.edge_items if e.src == flatten.id)
    assert window.scene.edge_items[edge].label_text == "256"
    assert "CPU" in window.device_label.text() or "GPU" in window.device_label.text()


def test_build_graph_with_palette_drops_and_port_drags(
    qtbot: Any, empty_window: MainWindow
) -> None:
    win = empty_window
    center = win.view.viewport().rect().center()
    drop_layer(win, "Input", center + QPoint(-250, 0))
    drop_layer(win, "Dense", center + QPoint(50, 0))
    graph = win.project.graph
    assert [n.layer_type for n in graph.nodes.values()] == ["Input", "Dense"]
    inp, dense = (win.scene.node_items[nid] for nid in graph.nodes)
    assert inp.output_port is not None
    drag_between(qtbot, win, inp.output_port, dense.input_ports[0])
    assert len(graph.edges) == 1
    edge_item = next(iter(win.scene.edge_items.values()))
    assert edge_item.label_text == "16"  # Input's default shape (16,)
    assert dense.shape_result is not None and dense.shape_result.shape == (None, 32)


def test_drag_from_input_port_to_output_port_also_connects(
    qtbot: Any, empty_window: MainWindow
) -> None:
    win = empty_window
    graph = win.project.graph
    a = graph.add_node("Input", position=(0, 0))
    b = graph.add_node("Dense", position=(300, 0))
    src, dst = win.scene.node_items[a.id], win.scene.node_items[b.id]
    assert src.output_port is not None
    drag_between(qtbot, win, dst.input_ports[0], src.output_port)
    assert [(e.src, e.dst) for e in graph.edges] == [(a.id, b.id)]


def test_inspector_edit_updates_edge_shape(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dense = graph.node_by_name("dense")
    window.scene.select_node(dense.id)
    editor = window.inspector.editors["units"]
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "40")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert graph.nodes[dense.id].params["units"] == 40
    out_edge = next(e for e in window.scene.edge_items if e.src == dense.id)
    assert window.scene.edge_items[out_edge].label_text == "40"
    assert "(None, 40)" in window.inspector.status.text()


def test_bad_parameter_text_is_refused_with_a_message(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dense = graph.node_by_name("dense")
    window.scene.select_node(dense.id)
    editor = window.inspector.editors["units"]
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "many")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert graph.nodes[dense.id].params["units"] == 64
    assert "not a valid" in window.inspector.status.text()


def test_shape_error_marks_node_and_refuses_training(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    flatten = graph.node_by_name("flatten")
    window.scene.select_node(flatten.id)
    window.scene.delete_selection()
    dense = graph.node_by_name("dense")
    pool = graph.node_by_name("max_pooling2d")
    graph.connect(pool.id, dense.id)  # Dense on an image is fine in Keras: (None, 4, 4, 64)
    conv = graph.node_by_name("conv2d")
    graph.set_params(conv.id, {"kernel_size": [9, 9], "padding": "valid"})  # 8x8 input: too big
    item = window.scene.node_items[conv.id]
    assert item.has_error
    assert "conv2d" in item.toolTip()
    assert window.training.start() is False
    assert "conv2d" in window.training_panel.status.text()
    assert window.scene.selected_node_ids() == [conv.id]


def test_train_plots_live_then_stop(qtbot: Any, window: MainWindow) -> None:
    window.project.training.epochs = 200
    window.settings_panel.load()
    qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert window.is_training
    qtbot.waitUntil(lambda: points(window, "loss") >= 1, timeout=60_000)
    batches = window.training_panel.curves  # each curve's item is made at a redraw tick
    qtbot.waitUntil(lambda: "loss (batches)" in batches)
    qtbot.waitUntil(lambda: batches["loss (batches)"].getData()[0] is not None)
    assert points(window, "loss (batches)") >= 1
    assert points(window, "learning_rate") >= 1
    with qtbot.waitSignal(window.training.finished, timeout=30_000) as blocker:
        qtbot.mouseClick(window.training_panel.stop_button, Qt.MouseButton.LeftButton)
    result: TrainResult = blocker.args[0]
    assert result.status == "stopped"
    assert 1 <= len(result.history["loss"]) < 200
    assert window.training_panel.train_button.isEnabled()
    assert window.workflow.weights.run is not None  # the stopped run's weights are current


def test_training_completes_and_exports_keras(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    with qtbot.waitSignal(window.training.finished, timeout=60_000) as blocker:
        assert window.training.start()
    assert blocker.args[0].status == "completed"
    assert points(window, "val_accuracy") == 2
    assert "samples/s" in window.training_panel.speed.text()
    out = tmp_path / "digits.keras"
    assert window.exports.export(out, "keras")
    finish_jobs(qtbot, window)
    from backend.exchange.keras_file import load_keras

    model = load_keras(out)
    trained = window.workflow.build_model()  # the run's checkpoint, the current weights
    assert trained.weights.run is not None and trained.weights.run.id == window.project.runs[-1].id
    for exported, kept in zip(model.get_weights(), trained.model.get_weights(), strict=True):
        np.testing.assert_array_equal(exported, kept)


def test_save_and_reopen_gives_same_graph(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    graph = window.project.graph
    graph.move_node(graph.node_by_name("dense").id, (123.0, 456.0))
    path = tmp_path / "mine.dcproj.json"
    assert window.files.save_to(path)
    assert not window.project.dirty
    saved = graph.to_dict()
    other = make_window(qtbot, Project(name="Other"), dialogs)
    assert other.files.open_project(path)
    assert other.project.graph.to_dict() == saved
    assert set(other.scene.node_items) == {node["id"] for node in saved["nodes"]}
    pos = other.scene.node_items[graph.node_by_name("dense").id].pos()
    assert (pos.x(), pos.y()) == (123.0, 456.0)
    other.shutdown()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("this is { not json", "not valid JSON"),
        (json.dumps({"format_version": 99, "graph": {}}), "newer DeepCanvas"),
        (
            json.dumps({"format_version": 1, "graph": {"nodes": [{"id": "a", "type": "Lambda"}]}}),
            "Lambda",
        ),
    ],
)
def test_broken_project_file_changes_nothing(
    window: MainWindow, dialogs: Dialogs, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "broken.dcproj.json"
    path.write_text(content)
    before = window.project.graph.to_dict()
    assert window.files.open_project(path) is False
    assert dialogs.errors and expected in dialogs.errors[-1][1]
    assert str(path) in dialogs.errors[-1][1]
    assert window.project.graph.to_dict() == before
    assert len(window.scene.node_items) == 7


def test_closing_mid_training_stops_cleanly(qtbot: Any, window: MainWindow) -> None:
    window.project.training.epochs = 500
    assert window.training.start()
    qtbot.waitUntil(lambda: points(window, "loss (batches)") > 0, timeout=60_000)
    worker = window.training.worker
    assert worker is not None
    window.close()
    assert not worker.isRunning()
    assert worker.result is not None and worker.result.status == "stopped"


def test_second_train_press_while_running_is_refused(qtbot: Any, window: MainWindow) -> None:
    window.project.training.epochs = 500
    assert window.training.start()
    assert window.training.start() is False
    with qtbot.waitSignal(window.training.finished, timeout=60_000):
        window.training.stop()


def test_autosave_writes_unsaved_work_atomically(window: MainWindow, private_home: Path) -> None:
    assert window.files.autosave() is None  # nothing unsaved yet
    window.project.graph.rename_node(window.project.graph.node_by_name("dense").id, "hidden")
    target = window.files.autosave()
    assert target is not None and target.parent == private_home / "autosave"
    assert load_project(target).graph.node_by_name("hidden")
    window.close()  # a normal close (the test's dialog answers "discard"): nothing to recover
    assert not target.exists()


def test_palette_search_filters_layers(window: MainWindow) -> None:
    window.palette.search.setText("lstm")
    visible = window.palette.visible_types()
    assert "LSTM" in visible and "Dense" not in visible
    window.palette.search.setText("feature map")  # found by description
    assert "GlobalAveragePooling2D" in window.palette.visible_types()
    window.palette.search.setText("")
    assert len(window.palette.visible_types()) == len(window.palette.items)


def test_delete_key_removes_node_with_its_edges(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dropout = graph.node_by_name("dropout")
    window.scene.select_node(dropout.id)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert dropout.id not in graph.nodes
    assert all(dropout.id not in (e.src, e.dst) for e in graph.edges)
    assert dropout.id not in window.scene.node_items
    assert isinstance(next(iter(window.scene.node_items.values())), NodeItem)


def test_dragging_a_node_moves_it_in_the_model_snapped(qtbot: Any, window: MainWindow) -> None:
    graph = window.project.graph
    dense = graph.node_by_name("dense")
    item = window.scene.node_items[dense.id]
    grab = item.scenePos() + QPointF(60, 40)  # on the body, away from the ports
    start = view_point(window, grab)
    end = start + QPoint(47, 33)
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, pos=start + (end - start) * step / 5)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    x, y = graph.nodes[dense.id].position
    assert (x, y) != (0.0, 170.0)
    assert x % 10 == 0 and y % 10 == 0
    assert (item.pos().x(), item.pos().y()) == (x, y)
