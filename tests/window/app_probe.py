"""The real app (`gui.app.run_app`) with a probe, for the real-window check.

Run as `python -m tests.window.app_probe PROJECT PROBE_DIR` on an X server. Every 200 ms the
probe writes PROBE_DIR/state.json: where things are on the screen (palette entries, the canvas,
each node's ports, in global coordinates) and what the app holds (nodes, edges, runs), so the
driver can aim its mouse like a user and check what happened. A file PROBE_DIR/shot-NAME asks for
a screenshot of the whole X screen (the server's framebuffer, not a widget rendering), written to
PROBE_DIR/NAME.png.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def _point(widget: Any, x: float, y: float) -> list[int]:
    from PySide6.QtCore import QPoint

    p = widget.mapToGlobal(QPoint(int(x), int(y)))
    return [p.x(), p.y()]


def _state(window: Any) -> dict[str, Any]:
    view, scene, project = window.view, window.scene, window.project
    tree = window.palette.tree
    palette = {}
    for layer_type, item in window.palette.items.items():
        rect = tree.visualItemRect(item)
        if rect.isValid() and not item.isHidden():
            palette[layer_type] = _point(tree.viewport(), rect.center().x(), rect.center().y())
    viewport = view.viewport()

    def on_screen(item: Any) -> list[int]:
        p = view.mapFromScene(item.scenePos())
        return _point(viewport, p.x(), p.y())

    nodes = {
        item.node.name: {
            "type": item.node.layer_type,
            "in": [on_screen(p) for p in item.input_ports],
            "out": [on_screen(p) for p in item.output_ports],
            "visible": item.isVisible(),
        }
        for item in scene.node_items.values()
    }
    names = {nid: n.name for nid, n in project.graph.nodes.items()}
    from gui.canvas.items import DETAIL_LOD

    zoom = view.transform().m11()
    labels = {  # each edge's shape label, as drawn at this zoom ("" when hidden)
        f"{names[e.src]}->{names[e.dst]}": item.label_text if zoom >= DETAIL_LOD else ""
        for e, item in scene.edge_items.items()
    }
    return {
        "ready": bool(getattr(window, "ready", False)),
        "palette": palette,
        "canvas": [*_point(viewport, 0, 0), viewport.width(), viewport.height()],
        "nodes": nodes,
        "edges": [[names[e.src], names[e.dst]] for e in project.graph.edges],
        "edge_labels": labels,
        "zoom": zoom,
        "runs": [[r.status, r.message] for r in project.runs],
        "evaluation": window.evaluation_panel.status.text(),
        "dirty": project.dirty,
        "title": window.windowTitle(),
    }


def install(window: Any, folder: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    def tick() -> None:
        for request in folder.glob("shot-*"):
            name = request.name.removeprefix("shot-")
            partial = folder / f"{name}.partial.png"
            QGuiApplication.primaryScreen().grabWindow(0).save(str(partial))
            os.replace(partial, folder / f"{name}.png")
            request.unlink()
        state = _state(window)
        tmp = folder / "state.json.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, folder / "state.json")

    timer = QTimer(window)
    timer.setInterval(200)
    timer.timeout.connect(tick)
    timer.start()


def main() -> int:
    project, folder = sys.argv[1], Path(sys.argv[2])
    from gui import main_window
    from gui.app import run_app

    show = main_window.MainWindow.show

    def show_with_probe(self: Any) -> None:
        show(self)
        if not hasattr(self, "_probe_installed"):
            self._probe_installed = True
            install(self, folder)

    main_window.MainWindow.show = show_with_probe  # type: ignore[method-assign]
    return run_app(project_path=project)


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)
