"""The learn panel: what the selected layer does, and the idea behind its family."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QTextBrowser, QVBoxLayout, QWidget

from backend.concepts import CONCEPTS, concept, docs_url
from backend.document.layer_table import LAYERS


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
        self.show_topic(self.topic.currentText())

    def show_topic(self, category: str) -> None:
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
