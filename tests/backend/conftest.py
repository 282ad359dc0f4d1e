"""Backend fixtures: datasets loaded once per session, the network cut off, small builders.

`tests/conftest.py` already gives each test its own DeepCanvas home.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset, load_dataset
from backend.document.graph import LayerGraph
from backend.document.project import Project, save_project
from backend.keras_env import import_keras

REPO_ROOT = Path(__file__).resolve().parents[2]

ChainBuilder = Callable[..., list[str]]


@pytest.fixture(scope="session")
def keras() -> Any:
    return import_keras()


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_dataset("digits")


@pytest.fixture(scope="session")
def moons() -> Dataset:
    return load_dataset("moons")


@pytest.fixture
def chain() -> ChainBuilder:
    """`chain(graph, ("Input", {...}), ("Dense", {...}), ...)` adds and connects the layers."""

    def build(graph: LayerGraph, *specs: tuple[str, dict[str, Any]]) -> list[str]:
        ids: list[str] = []
        for layer_type, params in specs:
            node = graph.add_node(layer_type, params)
            if ids:
                graph.connect(ids[-1], node.id)
            ids.append(node.id)
        return ids

    return build


@pytest.fixture
def write_project(tmp_path: Path) -> Callable[[Project, str], Path]:
    def write(project: Project, name: str = "project.dcproj.json") -> Path:
        return save_project(project, tmp_path / name)

    return write


def regression_dataset(x: np.ndarray, y: np.ndarray) -> Dataset:
    """A small in-memory regression dataset (no validation split)."""
    empty_x = np.zeros((0, *x.shape[1:]), dtype=x.dtype)
    empty_y = np.zeros((0, *y.shape[1:]), dtype=y.dtype)
    return Dataset("toy", "regression", x, y, empty_x, empty_y, empty_x, empty_y)


@pytest.fixture
def make_regression() -> Callable[[np.ndarray, np.ndarray], Dataset]:
    return regression_dataset


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[Any]]:
    """No connection can be made (the attempts are listed, and must stay none unless the test
    empties the list), and the Keras cache is this test's own, empty folder."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    yield attempts
    assert attempts == []
