"""Journeys through the real window (pytest-qt, offscreen), as a person goes: the buttons, menu
actions and shortcuts they press, the dialogs they answer. After training, the trained weights
are the ones Evaluate, Export and a reopened project use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from backend.document.project import load_project
from backend.exchange.keras_file import load_keras
from backend.templates.examples import digits_cnn
from gui.main_window import MainWindow
from tests.gui.conftest import (  # the GUI tests' autouse fixtures apply here too
    Dialogs,
    _private_qsettings,  # noqa: F401
    make_window,
    no_thread_left,  # noqa: F401
)
from tests.gui.test_main_window import drop_layer, view_point

TRAIN_MS = 90_000


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def window(qtbot: Any, dialogs: Dialogs) -> Iterator[MainWindow]:
    win = make_window(qtbot, digits_cnn(), dialogs)
    win.workflow.set_training(epochs=2)
    yield win
    win.shutdown()


def press_train(qtbot: Any, window: MainWindow) -> Any:
    with qtbot.waitSignal(window.training.finished, timeout=TRAIN_MS) as done:
        qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
        if not window.is_training:  # refused: say why instead of waiting
            pytest.fail(window.training_panel.status.text())
    assert done.args[0].status == "completed", done.args[0].message
    return done.args[0]


def press_evaluate(qtbot: Any, window: MainWindow) -> Any:
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.evaluated, timeout=TRAIN_MS) as done:
        window.evaluate_action.trigger()  # Run > Evaluate (F6)
    qtbot.waitUntil(lambda: panel.job is None, timeout=5_000)
    return done.args[0]


def test_train_then_evaluate_then_export_all_use_the_trained_weights(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    press_train(qtbot, window)
    [run] = window.project.runs
    evaluation = press_evaluate(qtbot, window)
    assert f"Weights: run {run.started_at[:10]}" in window.evaluation_panel.status.text()
    app_accuracy = evaluation.report.metrics["accuracy"]
    assert app_accuracy > 0.5  # trained: an untrained model guesses 1 in 10

    dialog = window.exports.export_dialog()
    assert dialog is not None and "run " in dialog.result_label.text()  # says which weights
    dialog.path_edit.setText(str(tmp_path / "digits.keras"))
    dialog.format_combo.setCurrentIndex(0)  # Keras
    with qtbot.waitSignal(dialog.attempted, timeout=TRAIN_MS):
        dialog.export_button.click()
    assert dialog.report is not None and dialog.report.matches, dialog.result_label.text()
    assert "test samples of digits" in dialog.result_label.text()
    dialog.close()
    exported = load_keras(tmp_path / "digits.keras")
    data = window.project.load_data()
    predicted = np.argmax(exported.predict(data.x_test, verbose=0), axis=1)
    assert float(np.mean(predicted == data.y_test)) == pytest.approx(app_accuracy, abs=1e-6)

    assert window.exports.export_python(tmp_path / "digits.py")  # loads the run's weights
    assert f"{run.id}.weights.npz" in (tmp_path / "digits.py").read_text()
    assert not dialogs.errors


def test_train_save_close_reopen_and_evaluate_at_once(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    press_train(qtbot, window)
    before = press_evaluate(qtbot, window).report.metrics["accuracy"]
    path = tmp_path / "digits.dcproj.json"
    assert window.files.save_to(path)
    assert window.close()  # saved, not training: closes without a question
    assert not dialogs.questions

    reopened = make_window(qtbot, load_project(path), dialogs)
    try:
        assert reopened.workflow.weights.source == "run"
        assert reopened.evaluation_panel.evaluate()  # at once: no "No trained model yet"
        evaluation = press_evaluate(qtbot, reopened)
        assert evaluation.report.metrics["accuracy"] == pytest.approx(before, abs=1e-6)
        assert "Weights: run " in reopened.evaluation_panel.status.text()
    finally:
        reopened.shutdown()


def test_template_edit_train_then_undo_a_settings_change(
    qtbot: Any, window: MainWindow, dialogs: Dialogs
) -> None:
    assert window.open_example("moons_mlp")
    graph = window.project.graph
    first, second = graph.node_by_name("dense"), graph.node_by_name("dense_1")
    edge = next(e for e in graph.edges if (e.src, e.dst) == (first.id, second.id))
    middle = window.scene.edge_items[edge].path().pointAtPercent(0.5)
    drop_layer(window, "Dropout", view_point(window, middle))  # spliced into the edge
    assert "Dropout" in window.undo.undo_label
    settings = window.settings_panel
    rate = settings.editor("learning_rate")
    rate.setValue(0.05)  # as typed in the form
    assert window.project.training.learning_rate == 0.05
    assert window.undo.undo_label == "Set Learning rate to 0.05"
    window.workflow.set_training(epochs=2)

    press_train(qtbot, window)
    [run] = window.project.runs
    assert run.training["learning_rate"] == 0.05 and "dropout" in str(run.graph)

    window.editing.undo_last()  # epochs
    window.editing.undo_last()  # the learning rate
    assert window.project.training.learning_rate == 0.01  # the template's
    assert rate.value() == pytest.approx(0.01)  # the form follows the undo
    assert "dropout" in [n.layer_type.lower() for n in graph.nodes.values()]  # graph edit kept
    assert window.workflow.weights.run is not None and window.workflow.weights.fits
    assert window.weights_label.text().startswith("Weights: run ")

    window.inspector.show_node(first.id)
    units = window.inspector.editors["units"]
    units.setText("24")
    units.editingFinished.emit()  # typed in the Inspector
    assert "no longer fit" in window.weights_label.text()
    message = window.statusBar().currentMessage()
    assert "no longer fit" in message and "units" in message and "24" in message
    window.editing.undo_last()
    assert window.weights_label.text().startswith("Weights: run ")  # they fit again
    assert not dialogs.errors


def test_an_unconnected_layer_is_named_before_training_starts(
    qtbot: Any, window: MainWindow
) -> None:
    window.scene.clearSelection()
    window.palette.layer_activated.emit("Dense")  # Enter on the palette, nothing selected
    [loose] = window.scene.selected_node_ids()
    name = window.project.graph.nodes[loose].name
    window.scene.clearSelection()
    qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert not window.is_training and not window.project.runs
    status = window.training_panel.status.text()
    assert status.startswith("Cannot train") and f"'{name}'" in status
    assert window.scene.selected_node_ids() == [loose]  # shown on the canvas


def test_ctrl_q_while_training_asks_and_keeps_the_run(
    qtbot: Any, window: MainWindow, dialogs: Dialogs
) -> None:
    assert QKeySequence("Ctrl+Q") in window.quit_action.shortcuts()
    window.workflow.set_training(epochs=500)
    assert window.training.start()
    qtbot.waitUntil(lambda: window.training_panel.progress.value() > 0, timeout=TRAIN_MS)

    dialogs.confirm_answer = False  # "Stop the training run and quit?" No
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert any("Stop the training run and quit" in q for q in dialogs.questions)
    assert window.isVisible() and window.is_training

    dialogs.confirm_answer = True
    qtbot.keyClick(window.view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible() and not window.is_training
    [run] = window.project.runs  # the epochs trained so far are kept
    assert run.status == "stopped" and run.epochs < 500
