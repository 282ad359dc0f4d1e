"""A long status message stays readable beside the weights and device labels."""

from __future__ import annotations

from typing import Any

from gui.main_window import MainWindow

MESSAGE = (
    "wrote /tmp/j/exp/digits.keras (Keras model, 95.1 KiB); verified with Keras load_model "
    "(safe mode): max abs diff 0 on 8 test samples of digits; weights: run 2026-12-05 10:39:03"
)


def test_a_long_message_pushes_the_weights_and_device_labels_aside(
    qtbot: Any, window: MainWindow
) -> None:
    window.resize(1400, 900)
    window.weights_label.setText("Weights: run 12-05 10:39")
    window.device_label.setText("CPU (TensorFlow sees no GPU)")
    bar = window.statusBar()
    window.prompts.status(MESSAGE, 10_000)
    needed = bar.fontMetrics().horizontalAdvance(MESSAGE)
    assert needed + window.device_label.sizeHint().width() > window.width() - 200  # crowded
    qtbot.waitUntil(  # the message fits left of the labels
        lambda: min(window.weights_label.x(), window.device_label.x()) >= needed
    )
    assert bar.toolTip() == MESSAGE  # and is whole in the tooltip, should the bar be narrower

    bar.clearMessage()  # the labels get their width back
    qtbot.waitUntil(lambda: window.device_label.width() >= window.device_label.sizeHint().width())
    assert window.weights_label.width() >= window.weights_label.sizeHint().width()


def test_a_label_whose_text_grows_beside_a_short_message_is_whole(
    qtbot: Any, window: MainWindow
) -> None:
    """The weights label's text changes while a message shows (a run ends during 'Connect
    ...'): it gets the width of its new text, not the one measured for 'Weights: untrained'."""
    window.resize(1400, 900)
    window.weights_label.setText("Weights: untrained")
    window.prompts.status("Connect 'dense' → 'prob'", 10_000)
    qtbot.wait(50)
    window.weights_label.setText("Weights: run 2026-12-05 12:23:26 (completed, 1 epoch)")
    label = window.weights_label
    qtbot.waitUntil(lambda: label.width() >= label.sizeHint().width())


def test_a_window_still_shown_at_exit_tears_down_quietly(tmp_path: Any) -> None:
    """PySide's cleanup at interpreter exit hides a window nobody closed after its status bar
    is gone: the bar's event filter raised on every Hide event, and Shiboken crashed (SIGSEGV)
    reporting them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "from PySide6.QtWidgets import QApplication\n"
        "from gui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        "window = MainWindow()\n"
        "window.show()\n"
        "app.processEvents()\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "already deleted" not in done.stderr, done.stderr[-2000:]
