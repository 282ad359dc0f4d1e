"""First minutes: recover after a crash, recent projects, templates, the learn panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from backend.document.session_files import pending_autosaves, write_autosave
from backend.templates.examples import digits_cnn, moons_mlp
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window


def test_crashed_session_is_offered_back_and_recovered(qtbot: Any, dialogs: Dialogs) -> None:
    lost = digits_cnn()
    lost.graph.rename_node(lost.graph.node_by_name("dense").id, "my_work")
    write_autosave(lost, "a-session-that-crashed")

    window = make_window(qtbot, moons_mlp(), dialogs)
    panel = window.start_panel
    assert panel.has_pending and panel.recover_list.isVisibleTo(window)
    assert "Digits CNN" in panel.recover_list.item(0).text()
    qtbot.mouseClick(panel.recover_button, Qt.MouseButton.LeftButton)
    assert window.project.graph.node_by_name("my_work")
    assert window.project.dirty
    assert len(pending_autosaves()) == 1  # now this session's own autosave
    assert not panel.has_pending or panel.recover_list.count() == 1
    window.shutdown()


def test_discard_removes_the_offer(qtbot: Any, dialogs: Dialogs) -> None:
    write_autosave(digits_cnn(), "old")
    window = make_window(qtbot, moons_mlp(), dialogs)
    qtbot.mouseClick(window.start_panel.discard_button, Qt.MouseButton.LeftButton)
    assert pending_autosaves() == []
    assert not window.start_panel.has_pending
    window.shutdown()


def test_saved_project_appears_in_recent_and_reopens(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "mine.dcproj.json"
    recent = window.start_panel.recent_list
    assert recent.count() == 1 and "appear here" in recent.item(0).text()  # what will be there
    assert not recent.item(0).flags() & Qt.ItemFlag.ItemIsEnabled
    assert window.files.save_to(path)
    assert recent.count() == 1 and "mine.dcproj.json" in recent.item(0).text()
    window.files.new_project()
    assert not window.project.graph.nodes
    recent.itemActivated.emit(recent.item(0))
    assert len(window.project.graph.nodes) == 7


def test_template_opens_from_the_gallery(qtbot: Any, window: MainWindow) -> None:
    templates = window.start_panel.templates
    names = [templates.item(i).text() for i in range(templates.count())]
    assert "Moons MLP" in names
    item = templates.item(names.index("Moons MLP"))
    templates.itemActivated.emit(item)
    assert window.project.name == "Moons MLP"
    assert window.project.dataset.name == "moons"


def test_learn_panel_follows_palette_and_canvas(qtbot: Any, window: MainWindow) -> None:
    window.palette.tree.setCurrentItem(window.palette.items["LSTM"])
    text = window.learn_panel.text.toPlainText()
    assert "LSTM" in text and "hidden state" in text
    window.scene.select_node(window.project.graph.node_by_name("conv2d").id)
    assert "filter" in window.learn_panel.text.toPlainText()
    tip = window.palette.items["Dense"].toolTip(0)
    assert "keras.io/api/layers/core_layers" in tip
