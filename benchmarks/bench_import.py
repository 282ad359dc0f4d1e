"""Import: how long does opening ResNet50 take, against Keras loading the same file?

`keras.applications.ResNet50(weights=None)` (177 layers, 25.6 M parameters) is saved once to a
`.keras` file. Baseline: `keras.models.load_model(file, safe_mode=True)`, the least any import
must do. App: `import_model` (read and check the config, load, convert every layer, lay out,
write the weights beside the project) and then shape inference of the whole graph, i.e. what
File > Import does before the canvas shows. Median of 5, alternating which goes first, after a
warm-up; the app's own steps are also timed apart.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.editing.layout import layered_layout
from backend.exchange.importer import import_model, model_graph, read_model_config
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_env import import_keras

REPEATS = 5


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    keras = import_keras()
    folder = Path(tempfile.mkdtemp(prefix="deepcanvas-bench-import-"))
    path = folder / "resnet50.keras"
    keras.applications.ResNet50(weights=None).save(path)
    layers = len(keras.models.load_model(path).layers)

    def baseline() -> None:
        keras.models.load_model(path, safe_mode=True, compile=False)

    def app() -> None:
        project = import_model(path, folder / "resnet50.dcproj.json")
        ShapeInference().infer(project.graph)

    baseline()
    app()  # warm-up: Keras' first traces, the catalog's caches
    plain: list[float] = []
    ours: list[float] = []
    for i in range(REPEATS):
        pair = [(plain, baseline), (ours, app)]
        for times, fn in pair if i % 2 == 0 else reversed(pair):
            times.append(_timed(fn))

    config = read_model_config(path)["config"]
    convert = statistics.median(
        _timed(lambda: model_graph(config, "Functional", "b")) for _ in range(3)
    )
    graph = model_graph(config, "Functional", "bench")
    layout = statistics.median(_timed(lambda: layered_layout(graph)) for _ in range(3))
    shapes = statistics.median(_timed(lambda: ShapeInference().infer(graph)) for _ in range(3))
    p, a = statistics.median(plain), statistics.median(ours)
    print(f"| measure (ResNet50, {layers} layers) | seconds |")
    print("|---|---|")
    print(f"| baseline: `keras.models.load_model` | {p:.2f} |")
    print(f"| app: import (load, convert, lay out, save weights) + shape inference | {a:.2f} |")
    print(f"| ratio app / baseline | {a / p:.2f} |")
    print(f"| of which: config to graph, with layout | {convert:.3f} |")
    print(f"| of which: layered layout alone | {layout:.3f} |")
    print(f"| of which: shape inference of every node | {shapes:.3f} |")


if __name__ == "__main__":
    main()
