"""The learn panel: what the selected layer does, the idea behind its family, and what the
template the project came from teaches (its lesson, and what to try, readable after opening)."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtWidgets import QComboBox, QTextBrowser, QVBoxLayout, QWidget

from backend.concepts import CONCEPTS, concept, docs_url
from backend.document.layer_table import LAYERS

THIS_TEMPLATE = "This template"


class LearnPanel(QWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("learn_panel")
        self.topic = QComboBox()
        self.topic.addItems(list(CONCEPTS))
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.topic)
        layout.addWidget(self.text)
        self.topic.currentTextChanged.connect(self.show_topic)
        self.lesson = ("", "")  # the opened template's title and what it teaches
        self.show_topic(self.topic.currentText())

    def show_template(self, title: str, teaches: str) -> None:
        """A project opened from a template: its lesson becomes the first topic, shown now."""
        self.lesson = (title, teaches)
        if self.topic.findText(THIS_TEMPLATE) < 0:
            self.topic.insertItem(0, THIS_TEMPLATE)
        if self.topic.currentText() == THIS_TEMPLATE:
            self.show_topic(THIS_TEMPLATE)
        else:
            self.topic.setCurrentText(THIS_TEMPLATE)

    def clear_template(self) -> None:
        """Another project: no template's lesson."""
        self.lesson = ("", "")
        index = self.topic.findText(THIS_TEMPLATE)
        if index >= 0:
            self.topic.removeItem(index)

    def show_topic(self, category: str) -> None:
        if category == THIS_TEMPLATE:
            title, teaches = self.lesson
            self.text.setHtml(f"<h3>{escape(title)}</h3><p>{escape(teaches)}</p>")
            return
        link = docs_url(category)
        self.text.setHtml(
            f"<h3>{category}</h3><p>{concept(category)}</p>"
            f"<p><a href='{link}'>Keras documentation</a></p>"
        )

    def show_layer(self, layer_type: str) -> None:
        info = LAYERS.get(layer_type)
        if info is None:
            return
        self.topic.blockSignals(True)
        self.topic.setCurrentText(info.category)
        self.topic.blockSignals(False)
        link = docs_url(info.category)
        self.text.setHtml(
            f"<h3>{info.type_name}</h3><p>{info.description}</p>"
            f"<h4>{info.category}</h4><p>{concept(info.category)}</p>"
            f"<p><a href='{link}'>Keras documentation: {info.category.lower()} layers</a></p>"
        )
