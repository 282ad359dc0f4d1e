"""Start-up: when does `python main.py` show its window, against a bare `import tensorflow`?

Target: the window appears before TensorFlow alone would have finished importing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "deepcanvas-bench-shot.png"
    bare = statistics.median(time_import_tensorflow() for _ in range(REPEATS))
    runs = [time_window(tmp) for _ in range(REPEATS)]
    shown = statistics.median(r[0] for r in runs)
    ready = statistics.median(r[1] for r in runs)
    print("| measure | seconds |")
    print("|---|---|")
    print(f"| bare `import tensorflow` | {bare:.2f} |")
    print(f"| `python main.py`: window shown | {shown:.2f} |")
    print(f"| `python main.py`: TensorFlow ready in the app | {ready:.2f} |")
    print(f"| ratio window shown / bare import | {shown / bare:.2f} |")


if __name__ == "__main__":
    main()
