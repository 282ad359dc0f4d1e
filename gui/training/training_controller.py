"""Train, stop, pause, stop after the epoch: one training run at a time, off the GUI thread.

The workflow (`backend.workflow.session.Workflow`) checks the project and prepares the run
(`prepare_training`: an unconnected layer or missing data is refused there, naming the layer);
this controller adds what needs the user (consent to a run that may not fit in memory), runs
the job on a `TrainingWorker`, and hands the result back to the workflow, which records the run
and makes its weights the current ones. It never touches a widget: the window connects its
signals to the panels.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from backend.document.runs import RunRecord
from backend.training.trainer import TrainResult
from backend.workflow.session import Workflow, WorkflowError
from gui.runtime.prompts import Prompts
from gui.training.training_worker import TrainingWorker


class TrainingController(QObject):
    started = Signal()
    training_event = Signal(object)  # a backend.training.trainer TrainingEvent (not `event`:
    # that would hide QObject.event, the handler Qt calls for every event the object gets)
    data_ready = Signal(object)  # the run's Dataset (for drawing, never for training)
    finished = Signal(object)  # the TrainResult, after the run was recorded
    refused = Signal(str, object)  # why a run did not start, and the node to show (or None)
    status = Signal(str)  # "Stopping…" and the like

    def __init__(
        self,
        workflow: Workflow,
        prompts: Prompts,
        is_ready: Callable[[], bool],
        memory_warning: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.prompts = prompts
        self.is_ready = is_ready
        self.memory_warning = memory_warning
        self.worker: TrainingWorker | None = None
        self.last_result: TrainResult | None = None
        self.last_run: RunRecord | None = None

    @property
    def is_training(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def start(self, continue_from: str | None = None) -> bool:
        """Train the project as it is now (from run `continue_from`'s checkpoint when given)."""
        if self.is_training:
            self.refused.emit("A training run is already going.", None)
            return False
        if not self.is_ready():
            self.refused.emit("TensorFlow is still loading; Train in a moment.", None)
            return False
        try:
            job = self.workflow.prepare_training(
                continue_from=continue_from, decision_boundary=True
            )
        except WorkflowError as exc:
            self.refused.emit(_sentence(str(exc)), exc.node_id)
            return False
        memory = self.memory_warning()
        if memory and not self.prompts.confirm("Not enough memory", f"{memory}\n\nTrain anyway?"):
            self.refused.emit(f"Not started: {memory}", None)
            return False
        worker = TrainingWorker(job, self)
        worker.training_event.connect(self.training_event)
        worker.data_ready.connect(self.data_ready)
        worker.done.connect(self._on_done)
        self.worker = worker
        self.started.emit()
        worker.start()
        return True

    # ----------------------------------------------------------------- while it runs
    def stop(self) -> None:
        if self.worker is not None:
            self.worker.job.request_stop()
            self.status.emit("Stopping…")

    def stop_after_epoch(self) -> None:
        if self.worker is not None:
            self.worker.job.request_stop_after_epoch()
            self.status.emit("Stopping after this epoch…")

    def pause(self, paused: bool) -> None:
        if self.worker is not None:
            job = self.worker.job
            (job.pause if paused else job.resume)()

    def stop_and_wait(self) -> None:
        """Stop a run and wait for its thread (each stops within a batch); it is recorded."""
        worker = self.worker
        if worker is not None:
            worker.job.request_stop()
            worker.wait()
            self._on_done(worker.result or TrainResult("stopped", "stopped"))

    # ----------------------------------------------------------------- the end
    def _on_done(self, result: TrainResult) -> None:
        worker = self.worker
        if worker is None:
            return  # recorded already (stop_and_wait), this is the late signal
        worker.wait()
        self.worker = None
        self.last_result = result
        self.last_run = self.workflow.finish_training(worker.job, result)  # None: refused
        self.finished.emit(result)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
