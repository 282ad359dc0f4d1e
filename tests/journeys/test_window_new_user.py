"""A new user's tour of the real window (pytest-qt, offscreen), from what broke when it was tried
by hand in an X window (Xvfb, xdotool, 1600x1000): their own table in the Data panel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QFileDialog, QFormLayout, QLineEdit

from backend.keras_env import import_keras
from backend.templates.gallery import load_template
from gui.main_window import MainWindow
from tests.gui.conftest import (  # its autouse fixture applies here too
    Dialogs,
    _private_qsettings,  # noqa: F401
    finish_jobs,
    make_window,
)


@pytest.fixture
def window(qtbot: Any) -> Iterator[MainWindow]:
    window = make_window(qtbot, load_template("penguins_csv"), Dialogs())
    window.resize(1600, 1000)
    yield window
    window.shutdown()


def test_a_table_s_settings_leave_room_to_read_the_file_and_columns(
    qtbot: Any, window: MainWindow
) -> None:
    """The settings column is about 330 px wide: the longest label ('Standardise numbers (fit
    on training rows)') took most of it, so the file field showed '.csv', 'Browse...' was cut
    and the column lists were 80 px wide."""
    panel = window.data_panel
    window.docks["Data"].raise_()
    qtbot.waitUntil(lambda: "path" in panel.editors and panel.editors["path"].isVisible())
    form_width = panel.form.geometry().width()
    path = panel.editors["path"].findChild(QLineEdit)
    assert path is not None and path.width() >= form_width * 0.4, (path.width(), form_width)
    for name in ("target", "features"):
        assert panel.editors[name].width() >= form_width * 0.6, (name, form_width)
    header = panel.editors["header"]  # a setting that is on or off says so on its box
    assert isinstance(header, QCheckBox) and header.text() == "First row names the columns"
    assert panel.form.labelForField(header) is None
    role = panel.form.getWidgetPosition(header)[1]
    assert role == QFormLayout.ItemRole.SpanningRole


def test_file_dialogs_open_at_the_user_s_folders_never_the_app_s_checkout(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` starts the app in the source checkout: every dialog offered to save the
    project, an export or a script there (Export as... offered the home folder)."""
    checkout, home, exports = tmp_path / "checkout", tmp_path / "home", tmp_path / "exports"
    for folder in (checkout, home, exports):
        folder.mkdir()
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("HOME", str(home))
    offered: list[str] = []
    answer = {"path": ""}

    def dialog(_parent: Any, _title: str, start: str = "", *_filters: Any) -> tuple[str, str]:
        offered.append(start)
        return answer["path"], ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog)
    monkeypatch.setattr(window.exports, "export", lambda *args, **kwargs: True)
    window.files.save_as_dialog()
    window.files.open_dialog()
    window.exports.import_keras_dialog(lambda: True)
    window.exports.export_keras_dialog()
    window.exports.export_python_dialog()
    assert len(offered) == 5
    for start in offered:  # a folder (open) or a file name in one (save)
        folder = Path(start) if Path(start).is_dir() else Path(start).parent
        assert folder.is_absolute() and folder == home, start

    answer["path"] = str(exports / "penguins.keras")  # exported there: the next export too
    window.exports.export_keras_dialog()
    answer["path"] = ""
    window.exports.export_python_dialog()
    assert Path(offered[-1]).parent == exports


def test_opening_a_keras_model_imports_it(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    """File > Open on a .keras (or `main.py model.keras`) said "cannot be read ('utf-8'
    codec can't decode byte ...)": a model opens as an imported project, as Netron opens one."""
    keras = import_keras()
    inputs = keras.Input((3,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(inputs))
    model.save(tmp_path / "mine.keras")
    assert window.files.open_project(tmp_path / "mine.keras")
    finish_jobs(qtbot, window)
    names = {node.name for node in window.project.graph.nodes.values()}
    assert names == {"features", "scores"} and window.project.dataset is None
    assert window.workflow.weights.source == "initial"  # the model's own weights, kept
