"""File > Export as…: every format through the real dialog, offscreen; settings isolated."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from gui.export import export_dialog
from gui.export.export_dialog import CHOICES, FOLDER_KEY, ExportDialog
from gui.main_window import MainWindow

EXPORT_TIMEOUT_MS = 120_000


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def choose(dialog: ExportDialog, fmt: str, quantize: str = "none") -> None:
    dialog.format_combo.setCurrentIndex(
        CHOICES.index(next(c for c in CHOICES if c[:2] == (fmt, quantize)))
    )


def export(qtbot: Any, dialog: ExportDialog, path: Path) -> None:
    dialog.path_edit.setText(str(path))
    with qtbot.waitSignal(dialog.attempted, timeout=EXPORT_TIMEOUT_MS):
        dialog.export_button.click()


def test_the_menu_opens_the_dialog_and_each_format_exports_verified(
    qtbot: Any, window: MainWindow, settings: QSettings, tmp_path: Path
) -> None:
    action = next(
        a for a in window.menuBar().actions()[0].menu().actions() if "Export &as" in a.text()
    )
    assert any(
        "Export Keras model" in a.text() for a in window.menuBar().actions()[0].menu().actions()
    )
    dialog = window.exports.export_dialog(settings)
    assert (
        dialog is not None and dialog.isVisible() and action.shortcut().toString() == "Ctrl+Shift+E"
    )
    assert "untrained" in dialog.result_label.text()
    assert dialog.format_combo.count() == len(CHOICES) == 6

    for fmt, quantize, name in [("onnx", "none", "digits.onnx"), ("tflite", "dynamic", "d.tflite")]:
        choose(dialog, fmt, quantize)
        export(qtbot, dialog, tmp_path / name)
        report = dialog.report
        assert report is not None and report.path == tmp_path / name and report.matches
        text = dialog.result_label.text()
        assert f"max abs difference {report.max_abs_diff:.3g}" in text
        assert "test samples of digits" in text and (tmp_path / name).is_file()
    assert settings.value(FOLDER_KEY) == str(tmp_path)
    dialog.close()

    again = window.exports.export_dialog(settings)  # remembers the folder and the last format
    assert again is not None and again.choice() == ("tflite", "dynamic")
    assert Path(again.path_edit.text()).parent == tmp_path
    assert again.path_edit.text().endswith(".tflite")
    choose(again, "savedmodel")
    assert not Path(again.path_edit.text()).suffix  # a folder: the suffix went away
    again.close()


def test_a_failed_export_shows_the_reason_and_leaves_nothing(
    qtbot: Any, window: MainWindow, settings: QSettings, tmp_path: Path
) -> None:
    dialog = window.exports.export_dialog(settings)
    assert dialog is not None
    choose(dialog, "keras")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    export(qtbot, dialog, blocker / "m.keras")
    assert dialog.report is None
    assert "cannot be written" in dialog.result_label.text()
    assert dialog.export_button.isEnabled() and not dialog.busy
    assert sorted(p.name for p in tmp_path.iterdir()) in (["file"], ["file", "settings.ini"])
    dialog.close()


def test_a_missing_converter_is_listed_with_its_install_hint(
    qtbot: Any, window: MainWindow, settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "tf2onnx" else real(n, *a)
    )
    dialog = window.exports.export_dialog(settings)
    assert dialog is not None
    choose(dialog, "onnx")
    assert "not installed" in dialog.format_combo.currentText()
    assert "pip install" in dialog.hint_label.text() and "tf2onnx" in dialog.hint_label.text()
    assert not dialog.export_button.isEnabled()
    choose(dialog, "keras")
    assert dialog.hint_label.text() == "" and dialog.export_button.isEnabled()
    dialog.close()


def test_no_export_while_training(
    window: MainWindow, dialogs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(type(window), "is_training", property(lambda self: True))
        assert window.exports.export_dialog() is None
    assert dialogs.errors[-1] == ("Export", "Stop the training run first.")
    assert export_dialog.app_settings().applicationName() == "DeepCanvas"


def test_a_conversion_in_its_own_process_can_be_cancelled(
    qtbot: Any, window: MainWindow, dialogs: Any, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QPushButton

    target = tmp_path / "digits.tflite"
    assert window.exports.export(target, "tflite")
    assert window.jobs.busy_in("main")
    indicator = window.findChild(QPushButton, "busy_cancel")
    assert indicator is not None and indicator.isVisibleTo(window)  # busy, with Cancel
    qtbot.waitUntil(lambda: bool(_export_processes()), timeout=30_000)
    indicator.click()
    assert not window.jobs.busy_in("main") and "Cancelled" in window.statusBar().currentMessage()
    window.jobs.wait()  # the worker saw the cancel and killed the converter's process
    assert not _export_processes() and not target.exists() and not dialogs.errors


def _export_processes() -> list[int]:
    """This test's converter processes (children of any of this process' threads)."""
    import os

    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline")
            if cmdline.exists() and b"gui.export.export_process" in cmdline.read_bytes():
                found.append(int(pid))
    return found
