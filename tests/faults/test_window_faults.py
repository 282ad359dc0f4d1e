"""Faults the window must survive and say: a layer too big to build is that layer's error on
the canvas and a refused Train (it asked "Train anyway?" and then recorded a failed run), and
an autosave the disk refuses is said once in the status bar (it raised into Qt's event loop
every minute)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.document.project import load_project
from backend.paths import data_dir
from gui.main_window import MainWindow
from tests.faults.conftest import fingerprint, write_project
from tests.faults.test_memory import HUGE
from tests.gui.conftest import Dialogs, make_window, private_qsettings


@pytest.fixture
def open_window(qtbot: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    private_qsettings(tmp_path_factory.mktemp("qsettings"))
    windows: list[MainWindow] = []

    def opened(path: Path, dialogs: Dialogs) -> MainWindow:
        window = make_window(qtbot, load_project(path), dialogs)
        windows.append(window)
        return window

    yield opened
    for window in windows:
        window.shutdown()
        assert not window.is_training


def test_a_layer_too_big_is_its_error_and_train_is_refused(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    path = write_project(tmp_path / "huge.dcproj.json", HUGE, "moons")
    before = fingerprint(tmp_path)
    dialogs = Dialogs()
    window = open_window(path, dialogs)
    dense = next(n.id for n in window.project.graph.nodes.values() if n.name == "dense")
    item = window.scene.node_items[dense]
    qtbot.waitUntil(lambda: item.severe, timeout=10_000)  # the canvas marks the layer
    assert any("Dense 'dense'" in w and "GiB" in w for w in item.warnings), item.warnings
    refusals: list[tuple[str, Any]] = []
    window.training.refused.connect(lambda text, node: refusals.append((text, node)))
    assert window.training.start() is False
    assert not dialogs.questions  # no "Train anyway?" for what cannot be built at all
    ((message, node),) = refusals
    assert message.startswith("Cannot train: Dense 'dense' holds") and "GiB" in message
    assert node == dense and window.scene.selectedItems() == [item]
    assert window.project.runs == [] and not window.project.dirty  # no failed run recorded
    assert fingerprint(tmp_path) == before


def test_autosave_the_disk_refuses_is_said_once_and_saving_still_works(
    open_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(write_project(tmp_path / "p.dcproj.json"), Dialogs())
    said: list[str] = []
    monkeypatch.setattr(window.prompts, "status", lambda text, ms=4000: said.append(text))
    window.workflow.set_training(epochs=3)  # unsaved work
    folder = data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    folder.rmdir()
    folder.write_text("not a folder")  # the autosave folder cannot be made: a refused write
    tick = window.files.autosave_timer.timeout.emit  # as the timer does: an exception raised
    for _ in range(3):  # here would reach Qt's event loop (pytest-qt fails the test)
        tick()
    assert (
        len(said) == 1
        and said[0].startswith(f"Autosave failed ({folder}: ")
        and "File > Save" in said[0]
    )

    folder.unlink()
    tick()
    assert said[1:] == ["Autosave works again."]
    (kept,) = folder.glob("*.autosave.json")
    copy = kept.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    window.workflow.set_training(epochs=4)
    with monkeypatch.context() as full:
        full.setattr(os, "fsync", disk_full)
        tick()
        tick()
    assert len(said) == 3 and "No space left on device" in said[2], said
    assert [p.name for p in folder.iterdir()] == [kept.name]  # no temporary file left
    assert kept.read_bytes() == copy  # the last good copy is intact

    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    folder.write_text("not a folder")  # the discard after a save cannot reach the folder
    assert window.files.save_to(tmp_path / "p.dcproj.json")  # the discard is best effort
    assert load_project(tmp_path / "p.dcproj.json").training.epochs == 4
    assert said[-1] == f"Saved {tmp_path / 'p.dcproj.json'}"


def test_train_refused_on_its_data_in_the_window_records_no_run(
    open_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.faults.test_refused_starts import TEN_INTO_ONE, ten_classes

    data = ten_classes(tmp_path)
    path = write_project(tmp_path / "p.dcproj.json", TEN_INTO_ONE, "numpy", {"path": str(data)})
    before = fingerprint(tmp_path)
    window = open_window(path, Dialogs())
    # Train refuses at once when the Analysis tab has read the file's shapes in the
    # background; before that, the job refuses once it has loaded the data: that path here.
    monkeypatch.setattr(window.workflow, "problems", lambda: [])
    with qtbot.waitSignal(window.training.finished, timeout=60_000):
        assert window.training.start()
    dense = window.project.graph.node_by_name("dense").id
    status = window.training_panel.status.text()
    assert status.startswith("Cannot train:") and "10 classes" in status, status
    assert window.scene.selectedItems() == [window.scene.node_items[dense]]
    assert window.project.runs == [] and window.training.last_run is None
    assert not window.project.dirty and window.runs_panel.table.rowCount() == 0
    assert fingerprint(tmp_path) == before


def test_evaluate_in_the_window_refuses_a_checkpoint_of_another_model(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    import shutil

    from tests.faults.conftest import run_cli

    project = write_project(tmp_path / "p.dcproj.json")
    other = write_project(
        tmp_path / "q.dcproj.json",
        (("Input", {"shape": [2]}), ("Dense", {"units": 7}), ("Dense", {"units": 1})),
    )
    assert run_cli("train", project).code == 0 and run_cli("train", other).code == 0
    checkpoints = [tmp_path / load_project(p).runs[0].checkpoint for p in (project, other)]
    shutil.copy(checkpoints[1], checkpoints[0])  # the run's file replaced
    window = open_window(project, Dialogs())
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.failed, timeout=60_000):
        assert panel.evaluate()
    text = panel.status.text()  # it evaluated an untrained model as the run's
    assert text.startswith("Cannot evaluate: ") and "does not fit the model it trained" in text
    assert "WeightsError" not in text and panel.evaluation is None
