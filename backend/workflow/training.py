"""One training run of a project: prepared in the thread that owns the project, run in any.

`TrainingJob` holds a snapshot (graph, data choice, settings, the weights it starts from and
the run it continues), so edits made while it trains do not reach it. `run()` loads the data,
builds the model and trains in the calling thread (a QThread worker, the CLI's main thread),
and never raises: a failure is a `TrainResult` with status "failed" ("refused" when the data
could not load or does not fit the model: nothing started). Its stop, stop-after-epoch,
pause and resume handles may be called from any thread, before or while it runs. Recording
the result in the project is the owner's next step (`backend.workflow.session.Workflow`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.analysis.data_fit import first_data_error
from backend.data import Dataset, DatasetError
from backend.document.graph import LayerGraph
from backend.document.project import DatasetChoice
from backend.document.training_config import TrainingConfig
from backend.training.distributed import CONNECT_TIMEOUT_S, DistributedError, make_trainer
from backend.training.recording import RunClock
from backend.training.trainer import EventSink, Trainer, TrainingEvent, TrainResult

REFUSED = "refused"
"""A run's status when its data could not load or does not fit the model: it never started,
so it is not recorded (the project and its file stay as they were)."""


@dataclass
class TrainingJob:
    """A prepared run. Create it with `Workflow.prepare_training`; call `run()` once."""

    graph_data: dict[str, Any]
    dataset_choice: DatasetChoice
    config: TrainingConfig
    """The settings it trains with; `initial_weights` absolute (an import's weights, or the
    checkpoint of the run it continues)."""
    parent_id: str | None = None
    """The run whose checkpoint it continues from."""
    strategy: str = "default"
    device: str | None = None
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    on_event: EventSink | None = None
    """Receives every training event, in the training thread."""
    on_data: Callable[[Dataset], None] | None = None
    """Called with the loaded data before training starts (in the training thread)."""
    decision_boundary: bool = False
    """On 2-D data, each EpochEnd carries the model's decision grid (`EpochEnd.extra`)."""
    dataset: Dataset | None = None
    """The loaded data (set by `run`, or given to skip loading)."""
    clock: RunClock | None = None
    result: TrainResult | None = None
    trainer: Trainer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: bool = False
    _stop_after_epoch: bool = False
    _paused: bool = False

    # ----------------------------------------------------------------- any thread
    def request_stop(self) -> None:
        """Stop within one batch; before the run starts, it ends at once as stopped."""
        with self._lock:
            self._stop = True
            if self.trainer is not None:
                self.trainer.request_stop()

    def request_stop_after_epoch(self) -> None:
        with self._lock:
            self._stop_after_epoch = True
            if self.trainer is not None:
                self.trainer.request_stop_after_epoch()

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self.trainer is not None:
                self.trainer.resume()

    @property
    def stop_requested(self) -> bool:
        return self._stop

    # ----------------------------------------------------------------- the training thread
    def run(self) -> TrainResult:
        """Load the data, build the model and train, all in the calling thread."""
        self.clock = RunClock.start()
        try:
            self.result = self._run()
        except BaseException as exc:  # never let an error escape the thread silently
            self.result = TrainResult("failed", f"{type(exc).__name__}: {exc}")
        return self.result

    def _run(self) -> TrainResult:
        if self._stop:
            return TrainResult("stopped", "stopped before it started")
        if self.dataset is None:
            try:
                self.dataset = self.dataset_choice.load()
            except (DatasetError, ValueError, OSError) as exc:
                return TrainResult(REFUSED, f"could not load the data: {exc}")
        dataset = self.dataset
        if self.on_data is not None:
            self.on_data(dataset)
        refusal = first_data_error(self.graph_data, dataset, self.config)
        if refusal is not None:  # it would "train" to meaningless numbers: say why instead
            return TrainResult(REFUSED, refusal.message, node_id=refusal.node_id)
        try:
            trainer = make_trainer(
                LayerGraph.from_dict(self.graph_data),
                dataset,
                self.config,
                self._emit,
                self.strategy,
                self.device,
                self.connect_timeout_s,
            )
        except DistributedError as exc:
            return TrainResult("failed", str(exc))
        trainer.continues_run = self.parent_id is not None  # its checkpoint must fit whole
        if self.decision_boundary:
            _attach_decision_boundary(trainer, dataset)
        with self._lock:
            self.trainer = trainer
            if self._stop:
                trainer.request_stop()
            if self._stop_after_epoch:
                trainer.request_stop_after_epoch()
            if self._paused:
                trainer.pause()
        return trainer.run()

    def _emit(self, event: TrainingEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)


def _attach_decision_boundary(trainer: Trainer, dataset: Dataset) -> None:
    from backend.evaluation.insight import decision_grid, supports_decision_grid

    if supports_decision_grid(dataset):
        trainer.epoch_hook = lambda model, _epoch: decision_grid(model, dataset)


def strategy_for(config: TrainingConfig) -> tuple[str, str | None]:
    """(strategy, device) of a run from its settings' device choice (the app's rule)."""
    if config.device == "mirrored":
        return "mirrored", None
    return "default", None if config.device == "auto" else config.device
