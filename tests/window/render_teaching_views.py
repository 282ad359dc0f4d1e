"""README screenshots of the teaching views, rendered by the app's own widgets after real
training (`make screenshots`):

- `single_neuron.png`: the "A single neuron" template trained, its Decision boundary tab: the
  line w·x + b = 0, the 0.5 contour, the weight vector, the bias and the signed weights;
- `attention.png`: the "Transformer: token order" template trained, the Insight panel's
  Attention tab for a test sequence (the mean of the heads, then head 1 and head 2 beside).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _settle(app: Any, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _trained(template: str) -> tuple[Any, Any]:
    from backend.templates.gallery import load_template
    from backend.training.trainer import Trainer

    project = load_template(template)
    data = project.load_data()
    result = Trainer(project.graph, data, project.training).run()
    if result.status != "completed":
        raise SystemExit(f"{template}: {result.message}")
    return result.model, data


def single_neuron(app: Any, out: Path) -> Path:
    from backend.evaluation.insight import decision_grid
    from gui.evaluation.decision_boundary import DecisionBoundaryView

    model, data = _trained("perceptron")
    view = DecisionBoundaryView()
    view.resize(900, 620)
    view.show()
    view.show_grid(decision_grid(model, data), data.x_train, data.y_train)
    _settle(app)
    path = out / "single_neuron.png"
    view.grab().save(str(path))
    view.close()
    return path


def attention(app: Any, out: Path) -> Path:
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from gui.evaluation.insight_panel import InsightPanel

    model, data = _trained("transformer_classifier")
    sheet = QWidget()
    row = QHBoxLayout(sheet)
    panels = []
    for choice in range(3):  # the mean of the heads, head 1, head 2
        panel = InsightPanel()
        panel.show_sample(model, data.x_test, 3, "", classifier=True)
        while panel.busy or panel.insight is None:
            _settle(app, 0.05)
        panel.tabs.setCurrentWidget(panel.attention)
        panel.attention.choice.setCurrentIndex(choice)
        row.addWidget(panel)
        panels.append(panel)
    sheet.resize(1500, 560)
    sheet.show()
    _settle(app, 0.5)
    path = out / "attention.png"
    sheet.grab().save(str(path))
    for panel in panels:
        panel.shutdown()
    sheet.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("resources/screenshots"))
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from backend.keras_env import import_keras

    import_keras()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (single_neuron(app, args.out), attention(app, args.out)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
