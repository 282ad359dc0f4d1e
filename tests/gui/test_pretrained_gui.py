"""The pretrained dialog and palette: a download starts only on Download, shows progress, stops
on Cancel, says why it failed; Create builds the project off the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from backend.data.samples import SAMPLE_PHOTOS
from backend.exchange.pretrained import WeightsOrigin, backbone_nodes
from backend.exchange.pretrained_weights import DownloadCancelled, WeightsDownloadError
from backend.templates.examples import moons_mlp
from gui.editor.palette import PRETRAINED, Palette
from gui.editor.pretrained_actions import fine_tune
from gui.editor.pretrained_dialog import FineTuneDialog, PretrainedDialog
from gui.editor.start_panel import DATA_ROLE
from tests.backend.test_pretrained_template import cache, write_stand_in
from tests.gui.conftest import Dialogs, finish_jobs, make_window


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
    assert dialog.download_button.text() == "Download 3.8 MB"  # the size, before any click
    assert not dialog.set_folder(tmp_path) and "0 class sub-folders" in dialog.status.text()
    assert dialog.set_folder(SAMPLE_PHOTOS) and dialog.classes.value() == 3
    with qtbot.waitSignal(dialog.project_ready, timeout=60000) as ready:
        dialog.buttons.accepted.emit()
    project = ready.args[0]
    (block_id,) = backbone_nodes(project.graph)
    assert "trainable" not in project.graph.nodes[block_id].params  # no weights: it trains
    assert project.graph.node_by_name("classes").params["units"] == 3
    assert project.dataset.name == "image_folder"
    params = project.dataset.params
    assert (params["rescale"], params["height"], params["width"]) == (False, 32, 32)


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
    assert section.isExpanded()  # folded by default: a match is shown
    with qtbot.waitSignal(palette.pretrained_activated) as entered:
        palette.search.returnPressed.emit()  # Enter: the first match
    assert entered.args == ["ResNet50"]


def test_photos_with_cached_weights_trains_then_fine_tunes_and_the_canvas_counts_follow(
    qtbot: Any, dialogs: Dialogs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Start tab says which model 'Classify your own photos' opens with, and opens it on
    MobileNetV3Small once its weights are in the Keras cache (a stand-in the test writes); the
    Data panel reads a folder raw for it; the head trains, Fine-tune backbone continues the run,
    and the canvas shows what trains and the memory it takes, before and after (and on Undo)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    window = make_window(qtbot, moons_mlp(), dialogs)
    start = window.start_panel
    photos = next(
        start.templates.item(i)
        for i in range(start.templates.count())
        if start.templates.item(i).data(DATA_ROLE) == "photos"
    )
    start.templates.setCurrentItem(photos)
    assert "Opens with a small CNN trained from scratch: the ImageNet weights of Mobile" in (
        start.template_details.text()
    )
    cache(tmp_path / "keras", write_stand_in(tmp_path / "published")[0], monkeypatch)
    start.templates.setCurrentRow(0)
    start.templates.setCurrentItem(photos)  # the cache is read again
    assert "Opens with MobileNetV3Small pretrained on ImageNet" in start.template_details.text()

    start.templates.itemActivated.emit(photos)  # double-click: opened as a job
    finish_jobs(qtbot, window)
    project = window.workflow.project
    (block_id,) = backbone_nodes(project.graph)
    assert window.statusBar().currentMessage() == (
        "Classify your own photos: opened with MobileNetV3Small pretrained on ImageNet "
        "(frozen; its weights are in the Keras cache)"
    )
    assert window.weights_label.text() == "Weights: pretrained"
    block = window.scene.node_items[block_id]
    totals = window.model_totals
    qtbot.waitUntil(lambda: block.params_text() == "939.1 K params, frozen", timeout=20_000)
    assert totals.isVisible() and "1,731 trainable, 939,120 non-trainable" in totals.text()
    frozen_memory = window.analysis_panel.memory.total
    window.scene.select_node(block_id)  # the Inspector says what it is and what trains
    about = window.inspector.about
    assert about is not None and "MobileNetV3Small, pretrained on ImageNet" in about.text()
    assert "Frozen: training leaves its weights as they are" in about.text()

    # Another source, then an image folder again: raw pixels, at the backbone's size.
    panel = window.data_panel
    panel.choose_source("digits")
    qtbot.waitUntil(lambda: project.dataset.name == "digits", timeout=20_000)
    panel.choose_source("image_folder")
    assert not panel.editors["rescale"].isChecked()
    assert (panel.params["height"], panel.params["width"]) == (64, 64)
    panel.set_param("path", str(SAMPLE_PHOTOS))
    qtbot.waitUntil(lambda: project.dataset.name == "image_folder", timeout=20_000)
    assert project.dataset.params["rescale"] is False and not window.data_panel.error

    window.workflow.set_training(epochs=1)
    with qtbot.waitSignal(window.training.finished, timeout=120_000) as first:
        assert window.training.start()
    assert first.args[0].status == "completed", first.args[0].message
    head_run = window.workflow.weights.run

    tuning = FineTuneDialog(155, project.training.learning_rate, window)
    assert tuning.rate.text() == "0.0001 (now 0.001)"
    monkeypatch.setattr(tuning, "exec", lambda: QDialog.DialogCode.Accepted)
    with qtbot.waitSignal(window.training.finished, timeout=120_000) as second:
        assert fine_tune(window, tuning)
    assert second.args[0].status == "completed", second.args[0].message
    tuned = window.workflow.weights.run
    assert tuned.parent_id == head_run.id and project.training.learning_rate == 0.0001
    assert (
        "layers of 'mobilenetv3small' that train 0 → 15"
        in window.runs_panel.table.item(0, 0).text()
    )
    qtbot.waitUntil(lambda: block.params_text() == "346.9 K of 939.1 K train")
    assert "Its top 20 of 155 layers train" in about.text()
    assert "348,627 trainable, 592,224 non-trainable" in totals.text()
    assert window.analysis_panel.memory.total > frozen_memory  # gradients, Adam's moments

    window.editing.undo_last()  # Edit > Undo: the backbone frozen again
    qtbot.waitUntil(lambda: block.params_text() == "939.1 K params, frozen")
    assert "1,731 trainable" in totals.text() and not dialogs.errors
    assert "Frozen" in about.text()

    dialogs.confirm_answer = False  # Ctrl+Shift+G on the backbone: asked first, kept
    window.scene.select_node(block_id)
    assert not window.editing.ungroup_selection()
    assert "no longer frozen" in dialogs.questions[-1] and block_id in project.graph.nodes
    window.shutdown()
