"""Slow work off the GUI thread, one runner for all of it: export and its verification, model
import, dataset loading.

A `Job` runs a Python function on a `QThread`; work that cannot share the process with the
GUI thread (the TFLite converter deadlocked with its garbage collector on a QThread, see
`gui/runtime/gc_guard.py`) calls `run_process` from there, which waits for a subprocess. The
result or the error comes back on the GUI thread, to the job's own callbacks, and every error
reaches the user (`on_error`, by default an error dialog). `busy_changed` and `BusyIndicator`
show that something runs and offer Cancel where it makes sense: a subprocess is killed, other
work is asked to stop (`cancelled` is set) and its result is dropped when it comes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gui.runtime.prompts import Prompts

Done = Callable[[Any], None]
POLL_S = 0.1


class JobError(Exception):
    """A job's work failed with a message for the user (a subprocess' error, say)."""


Failed = Callable[[str], None]


@dataclass
class Job:
    """`work(cancelled)` on a worker thread; `cancelled` is an Event it may check to stop early.

    Errors of the `expected` types are the user's to read as they are (they say what to do);
    any other comes as its type and first line, never as a traceback or a silent failure.
    """

    title: str
    work: Callable[[threading.Event], Any]
    on_done: Done
    on_error: Failed | None = None
    expected: tuple[type[BaseException], ...] = (ValueError, OSError, JobError)
    cancellable: bool = True


class _Thread(QThread):
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Job, lane: str, cancelled: threading.Event) -> None:
        super().__init__()
        self.job: Job | None = job
        self.lane = lane
        self.cancelled = cancelled

    def run(self) -> None:
        assert self.job is not None
        try:
            result = self.job.work(self.cancelled)
        except self.job.expected as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            self.failed.emit(f"{type(exc).__name__}: {first_line(str(exc))}")
        else:
            self.succeeded.emit(result)


class _Running:
    """A started job with its thread and cancel flag."""

    def __init__(self, job: Job, thread: _Thread, cancel: threading.Event) -> None:
        self.job, self.thread, self.cancel = job, thread, cancel


class JobRunner(QObject):
    """Runs jobs, one at a time per lane: "main" for what the user waits for (export,
    import), other lanes for work a view refreshes by itself (a data preview), where the
    newest request replaces the one still running. `busy_changed(bool)`, `started(title)`."""

    busy_changed = Signal(bool)
    started = Signal(str)

    def __init__(self, prompts: Prompts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prompts = prompts
        self.running: dict[str, _Running] = {}
        self._ended: list[_Thread] = []  # kept until their threads have ended

    @property
    def busy(self) -> bool:
        return bool(self.running)

    @property
    def job(self) -> Job | None:
        """The job the user waits for: the main lane's, else the newest other one."""
        if "main" in self.running:
            return self.running["main"].job
        return next(reversed(self.running.values())).job if self.running else None

    def busy_in(self, lane: str) -> bool:
        return lane in self.running

    def run(self, job: Job, lane: str = "main", replace: bool = False) -> bool:
        """Start `job` in `lane`. A job already running there is cancelled when `replace`,
        else the new one is refused (False, with a message)."""
        current = self.running.get(lane)
        if current is not None:
            if not replace:
                self.prompts.status(f"Wait for: {current.job.title}", 5000)
                return False
            self._drop(lane)
        cancel = threading.Event()
        thread = _Thread(job, lane, cancel)
        # Bound methods, not lambdas: a lambda held by the thread's connection is invisible to
        # the garbage collector and kept the whole window alive after it closed.
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        self.running[lane] = _Running(job, thread, cancel)
        thread.start()
        self.started.emit(job.title)
        self.busy_changed.emit(True)  # (again, when another job was shown before)
        return True

    def _succeeded(self, result: Any) -> None:
        self._finish(self.sender(), result, None)

    def _failed(self, message: str) -> None:
        self._finish(self.sender(), None, message)

    def _finish(self, thread: Any, result: Any, message: str | None) -> None:
        if not isinstance(thread, _Thread) or thread.job is None:
            return
        lane, job = thread.lane, thread.job
        thread.job = None  # its work, its callbacks and what they hold can go
        running = self.running.get(lane)
        if running is None or running.job is not job:
            return  # cancelled or replaced: its result is dropped
        self._drop(lane)
        self.busy_changed.emit(self.busy)
        if message is None:
            job.on_done(result)
        else:
            (job.on_error or (lambda text: self.prompts.show_error(job.title, text)))(message)

    def _drop(self, lane: str) -> None:
        running = self.running.pop(lane)
        running.cancel.set()
        self._ended = [t for t in self._ended if t.isRunning()]
        self._ended.append(running.thread)

    def cancel(self, lane: str | None = None) -> None:
        """Stop waiting for a job (the one `job` names when no lane is given): its work is
        asked to stop (a subprocess is killed) and its result is dropped."""
        if lane is None:
            job = self.job
            lane = next((k for k, r in self.running.items() if r.job is job), None)
        if lane is None or lane not in self.running:
            return
        job = self.running[lane].job
        if not job.cancellable:
            return
        self._drop(lane)
        self.busy_changed.emit(self.busy)
        self.prompts.status(f"Cancelled: {job.title}", 5000)

    def cancel_all(self) -> None:
        for lane in list(self.running):
            self._drop(lane)
        self.busy_changed.emit(False)

    def wait(self) -> None:
        """Block until every thread this runner started has ended (at shutdown)."""
        threads = [r.thread for r in self.running.values()] + self._ended
        for running in self.running.values():
            running.cancel.set()
        for thread in threads:
            thread.wait()


class BusyIndicator(QWidget):
    """For the status bar: a moving bar, the job's title and Cancel, hidden while idle."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busy_indicator")
        self.runner = runner
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # indeterminate
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("busy_cancel")
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        runner.busy_changed.connect(self._show)
        self.setVisible(False)

    def _cancel(self) -> None:
        self.runner.cancel()  # the job shown (clicked's `checked` is not a lane)

    def _show(self, _busy: bool) -> None:
        job = self.runner.job
        self.setVisible(job is not None)
        if job is not None:
            self.label.setText(f"{job.title}…")
            self.cancel_button.setVisible(job.cancellable)


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "no details"


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def run_process(
    module: str, args: list[str], cancelled: threading.Event, cwd: str | None = None
) -> dict[str, Any]:
    """`python -m module args...` in this interpreter, from a job's work: waits for it (killing
    it when `cancelled` is set) and returns its last stdout line as JSON. Its `{"error": ...}`
    or a crash raises `JobError` with the message."""
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds backend/ and gui/
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    while True:
        try:
            out, err = process.communicate(timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            if cancelled.is_set():
                process.kill()
                process.communicate()
                raise JobError("cancelled") from None
    try:
        result = json.loads(last_line(out)) if out.strip() else None
    except json.JSONDecodeError:
        result = None
    if isinstance(result, dict) and "error" in result:
        raise JobError(str(result["error"]))
    if process.returncode != 0 or not isinstance(result, dict):
        detail = last_line(err) or f"exit status {process.returncode}"
        raise JobError(f"the {module} process failed: {detail}")
    return result
