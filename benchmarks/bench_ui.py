"""UI responsiveness while training: the event loop's worst stall and 99th percentile.

A 5 ms QTimer runs on the real main window (offscreen) while the digits example trains; each
tick records the time since the previous one. The same timer with the window idle, in the same
run, is the baseline. Target: worst stall under 50 ms.
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


def measure(app: object, seconds: float, until: object = None) -> np.ndarray:
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1e3)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):  # type: ignore[operator]
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.001)
    timer.stop()
    return np.asarray(gaps[1:])


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from backend.examples import digits_cnn
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    project = digits_cnn()
    project.training.epochs = 8
    window = MainWindow(project)
    window.show()
    window.start_loading_keras()
    while not window.ready:
        app.processEvents()
        time.sleep(0.01)
    idle = measure(app, 2.0)
    done = []
    window.training_finished.connect(done.append)
    assert window.start_training()
    busy = measure(app, 120.0, until=lambda: bool(done))
    window.shutdown()
    print("| event loop, 5 ms timer (ms between ticks) | idle window | while training |")
    print("|---|---|---|")
    print(f"| median | {np.median(idle):.1f} | {np.median(busy):.1f} |")
    print(f"| 99th percentile | {np.percentile(idle, 99):.1f} | {np.percentile(busy, 99):.1f} |")
    print(f"| worst | {idle.max():.1f} | {busy.max():.1f} |")
    print(f"| ticks | {len(idle)} | {len(busy)} |")


if __name__ == "__main__":
    main()
