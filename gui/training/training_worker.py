"""A training run on its own QThread: all Keras work happens inside `run`."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QThread, Signal

from backend.data import DatasetError, load_dataset
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice
from backend.document.training_config import TrainingConfig
from backend.evaluation.insight import decision_grid, supports_decision_grid
from backend.training.distributed import DistributedError, make_trainer
from backend.training.priority import lower_priority, other_threads
from backend.training.trainer import EpochEnd, TrainBegin, Trainer, TrainingEvent, TrainResult


class TrainingWorker(QThread):
    """Trains a snapshot of the graph. Events cross to the GUI thread as queued signals.

    The trainer already limits batch events to one per `batch_interval_s`, so the event loop
    sees at most ~20 signals a second however fast the batches run.
    """

    event = Signal(object)  # a backend.training.trainer TrainingEvent
    data_ready = Signal(object)  # the loaded Dataset (the GUI reads it, never trains on it)
    done = Signal(object)  # the TrainResult

    def __init__(
        self,
        graph_data: dict[str, Any],
        dataset: DatasetChoice,
        config: TrainingConfig,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.graph_data = graph_data
        self.dataset_choice = dataset
        self.config = config
        self.trainer: Trainer | None = None
        self.result: TrainResult | None = None
        self._stop = threading.Event()
        self._gui_thread = threading.get_native_id()  # made on the GUI thread

    def _yield_cpu(self) -> None:
        """Every thread but the GUI's at a lower priority (backend.training.priority): TensorFlow's
        pools and tf.data's threads, some of which start with each epoch."""
        lower_priority(other_threads(keep=self._gui_thread))

    def _emit(self, event: TrainingEvent) -> None:
        if isinstance(event, (TrainBegin, EpochEnd)):
            self._yield_cpu()
        self.event.emit(event)

    def request_stop(self) -> None:
        self._stop.set()
        if self.trainer is not None:
            self.trainer.request_stop()

    def request_stop_after_epoch(self) -> None:
        if self.trainer is not None:
            self.trainer.request_stop_after_epoch()

    def pause(self) -> None:
        if self.trainer is not None:
            self.trainer.pause()

    def resume(self) -> None:
        if self.trainer is not None:
            self.trainer.resume()

    def run(self) -> None:
        try:
            graph = LayerGraph.from_dict(self.graph_data)
            choice = self.dataset_choice
            dataset = load_dataset(
                choice.name, choice.params, choice.val_fraction, choice.test_fraction, choice.seed
            )
        except (DatasetError, ValueError, OSError) as exc:
            self.result = TrainResult("failed", f"could not load the data: {exc}")
            self.done.emit(self.result)
            return
        try:
            self.trainer = make_trainer(
                graph,
                dataset,
                self.config,
                self._emit,
                strategy="mirrored" if self.config.device == "mirrored" else "default",
                device=None if self.config.device in ("auto", "mirrored") else self.config.device,
            )
        except DistributedError as exc:
            self.result = TrainResult("failed", str(exc))
            self.done.emit(self.result)
            return
        self.data_ready.emit(dataset)
        if supports_decision_grid(dataset):  # 2-D data: the boundary, live, each epoch
            self.trainer.epoch_hook = lambda model, _epoch: decision_grid(model, dataset)
        if self._stop.is_set():
            self.trainer.request_stop()
        try:
            self.result = self.trainer.run()
        except BaseException as exc:  # never let an error escape the thread silently
            self.result = TrainResult("failed", f"{type(exc).__name__}: {exc}")
        self.done.emit(self.result)
