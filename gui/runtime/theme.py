"""Colours and sizes of the canvas, by layer category."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

CATEGORY_COLORS = {
    "Core": "#4C78A8",
    "Convolution": "#F58518",
    "Pooling": "#E45756",
    "Recurrent": "#72B7B2",
    "Attention": "#B279A2",
    "Normalization": "#54A24B",
    "Regularization": "#9D755D",
    "Reshaping": "#BAB0AC",
    "Merging": "#EECA3B",
    "Activations": "#FF9DA6",
    "Preprocessing": "#79706E",
    "Augmentation": "#A0CBE8",
    "Blocks": "#17BECF",
}
ERROR_COLOR = QColor("#D62728")
WARNING_COLOR = QColor("#E6A100")
SELECTED_COLOR = QColor("#2F80ED")
NODE_WIDTH = 190.0
GRID = 20.0


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#888888"))


_chosen = Qt.ColorScheme.Unknown


def choose_scheme(scheme: Qt.ColorScheme) -> None:
    """The user's choice (Unknown = follow the system). Also asks Qt to apply it to widgets;
    platforms that cannot (offscreen) still get a consistent canvas from `is_dark`."""
    global _chosen
    _chosen = scheme
    if QGuiApplication.instance() is not None:
        QGuiApplication.styleHints().setColorScheme(scheme)


def is_dark() -> bool:
    """Dark when the user chose it, or when the system scheme or palette is dark."""
    if _chosen != Qt.ColorScheme.Unknown:
        return _chosen == Qt.ColorScheme.Dark
    if QGuiApplication.instance() is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def canvas_background() -> QColor:
    return QColor("#1E1F22") if is_dark() else QColor("#F7F7F9")


def grid_color() -> QColor:
    return QColor("#2B2D31") if is_dark() else QColor("#E6E6EA")


def node_body() -> QColor:
    return QColor("#2B2D31") if is_dark() else QColor("#FFFFFF")


def text_color() -> QColor:
    return QColor("#E8E8E8") if is_dark() else QColor("#1F1F1F")


def muted_text() -> QColor:
    return QColor("#A0A0A0") if is_dark() else QColor("#666666")
