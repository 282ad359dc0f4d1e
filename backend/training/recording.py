"""Recording a finished training run in its project: the record and the run's checkpoint.

The record itself (`RunRecord`) belongs to the project document (`backend.document.runs`); this
module adds what needs Keras and the training stack: the checkpoint written from the trained
model, the device in words, the library versions.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.document.runs import RunRecord, graph_fingerprint, runs_dir
from backend.keras_bridge.weights import SUFFIX, WeightsError, collect_weights, save_weights

if TYPE_CHECKING:
    from backend.document.project import DatasetChoice, Project
    from backend.document.training_config import TrainingConfig
    from backend.training.trainer import TrainResult


def save_checkpoint(model: Any, run_id: str, project_path: str | Path | None) -> str:
    """Write the model's weights for run `run_id`; returns the path to store in the record."""
    folder = runs_dir(project_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(f"{folder}: cannot be created ({exc.strerror or exc})") from exc
    path = save_weights(collect_weights(model), folder / f"{run_id}{SUFFIX}")
    if project_path is None:
        return str(path)
    return path.relative_to(Path(project_path).parent).as_posix()


@dataclass(frozen=True)
class RunClock:
    """When a run started (wall clock, for the record) and a monotonic origin for its length."""

    started_at: str
    origin: float

    @classmethod
    def start(cls) -> RunClock:
        return cls(datetime.now().astimezone().isoformat(timespec="seconds"), time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.origin


def new_run_id() -> str:
    """Sortable by start time, unique: `20250131-142503-3f9a1c`."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def run_device(config: TrainingConfig) -> str:
    """The device a run with these settings trains on, in words (`GPU 0: NVIDIA H100`)."""
    from backend.training.devices import list_devices

    gpus = [d["name"] for d in list_devices() if d["type"] == "GPU"]
    choice = str(getattr(config, "device", "auto"))
    if choice == "cpu":
        return "CPU"
    if not gpus:
        return "CPU (no GPU visible)"
    if choice == "mirrored":
        return f"{len(gpus)} GPU mirrored: {', '.join(gpus)}"
    index = int(choice[4:] or 0) if re.fullmatch(r"gpu:\d*", choice) else 0
    return f"GPU {index}: {gpus[index]}" if index < len(gpus) else choice


def final_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    return {key: float(values[-1]) for key, values in history.items() if values}


def record_run(
    project: Project,
    result: TrainResult,
    clock: RunClock,
    *,
    graph_data: dict[str, Any],
    dataset: DatasetChoice,
    config: TrainingConfig,
    device: str | None = None,
    parent_id: str | None = None,
) -> RunRecord:
    """Record a finished run in `project` (marking it changed) and save its checkpoint.

    `graph_data` is the snapshot that was trained, `dataset` and `config` the settings it used.
    The checkpoint is the model's weights as the trainer left them: the best epoch's when
    `config.checkpoint` is on, else the last. A run that failed keeps none (its weights may be
    NaN); one that could not be written is noted in the message instead of failing the record.
    """
    from backend.keras_env import versions

    run_id = new_run_id()
    message = result.message
    checkpoint = None
    if result.model is not None and result.status != "failed":
        try:
            checkpoint = save_checkpoint(result.model, run_id, project.path)
        except WeightsError as exc:
            message = f"{message} (its weights could not be saved: {exc})"
    history = {key: [float(v) for v in values] for key, values in result.history.items()}
    record = RunRecord(
        id=run_id,
        started_at=clock.started_at,
        wall_time_s=round(clock.elapsed(), 3),
        status=result.status,
        message=message,
        training=config.to_dict(),
        dataset=asdict(dataset),
        fingerprint=graph_fingerprint(graph_data),
        graph=json.loads(json.dumps(graph_data)),  # a deep, JSON-only copy
        history=history,
        metrics=final_metrics(history),
        device=device if device is not None else run_device(config),
        seed=int(config.seed),
        versions=versions(),
        checkpoint=checkpoint,
        best_epoch=result.best_epoch,
        parent_id=parent_id,
        execution=dict(result.execution),
    )
    project.add_run(record)
    return record
