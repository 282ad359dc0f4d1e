"""A training run on its own QThread: the workflow's `TrainingJob.run` happens inside `run`."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QThread, Signal

from backend.training.priority import lower_priority, other_threads
from backend.training.trainer import EpochEnd, TrainBegin, TrainingEvent, TrainResult
from backend.workflow.training import TrainingJob


class TrainingWorker(QThread):
    """Runs a prepared `TrainingJob`. Events cross to the GUI thread as queued signals.

    The trainer already limits batch events to one per `batch_interval_s`, so the event loop
    sees at most ~20 signals a second however fast the batches run.
    """

    training_event = Signal(object)  # a backend.training.trainer TrainingEvent (not `event`:
    # that would hide QObject.event, the handler Qt calls for every event the object gets)
    data_ready = Signal(object)  # the loaded Dataset (the GUI reads it, never trains on it)
    done = Signal(object)  # the TrainResult

    def __init__(self, job: TrainingJob, parent: Any = None) -> None:
        super().__init__(parent)
        self.job = job
        job.on_event = self._emit
        job.on_data = self.data_ready.emit
        self.result: TrainResult | None = None
        self._gui_thread = threading.get_native_id()  # made on the GUI thread

    def _yield_cpu(self) -> None:
        """Every thread but the GUI's at a lower priority (backend.training.priority): TensorFlow's
        pools and tf.data's threads, some of which start with each epoch."""
        lower_priority(other_threads(keep=self._gui_thread))

    def _emit(self, event: TrainingEvent) -> None:
        if isinstance(event, (TrainBegin, EpochEnd)):
            self._yield_cpu()
        self.training_event.emit(event)

    def run(self) -> None:
        self.result = self.job.run()  # never raises: a failure is a "failed" result
        self.done.emit(self.result)
