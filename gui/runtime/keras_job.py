"""One piece of Keras work (evaluating, probing a sample) on its own QThread.

The result crosses to the GUI thread through a queued signal; every error comes back as a
message, never as a traceback or a silent failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal


class KerasJob(QThread):
    """Runs `work()` once; emits `succeeded(result)` or `failed(message)`."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        work: Callable[[], Any],
        expected: tuple[type[BaseException], ...] = (ValueError,),
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.work = work
        self.expected = expected

    def run(self) -> None:
        try:
            result = self.work()
        except self.expected as exc:  # our own errors already say what to do
            self.failed.emit(str(exc))
        except Exception as exc:
            self.failed.emit(f"{type(exc).__name__}: {_first_line(exc)}")
        else:
            self.succeeded.emit(result)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "no details"
