"""A text input and a lookup in the window: the vocabulary is typed in the inspector as a list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit

from backend.document.graph import LayerGraph
from backend.document.project import Project
from tests.gui.conftest import Dialogs, make_window


def test_the_inspector_types_a_vocabulary_and_the_output_width_follows(
    qtbot: Any, dialogs: Dialogs
) -> None:
    window = make_window(qtbot, Project(LayerGraph(), name="Text"), dialogs)
    graph = window.project.graph
    text = graph.add_node("Input", {"shape": [1], "dtype": "string"}, name="text")
    colour = graph.add_node("StringLookup", {"output_mode": "one_hot"}, name="colour")
    graph.connect(text.id, colour.id)
    window.inspector.show_node(colour.id)
    editor = window.inspector.editors["vocabulary"]
    assert isinstance(editor, QLineEdit)
    assert editor.text() == "red, green, blue"
    assert window.live.results[colour.id].shape == (None, 4)  # the unknown word, then 3

    editor.selectAll()
    qtbot.keyClicks(editor, "cyan, magenta, yellow, black")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    assert colour.params["vocabulary"] == ["cyan", "magenta", "yellow", "black"]
    assert window.live.results[colour.id].shape == (None, 5)
    mode = window.inspector.editors["output_mode"]
    assert isinstance(mode, QComboBox) and mode.currentData() == "one_hot"
    window.editing.undo_last()
    assert colour.params["vocabulary"] == ["red", "green", "blue"]
    window.shutdown()


def test_an_empty_vocabulary_is_refused_with_a_message(qtbot: Any, dialogs: Dialogs) -> None:
    window = make_window(qtbot, Project(LayerGraph(), name="Text"), dialogs)
    graph = window.project.graph
    text = graph.add_node("Input", {"shape": [1], "dtype": "string"}, name="text")
    words = graph.add_node("TextVectorization", name="words")
    graph.connect(text.id, words.id)
    window.inspector.show_node(words.id)
    editor = window.inspector.editors["vocabulary"]
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert words.params["vocabulary"] == ["the", "a", "good", "bad"]
    assert "vocabulary is required" in window.inspector.status.text()
    window.shutdown()
