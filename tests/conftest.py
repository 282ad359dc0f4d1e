"""Shared test set-up: offscreen Qt, a private Keras home per session and a private
DeepCanvas home per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Autosaves and settings of each test go to a fresh folder, never the user's."""
    home = tmp_path_factory.mktemp("deepcanvas_home")
    monkeypatch.setenv("DEEPCANVAS_HOME", str(home))
    return home


@pytest.fixture(scope="session", autouse=True)
def _keras_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keras writes `keras.json` under KERAS_HOME on first import: keep it out of $HOME."""
    previous = os.environ.get("KERAS_HOME")
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))
    yield
    if previous is None:
        os.environ.pop("KERAS_HOME", None)
    else:
        os.environ["KERAS_HOME"] = previous
