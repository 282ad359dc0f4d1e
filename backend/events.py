"""A tiny, Qt-free observer: the graph and project models announce, views mirror."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., Any]


class Signal:
    """A list of listeners called in order with the emitted arguments.

    Listeners are held strongly; a view disconnects when it is torn down.
    A listener that raises does not stop the others: the first error is re-raised after all ran.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener] = []
        self._blocked = 0

    def connect(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        first_error: BaseException | None = None
        for listener in list(self._listeners):
            try:
                listener(*args)
            except Exception as exc:  # keep notifying; report the first failure
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise first_error

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, listeners={len(self._listeners)})"
