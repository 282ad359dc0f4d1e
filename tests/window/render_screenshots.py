"""README screenshots of the canvas, rendered by the app itself (`make screenshots`).

- `resnet50.png`: `keras.applications.ResNet50(weights=None)` imported with File > Import, the
  window as it opens (collapsed into its stages, at a readable zoom);
- `resnet50_block.png`: the same with `conv2` and `conv2_block1` expanded in place (the
  projection shortcut and the identity skip drawn beside the layers they skip);
- `inception_block.png`: an InceptionV3 `mixed` block expanded;
- `templates.png`: the canvas of every template in the gallery, as it opens, on one sheet.

Nothing is downloaded: the applications are built with weights=None.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app: Any, done: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def _settle(app: Any, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _window(app: Any, project: Any) -> Any:
    from gui.main_window import MainWindow

    window = MainWindow(project)
    window.resize(1400, 900)
    window.show()
    window.start_loading_keras()
    _wait(app, lambda: window.ready)
    _settle(app)
    window.view.fit_all()
    _settle(app, 0.3)
    return window


def _close(window: Any) -> None:
    window.project.dirty = False
    window.shutdown()
    window.hide()
    window.deleteLater()


def _imported(name: str, folder: Path, shape: tuple[int, int, int]) -> Any:
    from backend.exchange.importer import import_model
    from backend.keras_env import import_keras

    keras = import_keras()
    model = getattr(keras.applications, name)(weights=None, input_shape=shape)
    path = folder / f"{name}.keras"
    model.save(path)
    return import_model(path, folder / f"{name}.dcproj.json")


def _expand(window: Any, *labels: str) -> None:
    scene = window.scene
    for label in labels:
        fold = next(f for f in scene.folds if f.label == label)
        scene.expand(fold.key)


def _show_node(app: Any, window: Any, name: str, below: bool = True) -> None:
    """Scroll so the node is in view: in the middle, or at the bottom (what leads to it)."""
    node = window.project.graph.node_by_name(name)
    window.scene.reveal(node.id)
    item = window.scene.node_items[node.id]
    view = window.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    centre = item.sceneBoundingRect().center()
    lift = visible.height() / 2 - item.sceneBoundingRect().height() - 20 if below else 0.0
    view.centerOn(centre.x(), centre.y() - lift)
    _settle(app, 0.3)


def render(out: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from backend.templates.gallery import load_template, templates

    app = QApplication.instance() or QApplication(sys.argv[:1])
    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deepcanvas-shots-") as tmp:
        window = _window(app, _imported("ResNet50", Path(tmp), (224, 224, 3)))
        written.append(out / "resnet50.png")
        window.grab().save(str(written[-1]))
        _expand(window, "conv2", "conv2_block1")
        window.view.zoom_by(0.8 / window.view.transform().m11())
        _show_node(app, window, "conv2_block1_add")
        written.append(out / "resnet50_block.png")
        window.grab().save(str(written[-1]))
        _close(window)
        window = _window(app, _imported("InceptionV3", Path(tmp), (75, 75, 3)))
        _expand(window, "mixed1")
        _show_node(app, window, "mixed1", below=False)
        written.append(out / "inception_block.png")
        window.grab().save(str(written[-1]))
        _close(window)
    shots = []
    for info in templates():
        window = _window(app, load_template(info.id))
        shots.append((info.title, window.view.grab()))
        _close(window)
    written.append(out / "templates.png")
    _contact_sheet(shots).save(str(written[-1]))
    return written


def _contact_sheet(shots: list[tuple[str, Any]], columns: int = 3, scale: float = 0.55) -> Any:
    """The gallery in one picture: each template's canvas as it opens, under its title."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    width = int(max(s.width() for _t, s in shots) * scale)
    height = int(max(s.height() for _t, s in shots) * scale)
    title = 26
    rows = (len(shots) + columns - 1) // columns
    sheet = QImage(columns * width, rows * (height + title), QImage.Format.Format_RGB32)
    sheet.fill(QColor("#FFFFFF"))
    painter = QPainter(sheet)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    font = QFont()
    font.setPixelSize(15)
    font.setBold(True)
    painter.setFont(font)
    for i, (name, shot) in enumerate(shots):
        x, y = (i % columns) * width, (i // columns) * (height + title)
        painter.drawText(QRect(x + 8, y, width - 16, title), Qt.AlignmentFlag.AlignVCenter, name)
        painter.drawPixmap(QRect(x + 2, y + title, width - 4, height - 2), shot)
    painter.end()
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("resources/screenshots"))
    args = parser.parse_args(argv)
    for path in render(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)
