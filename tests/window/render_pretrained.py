"""README screenshot of the transfer-learning workflow, rendered by the app after real training
(`make screenshots`):

`pretrained.png`: MobileNetV3Small as one block before a new 3-class head, on the sample photos;
the head trained with the backbone frozen, then Run > Fine-tune backbone… (its top 20 layers,
the learning rate divided by ten) continuing that run. The block's face and the canvas corner
say what trains and the training memory, the Inspector what the block is, and the Runs tab
shows both phases' loss curves.

ImageNet's weights cannot be downloaded where the screenshots are rendered, so the backbone's
weights are a file made here: MobileNetV3Small trained for a few epochs on the same photos
(the block records it as a weights file, not as ImageNet's).
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

SHAPE = (64, 64, 3)


def _wait(app: Any, done: Any, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if not done():
        raise SystemExit("timed out")


def _settle(app: Any, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def backbone_weights(folder: Path) -> Path:
    """MobileNetV3Small (no top) trained end to end on the sample photos, its weights saved.
    Its BatchNormalization follows the batches closely (momentum 0.5, not 0.999) so that the
    statistics it keeps after 60 steps are the photos', as a frozen backbone needs."""
    from backend.data.samples import SAMPLE_PHOTOS
    from backend.exchange.pretrained_project import photos_dataset
    from backend.keras_env import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(1)
    data = photos_dataset(SAMPLE_PHOTOS).load()
    base = keras.applications.MobileNetV3Small(
        input_shape=SHAPE, include_top=False, weights=None, include_preprocessing=False
    )
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.5
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Rescaling(1 / 127.5, offset=-1.0),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(data.num_classes, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(data.x_train, data.y_train, batch_size=16, epochs=20, verbose=0)
    path = folder / "photos_backbone.weights.h5"
    base.save_weights(path)
    return path


def render(out: Path) -> Path:
    from PySide6.QtWidgets import QApplication, QDialog

    from backend.data.samples import SAMPLE_PHOTOS
    from backend.document.project import load_project, save_project
    from backend.exchange.pretrained import backbone_nodes
    from backend.exchange.pretrained_catalog import SMALLEST
    from backend.exchange.pretrained_project import new_pretrained_project, photos_dataset
    from gui.editor.pretrained_actions import fine_tune
    from gui.editor.pretrained_dialog import FineTuneDialog
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="deepcanvas-pretrained-") as tmp:
        folder = Path(tmp)
        os.environ["KERAS_HOME"] = str(folder / "keras")  # nothing cached, nothing fetched
        weights = backbone_weights(folder)
        path = folder / "photos.dcproj.json"
        data = photos_dataset(SAMPLE_PHOTOS)
        project = new_pretrained_project(SMALLEST, 3, SHAPE, weights, path, data)
        project.name = "Classify your own photos"
        save_project(project, path)
        window = MainWindow(load_project(path))
        window.resize(1400, 900)
        window.show()
        window.start_loading_keras()
        _wait(app, lambda: window.ready)
        finished: list[Any] = []
        window.training.finished.connect(finished.append)
        window.training.start()
        _wait(app, lambda: len(finished) == 1)
        dialog = FineTuneDialog(155, window.project.training.learning_rate, window)
        dialog.exec = lambda: QDialog.DialogCode.Accepted  # type: ignore[method-assign]
        fine_tune(window, dialog)
        _wait(app, lambda: len(finished) == 2)
        if any(result.status != "completed" for result in finished):
            raise SystemExit(f"training failed: {[r.message for r in finished]}")
        (block_id,) = backbone_nodes(window.project.graph)
        window.scene.select_node(block_id)
        window.docks["Runs"].raise_()
        window.runs_panel.table.selectAll()
        _settle(app, 1.5)
        window.view.zoom_by(1.0 / window.view.transform().m11())
        window.view.centerOn(window.scene.node_items[block_id])
        _settle(app, 3.0)
        _hide_stale_tab_bars(window)
        out.mkdir(parents=True, exist_ok=True)
        target = out / "pretrained.png"
        window.grab().save(str(target))
        window.project.dirty = False
        window.shutdown()
        window.hide()
    return target


def _hide_stale_tab_bars(window: Any) -> None:
    """On the offscreen platform the window keeps the dock tab bars of its first tabifying
    steps (['Training', 'Data'], ['Start', 'Inspector']) visible over the status bar, where
    `grab()` draws them (the resnet50.png screenshot shows them too): the bars whose tabs
    begin another bar's longer list are hidden before the grab."""
    from PySide6.QtWidgets import QTabBar

    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window]
    tabs = {b: [b.tabText(i) for i in range(b.count())] for b in bars}
    for bar in bars:
        mine = tabs[bar]
        if any(len(other) > len(mine) and other[: len(mine)] == mine for other in tabs.values()):
            bar.hide()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("resources/screenshots"))
    args = parser.parse_args(argv)
    print(render(args.out))
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)
