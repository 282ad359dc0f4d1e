"""The Data panel, driven as a user would: sources, settings, previews, bad files, fitting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QListWidget, QSpinBox

from backend.data.samples import SAMPLE_CSV
from backend.document.layer_table import LAYERS
from backend.document.project import DatasetChoice, Project, load_project, save_project
from backend.editing.commands import UndoStack
from backend.templates.examples import digits_cnn, moons_mlp
from backend.training.trainer import TrainResult
from gui.data.data_panel import DataPanel
from gui.main_window import MainWindow
from tests.backend.test_data_files import make_folder


@pytest.fixture
def project() -> Project:
    return moons_mlp()


@pytest.fixture
def panel(qtbot: Any, project: Project) -> DataPanel:
    widget = DataPanel(project, UndoStack(project.graph))
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    assert widget.refresh(), widget.error
    return widget


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_generated_settings_are_edited_and_become_the_projects(
    qtbot: Any, panel: DataPanel, project: Project
) -> None:
    assert panel.preview is not None and panel.view.kind == "scatter"
    assert not project.dirty  # looking at the data changes nothing
    spin = panel.editors["samples"]
    assert isinstance(spin, QSpinBox)
    spin.setValue(240)  # as typed: the preview follows after a short pause
    qtbot.waitUntil(lambda: project.dataset.params.get("samples") == 240, timeout=3000)
    assert project.dirty
    assert panel.preview.sizes is not None and sum(panel.preview.sizes) == 240
    assert panel.set_split(0.3, 0.1, 5)
    assert (project.dataset.val_fraction, project.dataset.seed) == (0.3, 5)
    assert panel.view.bars is not None  # class balance drawn


@pytest.mark.parametrize(
    ("name", "kind"),
    [("digits", "images"), ("sine", "series"), ("trend_sequences", "sequences"), ("wine", "table")],
)
def test_each_kind_of_data_gets_its_preview(
    panel: DataPanel, project: Project, name: str, kind: str
) -> None:
    assert panel.choose_source(name), panel.error
    assert project.dataset.name == name and panel.view.kind == kind
    if kind == "images":
        assert len(panel.view.image_items) == 16
        assert all(label for _item, label in panel.view.image_items)
    if kind == "table":
        assert panel.view.table.rowCount() > 0
        assert panel.view.table.horizontalHeaderItem(0).text() == "alcohol"
    if kind in ("series", "sequences"):
        assert len(panel.view.plot.getPlotItem().listDataItems()) >= 2


def test_a_csv_file_with_columns_ticked_in_the_list(
    qtbot: Any, panel: DataPanel, project: Project, tmp_path: Path
) -> None:
    rows = [f"{i},{i % 7},{'ab'[i % 2]}" for i in range(60)]
    path = write(tmp_path / "t.csv", "x,z,kind\n" + "\n".join(rows) + "\n")
    assert not panel.choose_source("csv")  # no file yet
    assert "choose a data file first" in panel.status.text()
    assert panel.set_param("path", str(path)), panel.error
    assert project.dataset.params == {"path": str(path)}
    assert panel.view.table.rowCount() == 60 and panel.view.table.columnCount() == 3
    targets = panel.editors["target"]
    assert isinstance(targets, QListWidget)
    assert [targets.item(i).text() for i in range(targets.count())] == ["x", "z", "kind"]
    targets.item(1).setCheckState(Qt.CheckState.Checked)  # z: 7 whole numbers -> classes
    qtbot.waitUntil(lambda: project.dataset.params.get("target") == ["z"], timeout=3000)
    assert panel.preview is not None and panel.preview.num_classes == 7
    assert panel.preview.input_shape == (3,)  # x and kind one-hot


def test_numpy_arrays_are_picked_from_the_files_names(
    qtbot: Any, panel: DataPanel, project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, inputs=np.zeros((30, 4)), answer=np.arange(30) % 3, other=np.ones(30))
    assert not panel.choose_source("numpy")
    assert panel.set_param("path", str(path)), panel.error  # inputs and answer guessed
    combo = panel.editors["y"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["", "inputs", "answer", "other"]
    assert panel.preview is not None and panel.preview.num_classes == 3
    combo.setCurrentText("other")  # a single value: one class, refused, project unchanged
    qtbot.waitUntil(lambda: "only one class" in panel.error, timeout=3000)
    assert project.dataset.params == {"path": str(path)}


BAD_TABLES = {
    "empty.csv": ("", "is empty"),
    "header.csv": ("a,b\n", "has a header but no data rows"),
    "ragged.csv": ("a,b\n1,2\n3\n", "line 3: 1 field where the header has 2"),
    "text.csv": (
        "a,b\n" + "1,0\n2,1\n" * 5 + "x1,0\n",
        "line 12, column 'a': 'x1' is not a number",
    ),
    "oneclass.csv": ("a,b\n" + "1,yes\n" * 5, "column 'b' has only one class ('yes')"),
}


@pytest.mark.parametrize("file_name", list(BAD_TABLES))
def test_a_bad_table_is_named_and_the_project_keeps_its_data(
    panel: DataPanel, project: Project, tmp_path: Path, file_name: str
) -> None:
    text, message = BAD_TABLES[file_name]
    before = project.dataset
    assert panel.choose_source("csv") is False
    assert not panel.set_param("path", str(write(tmp_path / file_name, text)))
    assert file_name in panel.error and message in panel.error
    assert message in panel.status.text()
    assert project.dataset == before and panel.view.kind == ""


def test_bad_image_folders_are_named(panel: DataPanel, project: Project, tmp_path: Path) -> None:
    before = project.dataset
    assert panel.choose_source("image_folder") is False
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(b"x")
    assert not panel.set_param("path", str(flat))
    assert "has no class sub-folders" in panel.error
    folder = make_folder(tmp_path / "pics", {"cats": 4, "dogs": 4}, size=6)
    (folder / "dogs" / "bad.png").write_bytes(b"not really a png")
    assert not panel.set_param("path", str(folder))
    assert "bad.png: cannot be decoded" in panel.error
    assert project.dataset == before
    (folder / "dogs" / "bad.png").unlink()
    assert panel.set_param("path", str(folder)), panel.error
    assert panel.view.kind == "images" and project.dataset.name == "image_folder"
    assert panel.augment_button.isVisibleTo(panel)


def test_a_file_that_vanished_since_saving_is_named(
    qtbot: Any, tmp_path: Path, project: Project
) -> None:
    table = tmp_path / "data.csv"
    table.write_bytes(SAMPLE_CSV.read_bytes())
    project.dataset = DatasetChoice("csv", {"path": str(table), "target": ["species"]})
    saved = save_project(project, tmp_path / "p.dcproj.json")
    table.unlink()
    reopened = load_project(saved)
    widget = DataPanel(reopened, UndoStack(reopened.graph))
    qtbot.addWidget(widget)
    widget.show()
    assert not widget.refresh()
    assert "data.csv does not exist" in widget.error and "moved or deleted" in widget.error
    assert reopened.dataset.params["path"] == str(table) and not reopened.dirty


def test_a_keras_dataset_without_its_download_is_explained(
    panel: DataPanel, project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    panel.fill_sources()
    titles = [panel.source.itemText(i) for i in range(panel.source.count())]
    assert "MNIST (needs a download)" in titles
    assert not panel.choose_source("mnist")
    assert "one download with a network" in panel.error
    assert project.dataset.name == "moons"


def test_fit_model_to_data_is_one_undo_step(qtbot: Any) -> None:
    project = digits_cnn()
    undo = UndoStack(project.graph)
    widget = DataPanel(project, undo)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.choose_source("shapes")
    assert widget.fit_model_to_data()
    graph = project.graph
    inp = graph.input_nodes()[0]
    out = graph.nodes[graph.outputs[0]]
    assert inp.params["shape"] == [16, 16, 1] and out.params["units"] == 4
    assert undo.labels() == ["Fit the model to the data"]
    undo.undo()
    assert inp.params["shape"] == [8, 8, 1] and out.params["units"] == 10
    assert widget.set_param("size", 8)  # now the data matches the Input, not the output
    assert widget.fit_model_to_data()
    assert inp.params["shape"] == [8, 8, 1] and out.params["units"] == 4
    assert "4 classes" in widget.status.text() and "Input" not in widget.status.text()


def test_augmentation_is_inserted_after_the_input_or_explained(panel: DataPanel) -> None:
    graph = panel.project.graph
    before = len(graph.nodes)
    added = panel.add_augmentation()
    if "RandomFlip" in LAYERS:
        assert added and len(graph.nodes) > before
        assert panel.undo.labels()[-1].startswith("Add augmentation")
    else:
        assert not added and "not available" in panel.status.text()
        assert len(graph.nodes) == before


def test_the_window_has_a_data_dock_that_follows_open_and_trains_on_a_csv(
    window: MainWindow, qtbot: Any
) -> None:
    dock = window.findChild(type(window.inspector_dock), "dock_data")
    assert dock is not None and dock.widget() is window.data_panel
    panel = window.data_panel
    with qtbot.waitSignal(window.jobs.started, timeout=5_000) as started:
        window.open_example("penguins_csv")
        dock.raise_()  # the data loads as a job, off the GUI thread
    assert started.args[0].startswith("Loading")
    assert panel.name == "csv" and panel.current_choice().params["target"] == ["species"]
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    assert not panel.busy
    assert panel.view.kind == "table" and panel.preview.num_classes == 3
    assert not window.project.dirty
    window.project.training.epochs = 1
    with qtbot.waitSignal(window.training.finished, timeout=60_000) as finished:
        assert window.training.start()
    result: TrainResult = finished.args[0]
    assert result.status == "completed", result.message
    assert np.isfinite(result.history["loss"][-1])


def test_a_projects_data_view_is_previewed_plainly_and_not_fitted(qtbot: Any) -> None:
    project = moons_mlp()
    project.dataset = DatasetChoice("breast_cancer", {"view": "two_inputs"})
    widget = DataPanel(project, UndoStack(project.graph))
    qtbot.addWidget(widget)
    widget.show()
    assert widget.refresh(), widget.error
    assert widget.preview is not None and widget.preview.input_shape == (30,)
    assert "presented to the model as: two_inputs" in widget.status.text()
    assert not project.dirty and project.dataset.params == {"view": "two_inputs"}
    assert not widget.fit_model_to_data()
    assert "by hand" in widget.status.text()


def test_fitting_to_a_file_too_big_to_preview_whole_reads_it_as_a_job(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.data import preview as preview_module

    monkeypatch.setattr(preview_module, "FULL_CHECK_BYTES", 64)  # any file is "big" here
    rows = [f"{i / 10},{i % 5},{'abc'[i % 3]}" for i in range(300)]
    path = write(tmp_path / "big.csv", "a,b,kind\n" + "\n".join(rows) + "\n")
    panel = window.data_panel
    window.docks["Data"].raise_()
    panel.choose_source("csv")
    panel.set_param("path", str(path))
    qtbot.waitUntil(lambda: not panel.busy and "target" in panel.editors, timeout=20_000)
    panel.set_param("target", ["kind"])
    qtbot.waitUntil(lambda: not panel.busy and panel.preview is not None, timeout=20_000)
    assert not panel.preview.complete  # the first rows only
    with (
        qtbot.waitSignal(window.jobs.started, timeout=5_000) as started,
        qtbot.waitSignal(panel.fitted, timeout=30_000) as fitted,
    ):
        assert panel.fit_model_to_data()
    assert started.args == ["Reading the whole file"] and fitted.args == [True]
    graph = window.project.graph
    assert graph.node_by_name("input").params["shape"] == [2]
    assert graph.node_by_name("dense_1").params["units"] == 3  # three kinds
    assert "Fit" in window.undo.undo_label or "fit" in window.undo.undo_label.lower()
