"""Garbage holding Qt objects is collected on the GUI thread, never on a training thread
(where it deadlocked: Shiboken's deletion and Qt's locks waiting on the GIL)."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from PySide6.QtCore import QObject

from gui.main_window import MainWindow


class Cycle:
    """A reference cycle that holds a Qt object, as a dropped widget tree does."""

    def __init__(self) -> None:
        self.me = self
        self.qt = QObject()


def test_qt_garbage_is_collected_on_the_gui_thread_not_the_allocating_one(
    qtbot: Any, window: MainWindow
) -> None:
    assert not gc.isenabled()  # the window's collector took over
    collected_on: list[int] = []
    cycle = Cycle()
    weakref.finalize(cycle, lambda: collected_on.append(threading.get_ident()))
    del cycle

    kept: list[Any] = []

    def allocate() -> None:  # a training thread tracing a model allocates like this
        kept.extend([i] for i in range(50_000))  # far past the collector's thresholds

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert collected_on == []  # Python would have collected it there, on the worker
    qtbot.waitUntil(lambda: bool(collected_on), timeout=5_000)
    assert collected_on == [threading.get_ident()]


def test_freezing_keeps_later_full_collections_small(window: MainWindow) -> None:
    window.collector.freeze()  # done when TensorFlow has loaded; idempotent
    frozen = gc.get_freeze_count()
    assert window.collector.frozen and frozen > 10_000
    window.collector.freeze()
    assert gc.get_freeze_count() == frozen  # not frozen twice
    # A full collection no longer scans TensorFlow's and Keras' own objects...
    import sys

    tracked = {id(o) for o in gc.get_objects()}
    keras, tf = sys.modules["keras"], sys.modules["tensorflow"]
    long_lived = [vars(keras), vars(tf), keras.layers.Dense, keras.Model, vars(keras.ops)]
    assert not [o for o in long_lived if id(o) in tracked]
    # ...only what was made since (here also what earlier tests keep alive: cached models).
    gc.collect()
    assert len(gc.get_objects()) < frozen / 2
