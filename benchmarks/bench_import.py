"""Import: opening a Keras model as a project, against Keras loading the same file.

Every `keras.applications` architecture the tests import (built with `weights=None` at the
sizes `tests/backend/test_import_applications.py` uses) and ResNet50 at its full 224 x 224
size are saved once to `.keras` files. Baseline: `keras.models.load_model(file,
safe_mode=True)`, the least any import must do. App: `import_model` (read and check the
config, load, convert every layer, lay out, write the weights beside the project): what
File > Import and `main.py import` do before the canvas shows. Both in the same process,
alternating which goes first, after a warm-up; ratio = app / baseline (target <= 1.5).
Shape inference of the whole graph, which the canvas does next, is timed apart.

Run: `.venv/bin/python -m benchmarks.bench_import [ROUNDS]`.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.exchange.importer import import_model
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_env import import_keras
from benchmarks.report import Measurement, Spread, alternate, publish, table

ROUNDS = 5
APPLICATIONS = {  # as tests/backend/test_import_applications.py builds them
    "ResNet50": {"input_shape": (32, 32, 3), "classes": 10},
    "MobileNetV2": {"input_shape": (32, 32, 3), "classes": 10},
    "DenseNet121": {"input_shape": (64, 64, 3), "classes": 10},
    "EfficientNetB0": {"input_shape": (32, 32, 3), "classes": 10},
    "ResNet50 (224 x 224, 1000 classes)": {},
}


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, path: Path, folder: Path, rounds: int) -> list[Any]:
    keras = import_keras()
    project_path = folder / f"{path.stem}.dcproj.json"
    runs = {
        "load_model": lambda: _timed(
            lambda: keras.models.load_model(path, safe_mode=True, compile=False)
        ),
        "import": lambda: _timed(lambda: import_model(path, project_path)),
    }
    for run in runs.values():
        run()  # warm-up: Keras' first traces, the catalog's caches
    times = alternate(rounds, runs)
    project = import_model(path, project_path)
    shapes = statistics.median(
        _timed(lambda: ShapeInference().infer(project.graph)) for _ in range(3)
    )
    ratio = Spread([a / b for a, b in zip(times["import"], times["load_model"], strict=True)])
    return [
        name,
        len(project.graph.nodes),
        Spread(times["load_model"]).show(),
        Spread(times["import"]).show(),
        f"**{ratio.show()}**",
        f"{shapes:.2f}",
    ]


def main(rounds: int = ROUNDS) -> None:
    keras = import_keras()
    measurement = Measurement()
    folder = Path(tempfile.mkdtemp(prefix="deepcanvas-bench-import-"))
    rows = []
    for name, arguments in APPLICATIONS.items():
        builder = getattr(keras.applications, name.split(" ")[0])
        path = folder / f"{name.split(' ')[0]}{'_full' if not arguments else ''}.keras"
        builder(weights=None, **arguments).save(path)
        rows.append(measure(name, path, folder, rounds))
        print(rows[-1], flush=True)
    headers = [
        "model",
        "layers",
        "`load_model` (s)",
        "app import (s)",
        "ratio import / load_model",
        "then shape inference (s)",
    ]
    publish(
        "bench_import",
        f"{measurement.stamp()} Median over {rounds} rounds (min-max), alternating; the ratio "
        f"is taken per round.\n\n{table(headers, rows)}",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
