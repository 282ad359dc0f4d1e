"""Start-up: when does `python main.py` show its window, against a bare `import tensorflow`?

Target: the window appears before TensorFlow alone would have finished importing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import Measurement, Spread, publish, ratios, table

REPO = Path(__file__).resolve().parent.parent
REPEATS = 3


def time_import_tensorflow() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    return time.time() - start


def time_window(tmp: Path) -> tuple[float, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DEEPCANVAS_TIMING="1")
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "main.py", "--screenshot", str(tmp)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    stamps = {}
    for line in proc.stderr.splitlines():
        if line.startswith(("window-shown-at", "keras-ready-at")):
            key, value = line.split()[:2]
            stamps[key] = float(value)
    return stamps["window-shown-at"] - start, stamps["keras-ready-at"] - start


def main() -> None:
    measurement = Measurement()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "deepcanvas-bench-shot.png"
    bare, shown, ready = [], [], []
    for i in range(REPEATS):  # alternating which goes first
        for first in (True, False) if i % 2 == 0 else (False, True):
            if first:
                bare.append(time_import_tensorflow())
            else:
                window, keras = time_window(tmp)
                shown.append(window)
                ready.append(keras)
    rows = [
        ["bare `import tensorflow`", Spread(bare).show()],
        ["`python main.py`: window shown", Spread(shown).show()],
        ["`python main.py`: TensorFlow ready in the app", Spread(ready).show()],
        ["ratio window shown / bare import", f"**{ratios(shown, bare).show()}**"],
    ]
    publish(
        "bench_startup",
        f"{measurement.stamp()} Median of {REPEATS} (min-max), each a fresh process.\n\n"
        + table(["measure", "seconds"], rows),
    )


if __name__ == "__main__":
    main()
