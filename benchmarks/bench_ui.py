"""UI responsiveness while training: the event loop's worst stall and 99th percentile.

A 5 ms QTimer runs on the real main window (offscreen) while the digits example trains; each
tick records the time since the previous one. The same timer with the window idle, in the same
run, is the baseline. Target: worst stall under 50 ms.

Each tick also reads the GUI thread's scheduler counters (Linux `/proc/.../schedstat`), so the
worst gap splits into the time the GUI thread ran (the app's own work: a paint, a slot), the
time it was ready but waited for a CPU (other threads and processes had the cores), and the
rest, when it could not run: waiting for the interpreter lock (GIL) held by the training
thread, or the loop's 1 ms sleeps. `python -m benchmarks.bench_ui --trace` runs once and says,
for each gap over 30 ms, which GUI work (panel slots, plot paints, collections) it held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


def gui_thread_clock() -> tuple[float, float]:
    """The calling thread's CPU time and its time ready to run but waiting, in ms (NaN
    where the kernel does not say: not Linux)."""
    try:
        ran, waited, _ = (
            Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
        )
    except (OSError, ValueError):
        return float("nan"), float("nan")
    return int(ran) / 1e6, int(waited) / 1e6


def measure(
    app: object, seconds: float, until: object = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each gap between ticks (ms); for each what the GUI thread did meanwhile: (ran, waited
    for a CPU) in ms; and when each gap ended (`time.perf_counter`)."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    split: list[tuple[float, float]] = []
    ends: list[float] = []
    last = [time.perf_counter(), *gui_thread_clock()]

    def tick() -> None:
        now = time.perf_counter()
        ran, waited = gui_thread_clock()
        gaps.append((now - last[0]) * 1e3)
        ends.append(now)
        split.append((ran - last[1], waited - last[2]))
        last[:] = [now, ran, waited]

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):  # type: ignore[operator]
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.001)
    timer.stop()
    return np.asarray(gaps[1:]), np.asarray(split[1:]).reshape(-1, 2), np.asarray(ends[1:])


def record_gui_work(log: list[tuple[float, float, str]]) -> None:
    """For `--trace`: log (start, end, what) of the GUI-thread work that may stall the window:
    the training panel's slots, every pyqtgraph paint, the garbage collector's checks."""
    import pyqtgraph as pg

    from gui.runtime.gc_guard import GuiThreadCollector
    from gui.training.training_controller import TrainingController
    from gui.training.training_panel import TrainingPanel

    gui = threading.get_ident()

    def timed(cls: Any, name: str) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                if threading.get_ident() == gui:
                    what = type(args[0]).__name__ if name == "on_event" else ""
                    if name == "paintEvent":
                        rect = args[0].rect()
                        what = f"{self.objectName()} {rect.width()}x{rect.height()}"
                    log.append((start, time.perf_counter(), f"{cls.__name__}.{name}({what})"))

        setattr(cls, name, wrapper)

    timed(pg.GraphicsView, "paintEvent")
    timed(TrainingPanel, "on_event")
    timed(TrainingPanel, "_redraw")
    timed(GuiThreadCollector, "check")
    timed(TrainingController, "_on_done")


def print_stalls(
    busy: np.ndarray, split: np.ndarray, ends: np.ndarray, log: list[Any], start: float
) -> None:
    """Each gap over 30 ms: when, its split, and the GUI work (over 1 ms) that overlapped it."""
    for gap, (ran, waited), end in zip(busy, split, ends, strict=True):
        if gap > 30:
            begin = end - gap / 1e3
            work = [
                f"{what} {(b - a) * 1e3:.0f} ms"
                for a, b, what in log
                if a < end and b > begin and b - a > 0.001
            ]
            blocked = max(0.0, gap - ran - waited)
            print(
                f"{begin - start:6.2f} s: {gap:5.1f} ms (ran {ran:.0f}, waited {waited:.0f}, "
                f"blocked {blocked:.0f}): {'; '.join(work) or 'no GUI work logged'}",
                file=sys.stderr,
            )


def measure_once(trace: bool = False) -> dict[str, float]:
    """One run in this process: the idle and training gaps, and the training's wall time.
    With `trace`, each gap over 30 ms is printed to stderr with the GUI work it held."""
    from PySide6.QtWidgets import QApplication

    from backend.templates.examples import digits_cnn
    from gui.main_window import MainWindow

    switch_ms = os.environ.get("BENCH_SWITCH_MS")
    if switch_ms:
        sys.setswitchinterval(float(switch_ms) / 1e3)
    log: list[tuple[float, float, str]] = []
    if trace:
        record_gui_work(log)
    app = QApplication.instance() or QApplication([])
    project = digits_cnn()
    project.training.epochs = 8
    window = MainWindow(project)
    window.show()
    window.start_loading_keras()
    while not window.ready:
        app.processEvents()
        time.sleep(0.01)
    idle, _, _ = measure(app, 2.0)
    done = []
    window.training.finished.connect(done.append)
    start = time.perf_counter()
    assert window.training.start()
    busy, split, ends = measure(app, 120.0, until=lambda: bool(done))
    seconds = time.perf_counter() - start
    window.shutdown()
    if trace:
        print_stalls(busy, split, ends, log, start)
    worst = int(busy.argmax())
    ran, waited = split[worst]
    return {
        "idle_median": float(np.median(idle)),
        "idle_p99": float(np.percentile(idle, 99)),
        "idle_worst": float(idle.max()),
        "median": float(np.median(busy)),
        "p99": float(np.percentile(busy, 99)),
        "worst": float(busy.max()),
        "worst_ran": float(ran),
        "worst_waited": float(waited),
        "worst_blocked": max(0.0, float(busy.max() - ran - waited)),
        "over_30": float((busy > 30).sum()),
        "ticks": float(len(busy)),
        "train_s": seconds,
    }


CONFIGS = {
    "as shipped": {},
    "training threads not lowered": {"DEEPCANVAS_TRAIN_NICE": "0"},
    "GIL switch interval 1 ms": {"BENCH_SWITCH_MS": "1"},
}


def main() -> None:
    if "--once" in sys.argv or "--trace" in sys.argv:
        print(json.dumps(measure_once(trace="--trace" in sys.argv)))
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(
        "| configuration | round | median (ms) | 99th pct (ms) | worst (ms) | worst gap: GUI"
        " ran / waited for a CPU / blocked (ms) | gaps > 30 ms | ticks | training (s) |"
        " idle worst (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
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
                f"| {m['worst_ran']:.0f} / {m['worst_waited']:.0f} / {m['worst_blocked']:.0f} "
                f"| {m['over_30']:.0f} | {m['ticks']:.0f} | {m['train_s']:.1f} "
                f"| {m['idle_worst']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
