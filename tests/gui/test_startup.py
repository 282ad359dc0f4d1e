"""Start-up as `make run` does it: the window must not wait for TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from tests.conftest import REPO


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_gui_modules_do_not_import_tensorflow() -> None:
    code = (
        "import sys, gui.app, gui.main_window, gui.canvas.scene, gui.editor.inspector, "
        "gui.training.training_panel, gui.training.training_worker, gui.runtime.keras_loader\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(), check=True, timeout=120)


def test_default_launch_trains_one_epoch_and_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "main.py", "--train-and-exit", "--epochs", "1"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert "training completed" in proc.stderr


def test_screenshot_of_an_unreadable_project_shows_the_example_and_says_why(
    tmp_path: Path,
) -> None:
    """--screenshot writes a PNG; a broken project file opens the example instead, with why."""
    bad = tmp_path / "bad.dcproj.json"
    bad.write_text("{ nope")
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "main.py", "--screenshot", str(out), str(bad)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert "not valid JSON" in proc.stderr and str(bad) in proc.stderr
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 600
