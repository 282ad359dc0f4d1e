"""The mouse wheel over a column list in the Data panel scrolls the list while it can move,
then the settings pane around it (a short list, with nothing to scroll, at once), as a web
page's form does. Qt 6.11 does this itself for a mouse wheel (checked in a real window with
xdotool, 2026-12-05); this guards it against an event filter or a view that keeps the wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QListWidget, QScrollArea

from backend.editing.commands import UndoStack
from backend.templates.examples import moons_mlp
from gui.data.data_panel import DataPanel


def wheel_up(qtbot: Any, area: QScrollArea, widget: Any) -> None:
    """One notch of the wheel up over `widget` (scrolled into view), through
    the window system, as a mouse delivers it."""
    area.ensureWidgetVisible(widget)
    window = widget.window()
    viewport = widget.viewport()
    qtbot.waitUntil(lambda: window.childAt(viewport.mapTo(window, QPoint(5, 5))) is viewport)
    QTest.wheelEvent(
        window.windowHandle(), QPointF(viewport.mapTo(window, QPoint(5, 5))), QPoint(0, 120)
    )


def column_list(panel: DataPanel, path: Path, text: str) -> QListWidget:
    path.write_text(text)
    assert panel.set_param("path", str(path)), panel.error
    targets = panel.editors["target"]
    assert isinstance(targets, QListWidget)
    return targets


def test_the_wheel_over_a_column_list_scrolls_it_then_the_settings_pane(
    qtbot: Any, tmp_path: Path
) -> None:
    project = moons_mlp()
    panel = DataPanel(project, UndoStack(project.graph))
    qtbot.addWidget(panel)
    panel.resize(700, 260)  # a low dock: the settings pane scrolls
    panel.show()
    panel.choose_source("csv")
    rows = "".join(f"{i},{i % 7},{'ab'[i % 2]}\n" for i in range(30))
    short = column_list(panel, tmp_path / "t.csv", "x,z,kind\n" + rows)
    area = panel.findChild(QScrollArea)
    pane = area.verticalScrollBar()
    assert short.verticalScrollBar().maximum() == 0 and pane.maximum() > 0
    pane.setValue(pane.maximum())
    wheel_up(qtbot, area, short)
    assert pane.value() < pane.maximum()  # the short list had nothing to scroll

    header = ",".join(f"c{i}" for i in range(12)) + "\n"
    rows = "".join(",".join(str((i + j) % 5) for j in range(12)) + "\n" for i in range(9))
    long = column_list(panel, tmp_path / "wide.csv", header + rows)  # 12 columns: it scrolls
    own = long.verticalScrollBar()
    qtbot.waitUntil(lambda: own.maximum() > 0)
    own.setValue(own.maximum())
    pane.setValue(pane.maximum())
    wheel_up(qtbot, area, long)
    assert own.value() < own.maximum()  # the list first
    start = pane.value()
    own.setValue(0)  # at its top: the next notch up goes to the pane
    wheel_up(qtbot, area, long)
    assert pane.value() < start
