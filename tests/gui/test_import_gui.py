"""File > Import Keras model… and File > Export Python script… in the window."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np

from backend.keras_env import import_keras
from gui.main_window import MainWindow
from tests import keras_models
from tests.gui.conftest import Dialogs, finish_jobs


def menu_texts(window: MainWindow, title: str) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == title)
    return [a.text() for a in menu.actions()]


def test_the_menus_offer_import_export_and_blocks(window: MainWindow) -> None:
    files = menu_texts(window, "&File")
    assert "&Import Keras model…" in files and "Export &Python script…" in files
    assert files.index("&Import Keras model…") < files.index("&Quit")
    edits = menu_texts(window, "&Edit")
    assert "&Group into block" in edits and "U&ngroup block" in edits


def test_import_opens_the_model_with_its_weights(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    original = keras_models.resnet_style()
    original.save(tmp_path / "resnet.keras")
    target = tmp_path / "resnet.dcproj.json"

    assert window.exports.import_keras_model(tmp_path / "resnet.keras", target)
    assert window.jobs.busy  # off the GUI thread
    finish_jobs(qtbot, window)

    graph = window.project.graph
    assert not dialogs.errors
    assert window.project.name == "resnet_style" and window.project.path == target
    assert len(window.scene.node_items) == len(original.layers)
    assert not window.undo.can_undo
    assert all(r.ok for r in window.live.results.values())
    assert graph.node_by_name("b1_add").id in window.scene.node_items
    assert (tmp_path / "resnet.weights.npz").exists()
    # No data until the user picks some: the panels say so and Train refuses, naming it.
    assert window.project.dataset is None
    assert "no data yet" in window.data_panel.status.text()
    assert "No data chosen yet" in window.settings_panel.data_label.text()
    assert window.weights_label.text() == "Weights: imported"
    assert not window.training.start()
    assert "no dataset" in window.training_panel.status.text()

    exported = tmp_path / "again.keras"
    assert window.exports.export(exported, "keras")
    finish_jobs(qtbot, window)
    again = import_keras().models.load_model(exported)
    x = keras_models.sample_inputs(original)
    np.testing.assert_allclose(
        keras_models.predict(again, x)[0], keras_models.predict(original, x)[0], atol=1e-5
    )


def test_a_bad_model_file_leaves_the_project_alone(
    qtbot: Any, window: MainWindow, dialogs: Dialogs, tmp_path: Path
) -> None:
    before = window.project.graph.to_dict()
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip at all")

    assert window.exports.import_keras_model(broken, tmp_path / "p.dcproj.json")
    finish_jobs(qtbot, window)

    ((title, text),) = dialogs.errors
    assert title == "Cannot import model" and str(broken) in text
    assert window.project.graph.to_dict() == before
    assert not (tmp_path / "p.dcproj.json").exists()


def test_export_python_writes_a_runnable_script(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "digits.py"
    assert window.exports.export_python(path)
    finish_jobs(qtbot, window)
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"build_model", "compile_model", "load_data"} <= names
    namespace: dict[str, Any] = {}
    exec(compile(tree, str(path), "exec"), namespace)  # our own generated file
    model = namespace["build_model"]()
    assert model.count_params() > 0
    assert [layer.name for layer in model.layers] == [
        node.name for node in window.project.graph.nodes.values()
    ]
