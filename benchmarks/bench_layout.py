"""Layout: Keras' own architectures and a 5,000-node graph, the new layered layout beside the old.

Part 1 (no Qt): ResNet50, InceptionV3, DenseNet121 and NASNetMobile (`keras.applications`,
weights=None, as File > Import converts them) and a 5,000-node residual MLP. For each: the
new layout (layers, crossings, coordinates) and the edge routing, median of 3; the old layout
(the one-row layout of commit 1777f7e, read from git when the repository is there) in the same
run; and what a reader sees: the drawing's extent and how many edges pass behind a layer they do
not connect (a skip connection drawn straight behind the layers it skips: the old drawing's
bezier curves are taken as straight lines, the new one's routes as drawn).

Part 2 (Qt, offscreen): the 5,000-node graph in the real main window: load (items and shapes),
lay out, fit, and one step of pan, zoom and select, each with the repaint it causes.
Targets (issue #14): NASNetMobile laid out in under 1 s; 5,000 nodes usable.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.document.graph import LayerGraph
from backend.editing.geometry import graph_sizes
from backend.editing.layout import layered_layout
from backend.editing.routing import port_points, route_edges
from benchmarks.bench_graph import residual_mlp

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OLD_COMMIT = "1777f7e"
APPLICATIONS = {
    "ResNet50": (224, 224, 3),
    "InceptionV3": (299, 299, 3),
    "DenseNet121": (224, 224, 3),
    "NASNetMobile": (224, 224, 3),
}
Box = tuple[float, float, float, float]


def _median(fn: Callable[[], Any], rounds: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _old_layout() -> types.ModuleType | None:
    """The layout before this one, from git (None outside a clone)."""
    root = Path(__file__).resolve().parent.parent
    try:
        source = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:backend/editing/layout.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_layout")
    exec(compile(source, "old_layout.py", "exec"), module.__dict__)  # our own file, from git
    return module


def _hits(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    """Whether the segment a-b passes through the inside of a box (Liang-Barsky)."""
    x, y, w, h = box
    x0, y0, x1, y1 = x + 2, y + 2, x + w - 2, y + h - 2
    dx, dy = b[0] - a[0], b[1] - a[1]
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                lo = max(lo, t)
            else:
                hi = min(hi, t)
    return lo < hi


def _hidden_edges(graph: LayerGraph, boxes: dict[str, Box], paths: dict[Any, list[Any]]) -> int:
    """Edges with a piece passing through a box other than their own two ends'."""
    rows: dict[int, list[tuple[str, Box]]] = {}
    for nid, box in boxes.items():  # a coarse grid, so this stays fast at 5,000 nodes
        for cell in range(int(box[1] // 400), int((box[1] + box[3]) // 400) + 1):
            rows.setdefault(cell, []).append((nid, box))
    count = 0
    for edge, points in paths.items():
        ends = {edge.src, edge.dst}
        found = False
        for a, b in itertools.pairwise(points):
            cells = range(int(min(a[1], b[1]) // 400), int(max(a[1], b[1]) // 400) + 1)
            near = {nid: box for c in cells for nid, box in rows.get(c, [])}
            if any(nid not in ends and _hits(a, b, box) for nid, box in near.items()):
                found = True
                break
        count += found
    return count


def _graphs() -> dict[str, LayerGraph]:
    from backend.exchange.importer import model_graph
    from backend.keras_env import import_keras

    keras = import_keras()
    graphs = {}
    for name, shape in APPLICATIONS.items():
        model = getattr(keras.applications, name)(weights=None, input_shape=shape)
        graphs[name] = model_graph(model.get_config(), "Functional", name)
    graphs["residual MLP"] = residual_mlp(5000)
    return graphs


def layout_table(graphs: dict[str, LayerGraph]) -> None:
    old = _old_layout()
    print("| graph | layers | new layout (s) | routing (s) | old layout (s) | new extent | "
          "old extent | edges behind a layer: new | old |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, graph in graphs.items():
        new_s, positions = _median(lambda g=graph: layered_layout(g, origin=(0.0, 0.0)))
        sizes = graph_sizes(graph)
        boxes = {n: (*positions[n], *sizes[n]) for n in graph.nodes}
        route_s, routes = _median(
            lambda g=graph, b=boxes: route_edges(g.edges, b, port_points(g, b), "TB")
        )
        hidden_new = _hidden_edges(graph, boxes, routes)
        extent = _extent(boxes)
        old_cells = ["n/a", "n/a", "n/a"]
        if old is not None:
            old_s, old_pos = _median(lambda g=graph: old.layered_layout(g))
            old_boxes = {n: (*old_pos[n], 190.0, 78.0) for n in graph.nodes}
            straight = {
                e: [
                    (old_pos[e.src][0] + 190.0, old_pos[e.src][1] + 39.0),
                    (old_pos[e.dst][0], old_pos[e.dst][1] + 39.0),
                ]
                for e in graph.edges
            }
            old_cells = [
                f"{old_s:.3f}",
                _extent(old_boxes),
                str(_hidden_edges(graph, old_boxes, straight)),
            ]
        print(
            f"| {name} | {len(graph.nodes)} | {new_s:.3f} | {route_s:.3f} | {old_cells[0]} | "
            f"{extent} | {old_cells[1]} | {hidden_new} | {old_cells[2]} |"
        )


def _extent(boxes: dict[str, Box]) -> str:
    w = max(b[0] + b[2] for b in boxes.values()) - min(b[0] for b in boxes.values())
    h = max(b[1] + b[3] for b in boxes.values()) - min(b[1] for b in boxes.values())
    return f"{w:,.0f} x {h:,.0f}"


def window_table(graph: LayerGraph) -> None:
    from PySide6.QtWidgets import QApplication

    from backend.document.project import Project
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(Project(name="big"))
    window.show()
    window.live.activate()
    app.processEvents()
    view, scene = window.view, window.scene

    def step(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        fn()
        app.processEvents()
        view.viewport().repaint()
        return time.perf_counter() - start

    load = step(lambda: window.project.graph.load_dict(graph.to_dict()))
    layout = step(lambda: scene.arrange(None, "TB"))
    fit = step(view.fit_all)
    bar = view.verticalScrollBar()
    pans = [
        step(lambda i=i: bar.setValue(bar.value() + (200 if i % 2 else -200))) for i in range(20)
    ]
    zooms = [step(lambda i=i: view.zoom_by(1.25 if i % 2 else 0.8)) for i in range(20)]
    ids = list(scene.node_items)
    picks = [step(lambda i=i: scene.select_node(ids[(i * 997) % len(ids)])) for i in range(20)]
    window.shutdown()
    rows = [
        ("load into the window (items, shapes, routes, folds)", load),
        ("lay out (one undo step) and reroute", layout),
        ("fit (readable zoom, at the inputs)", fit),
        ("pan 200 px + repaint, median (60 Hz frame = 16.7)", statistics.median(pans)),
        ("zoom step + repaint, median", statistics.median(zooms)),
        ("select a layer (expanding its fold) + repaint, median", statistics.median(picks)),
        ("select, worst", max(picks)),
    ]
    print(f"| measure ({len(graph.nodes):,}-node graph, main window offscreen) | ms |")
    print("|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds * 1e3:.1f} |")


def main() -> None:
    graphs = _graphs()
    layout_table(graphs)
    print()
    window_table(graphs["residual MLP"])


if __name__ == "__main__":
    main()
