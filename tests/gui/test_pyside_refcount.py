"""PySide6 6.12.0 on Python < 3.12 drops a reference to None on every void Qt call
(`Fatal Python error: none_dealloc` after enough calls). Keep an upgrade from bringing it back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject
from PySide6.QtGui import QPen


def test_void_qt_calls_keep_none_refcount() -> None:
    obj = QObject()
    pen = QPen()
    before = sys.getrefcount(None)
    for i in range(100_000):
        obj.setObjectName("x")
        pen.setWidth(i & 7)
    after = sys.getrefcount(None)
    assert abs(after - before) < 100, f"refcount of None moved by {after - before}"
