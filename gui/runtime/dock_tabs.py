"""A workaround for QMainWindow (Qt 6.11): tabifying docks in a second dock area leaves the
two-tab QTabBar of its first `tabifyDockWidget` call behind, visible, with the group's real
tab bar beside it. Child widgets do not paint their background, so the stray bar shows through
the panels over it ('Training | Data' across the training status, 'Start | Inspector' across
the Runs tab). QMainWindow keeps it in its own bookkeeping, so it is hidden, not deleted."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QTabBar


def hide_stale_tab_bars(window: QMainWindow) -> int:
    """Hide every dock tab bar whose docks all sit in another, larger one; how many."""
    bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window]
    bars = [bar for bar in bars if not bar.isHidden()]
    docks = {bar: {bar.tabData(i) for i in range(bar.count())} for bar in bars}
    stale = [bar for bar in bars if any(docks[bar] < docks[other] for other in bars)]
    for bar in stale:
        bar.hide()
    return len(stale)
