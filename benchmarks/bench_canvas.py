"""Canvas at scale: a 1,000-node graph on the real main window (offscreen), and live plots.

Figures: time to load the graph into the window (scene items, shapes), to lay it out, per drag
step of one node (the edges follow), per re-inference after one parameter edit with the canvas
repainting, and the cost of one plot update with 100,000 points per curve. There is no Keras
baseline for drawing; the drag figure is compared with a 60 Hz frame (16.7 ms).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    import numpy as np
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from backend.document.project import Project
    from backend.editing.layout import layout_command
    from benchmarks.bench_graph import residual_mlp
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    graph = residual_mlp(1000)
    window = MainWindow(Project(name="big"))
    window.show()
    window.live.activate()
    from backend.keras_env import import_keras

    import_keras()  # TensorFlow's import is not what is measured here
    app.processEvents()

    start = time.perf_counter()
    window.project.graph.load_dict(graph.to_dict())
    app.processEvents()
    load = time.perf_counter() - start

    start = time.perf_counter()
    command = layout_command(window.project.graph)
    assert command is not None
    window.undo.push(command)
    window.view.fit_all()
    app.processEvents()
    layout = time.perf_counter() - start

    nodes = list(window.scene.node_items.values())
    item = nodes[len(nodes) // 2]
    steps, full = [], []
    for i in range(60):
        start = time.perf_counter()
        item.setPos(item.pos() + QPointF(3 if i % 2 else -3, 2))
        app.processEvents()  # what a drag costs: Qt repaints the dirty region
        steps.append(time.perf_counter() - start)
    for i in range(20):
        start = time.perf_counter()
        item.setPos(item.pos() + QPointF(3 if i % 2 else -3, 2))
        window.view.viewport().repaint()  # worst case: the whole graph repainted
        full.append(time.perf_counter() - start)

    dense = next(n for n in window.project.graph.nodes.values() if n.layer_type == "Dense")
    edits = []
    for units in (31, 32, 31, 32, 31):
        start = time.perf_counter()
        window.project.graph.set_params(dense.id, {"units": units})
        window.view.viewport().repaint()
        edits.append(time.perf_counter() - start)

    window.training_panel._curve("loss (batches)")
    curve = window.training_panel.curves["loss (batches)"]
    xs = np.arange(100_000, dtype=float)
    ys = np.random.default_rng(0).normal(size=100_000)
    plots = []
    for _ in range(10):
        start = time.perf_counter()
        curve.setData(xs, ys)
        window.training_panel.plots.repaint()
        plots.append(time.perf_counter() - start)
    window.shutdown()

    print("| measure (1,000-node graph, offscreen, 2 cores) | ms |")
    print("|---|---|")
    print(f"| load into the window (items, shapes, validation) | {load * 1e3:.0f} |")
    print(f"| auto-layout + fit | {layout * 1e3:.0f} |")
    drag = statistics.median(steps) * 1e3
    print(f"| drag step of one node, median (60 Hz frame = 16.7) | {drag:.1f} |")
    print(f"| drag step, worst | {max(steps) * 1e3:.1f} |")
    print(f"| full repaint of the whole graph, median | {statistics.median(full) * 1e3:.1f} |")
    print(
        f"| one parameter edit: re-infer + repaint, median | {statistics.median(edits) * 1e3:.0f} |"
    )
    plot_ms = statistics.median(plots) * 1e3
    print(f"| plot update with 100,000 points per curve, median | {plot_ms:.1f} |")


if __name__ == "__main__":
    main()
