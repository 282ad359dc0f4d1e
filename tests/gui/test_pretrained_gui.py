"""The pretrained dialog and palette: a download starts only on Download, shows progress, stops
on Cancel, says why it failed; Create builds the project off the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from backend.exchange.pretrained import WeightsOrigin, backbone_nodes
from backend.exchange.pretrained_weights import DownloadCancelled, WeightsDownloadError
from gui.editor.palette import PRETRAINED, Palette
from gui.editor.pretrained_dialog import PretrainedDialog


class FakeFetch:
    """Stands in for `download_weights`: counts calls, reports progress, honours Cancel."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls = 0
        self.fail = fail
        self.started = threading.Event()

    def __call__(self, entry: Any, size: int, progress: Any, cancelled: Any) -> WeightsOrigin:
        self.calls += 1
        total = 10 * 2**20
        progress(0, total)
        self.started.set()
        if self.fail:
            raise WeightsDownloadError(self.fail)
        for step in range(1, 2000):
            if cancelled():
                raise DownloadCancelled("download cancelled: nothing was kept")
            progress(min(total, step * 2**16), total)
            threading.Event().wait(0.005)
        return WeightsOrigin("imagenet", "/nowhere/x.h5", "md5:0", "matches Keras' published hash")


def test_nothing_downloads_until_download_is_pressed_and_cancel_stops_it(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fetch = FakeFetch()
    dialog = PretrainedDialog(chosen="MobileNetV2", downloader=fetch)
    qtbot.addWidget(dialog)
    assert fetch.calls == 0
    assert "about 9.0 MB" in dialog.imagenet.text() and not dialog.imagenet.isEnabled()
    assert dialog.untrained.isChecked()

    dialog.download_button.click()
    assert fetch.started.wait(5)
    qtbot.waitUntil(lambda: dialog.progress.maximum() == 1000 and dialog.progress.value() > 0)
    assert dialog.cancel_button.isVisible() or not dialog.isVisible()
    dialog.cancel_button.click()
    dialog.wait()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text())
    assert fetch.calls == 1 and dialog.download_button.isEnabled()


def test_an_offline_download_says_so(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    dialog = PretrainedDialog(downloader=FakeFetch(fail="cannot reach the server: offline"))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.failed, timeout=5000) as failed:
        dialog.download_button.click()
    assert "offline" in failed.args[0] and "offline" in dialog.status.text()


def test_create_builds_a_backbone_project(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    dialog = PretrainedDialog(chosen="MobileNetV3Small")
    qtbot.addWidget(dialog)
    dialog.size.setValue(32)
    dialog.classes.setValue(5)
    with qtbot.waitSignal(dialog.project_ready, timeout=60000) as ready:
        dialog.buttons.accepted.emit()
    project = ready.args[0]
    (block_id,) = backbone_nodes(project.graph)
    assert "trainable" not in project.graph.nodes[block_id].params  # no weights: it trains
    assert project.graph.node_by_name("classes").params["units"] == 5


def test_the_palette_lists_backbones_under_pretrained(qtbot: Any) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    section = next(
        palette.tree.topLevelItem(i)
        for i in range(palette.tree.topLevelItemCount())
        if palette.tree.topLevelItem(i).text(0) == PRETRAINED
    )
    names = [section.child(i).text(0) for i in range(section.childCount())]
    assert {"MobileNetV2", "EfficientNetB0", "ResNet50", "ConvNeXtTiny"} <= set(names)
    with qtbot.waitSignal(palette.pretrained_activated) as activated:
        palette.tree.itemActivated.emit(section.child(names.index("ResNet50")), 0)
    assert activated.args == ["ResNet50"]
    palette.search.setText("resnet50")
    assert not section.isHidden() and section.child(0).isHidden()
