"""The Learn texts: one per layer family, short, and right where issue #17 found them wrong."""

from __future__ import annotations

import re

from backend.concepts import CONCEPTS, docs_url
from backend.document.layer_table import CATEGORIES, LAYERS
from backend.templates.gallery import templates


def test_every_layer_family_has_a_short_text_and_a_docs_page() -> None:
    for category in CATEGORIES:
        text = CONCEPTS.get(category, "")
        assert 100 < len(text) < 700, category
        assert docs_url(category).startswith("https://keras.io/api/layers/")
    for name, info in LAYERS.items():
        assert info.description.endswith((".", ")")) and len(info.description) < 200, name


def test_the_texts_the_issue_found_wrong() -> None:
    core = CONCEPTS["Core"]
    assert "nudges" not in core
    assert re.search(r"backpropagation [^.]*gradient", core)  # backprop computes gradients
    assert re.search(r"optimizer [^.]*(moves|updates)", core)  # the optimizer updates
    assert "tanh" in CONCEPTS["Activations"]
    assert "positional encoding" in CONCEPTS["Attention"]
    assert "order" in LAYERS["MultiHeadAttention"].description
    merging = CONCEPTS["Merging"]
    assert "Add sums same-shaped tensors: that is a residual" not in merging
    assert "skip connection" in merging and "block's own input" in merging
    assert "block's own input" in LAYERS["Add"].description


def test_template_texts_use_the_right_article() -> None:
    for info in templates():
        for text in (info.title, info.description, info.teaches):
            assert not re.search(r"\b[Aa]n (GRU|CNN|Conv)", text), (info.id, text)
            assert not re.search(r"\b[Aa] (LSTM|MLP|RNN)\b", text), (info.id, text)
