"""The Runs dock: real runs recorded, reloaded, overlaid, restored and continued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from backend.document.project import load_project
from backend.document.runs import checkpoint_path, graph_fingerprint
from backend.editing.commands import SetParams
from backend.training.trainer import TrainResult
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs

TRAIN_TIMEOUT_MS = 60_000


def train(qtbot: Any, window: MainWindow, start: Any) -> TrainResult:
    with qtbot.waitSignal(window.training.finished, timeout=TRAIN_TIMEOUT_MS) as blocker:
        assert start()
    result: TrainResult = blocker.args[0]
    return result


def click(qtbot: Any, button: Any) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_runs_are_recorded_reloaded_overlaid_and_continued(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    panel = window.runs_panel
    window.project.training.epochs = 1
    assert panel.table.rowCount() == 0

    assert train(qtbot, window, window.training.start).status == "completed"
    [first] = window.project.runs
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 1).text() == "completed" and panel.table.item(0, 2).text() == "1"
    assert panel.table.item(0, 3).text() == f"{first.metrics['loss']:.4f}"
    assert not panel.graph_differs(0) and "Recorded run" in panel.status.text()
    assert first.wall_time_s > 0 and first.fingerprint == graph_fingerprint(window.project.graph)
    assert checkpoint_path(first, None).is_file()  # never saved: in the app's folder

    panel.select_runs([first.id])
    click(qtbot, panel.continue_button)  # from the checkpoint, with the project's settings
    qtbot.waitUntil(lambda: len(window.project.runs) == 2, timeout=TRAIN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.is_training)
    second = window.project.runs[1]
    assert second.status == "completed" and second.parent_id == first.id
    assert second.history["loss"][0] < 0.8 * first.history["loss"][0]
    assert window.project.training.initial_weights is None  # the settings stayed as they were
    assert panel.table.item(0, 1).text() == "completed (continued)"  # newest first

    panel.select_runs([first.id, second.id])
    assert set(panel.curves) == {
        f"{r.id}:{k}" for r in (first, second) for k in ("loss", "val_loss")
    }
    assert len(panel.legend.items) == 2  # one entry per run, its colour
    assert not panel.continue_button.isEnabled()  # one run at a time

    assert window.files.save_to(tmp_path / "digits.dcproj.json")
    assert load_project(tmp_path / "digits.dcproj.json").runs == window.project.runs

    dense = window.project.graph.node_by_name("dense")
    window.undo.push(SetParams(dense.id, {"units": 32}))
    panel.refresh()
    assert panel.graph_differs(0) and panel.graph_differs(1)
    panel.select_runs([second.id])
    assert not panel.continue_selected()
    assert "different graph" in dialogs.errors[-1][1]
    assert not window.is_training and len(window.project.runs) == 2


def test_restore_brings_back_a_runs_graph_as_one_undo_step(
    qtbot: Any, window: MainWindow, dialogs: Dialogs
) -> None:
    panel = window.runs_panel
    graph = window.project.graph
    # A run that failed before training (its data could not load): recorded, no checkpoint.
    job = window.workflow.prepare_training()
    run = window.workflow.finish_training(
        job, TrainResult("failed", "could not load the data: no such file")
    )
    assert run.status == "failed" and run.checkpoint is None and run.epochs == 0

    dense = graph.node_by_name("dense")
    window.undo.push(SetParams(dense.id, {"units": 7}))
    graph.move_node(dense.id, (5.0, 5.0))
    edited = graph_fingerprint(graph)
    qtbot.waitUntil(lambda: panel.graph_differs(0))  # the throttled refresh marks it
    depth = len(window.undo.done)

    panel.select_runs([run.id])
    click(qtbot, panel.restore_button)
    assert graph_fingerprint(graph) == run.fingerprint and graph.to_dict() == run.graph
    assert len(window.undo.done) == depth + 1 and "Restore the graph" in window.undo.undo_label
    assert set(window.scene.node_items) == set(graph.nodes)
    assert not panel.graph_differs(0)

    window.editing.undo_last()
    assert graph_fingerprint(graph) == edited
    assert graph.node_by_name("dense").params["units"] == 7

    assert not panel.continue_selected()  # a failed run keeps no checkpoint
    assert "has no checkpoint (it failed)" in dialogs.errors[-1][1]
    assert not window.is_training


def test_the_runs_dock_sits_with_the_training_dock(window: MainWindow) -> None:
    training = window.findChild(QDockWidget, "dock_training")
    runs = window.findChild(QDockWidget, "dock_runs")
    assert runs is not None and runs.widget() is window.runs_panel
    assert runs in window.tabifiedDockWidgets(training)


def test_the_device_cell_names_the_speed_ups_beside_samples_per_second() -> None:
    from types import SimpleNamespace

    from gui.training.runs_panel import _device

    def run(**training: bool) -> Any:
        return SimpleNamespace(device="CPU", training=training)

    assert _device(run()) == "CPU"
    assert _device(run(mixed_precision=True, jit_compile=False)) == "CPU · mixed_float16"
    assert _device(run(mixed_precision=True, jit_compile=True)) == "CPU · mixed_float16 · XLA"
