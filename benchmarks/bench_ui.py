"""UI responsiveness while training: the event loop's worst stall and 99th percentile.

A 5 ms QTimer runs on the real main window (offscreen) while the digits example trains; each
tick records the time since the previous one. The same timer with the window idle, in the same
run, is the baseline. Target: worst stall under 50 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def measure_once() -> dict[str, float]:
    """One run in this process: the idle and training gaps, and the training's wall time."""
    from PySide6.QtWidgets import QApplication

    from backend.templates.examples import digits_cnn
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
    window.training.finished.connect(done.append)
    start = time.perf_counter()
    assert window.training.start()
    busy = measure(app, 120.0, until=lambda: bool(done))
    seconds = time.perf_counter() - start
    window.shutdown()
    return {
        "idle_median": float(np.median(idle)),
        "idle_p99": float(np.percentile(idle, 99)),
        "idle_worst": float(idle.max()),
        "median": float(np.median(busy)),
        "p99": float(np.percentile(busy, 99)),
        "worst": float(busy.max()),
        "ticks": float(len(busy)),
        "train_s": seconds,
    }


CONFIGS = {"as shipped": {}, "training threads not lowered": {"DEEPCANVAS_TRAIN_NICE": "0"}}


def main() -> None:
    if "--once" in sys.argv:
        print(json.dumps(measure_once()))
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(
        "| configuration | round | median (ms) | 99th pct (ms) | worst (ms) | ticks |"
        " training (s) | idle worst (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in range(rounds):
        for name, env in CONFIGS.items():
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_ui", "--once"],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            m = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {name} | {r + 1} | {m['median']:.1f} | {m['p99']:.1f} | {m['worst']:.1f} "
                f"| {m['ticks']:.0f} | {m['train_s']:.1f} | {m['idle_worst']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
