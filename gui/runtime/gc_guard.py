"""Python's cyclic garbage collector runs on the GUI thread only.

Left to itself, the collector runs in whichever thread happens to allocate when a threshold is
crossed: during training that is the training thread, tracing TensorFlow functions. If the
garbage then holds Qt objects (a closed dialog, an old window's widgets in a reference cycle),
they are destroyed from that thread while the GUI thread destroys others: Shiboken's deletion
and Qt's connection locks then wait on each other and on the GIL, and the app hangs (a stack
dump of exactly that was taken in the GUI tests, `QObject::~QObject` on both threads).

So automatic collection is off and a timer on the GUI thread collects by the same generation
thresholds Python would use (the approach of pyqtgraph's `GarbageCollector`). Once TensorFlow
and Keras are imported, `freeze` moves their few hundred thousand long-lived objects out of
the collector's sight: a full collection then scans only what was made since, instead of
taking about 180 ms, so collecting on the GUI thread does not stall the window (checks while
training measured 1-13 ms, benchmarks/README.md).
"""

from __future__ import annotations

import gc
from typing import Any

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500

_collector: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Disables automatic collection and collects on a GUI-thread timer instead."""

    def __init__(self, parent: Any = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.frozen = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; objects found."""
        g0, g1, g2 = gc.get_count()
        found = 0
        if g0 > self.threshold[0]:
            generation = 0
            if g1 > self.threshold[1]:
                generation = 2 if g2 > self.threshold[2] else 1
            found = gc.collect(generation)
        return found

    def freeze(self) -> None:
        """Collect once, then keep everything alive now out of later collections (imported
        modules, TensorFlow's and Keras' state): later full collections stay cheap."""
        if not self.frozen:
            gc.collect()
            gc.freeze()
            self.frozen = True


def install() -> GuiThreadCollector:
    """The process' collector, made on first call (call it on the GUI thread)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector()
    return _collector
