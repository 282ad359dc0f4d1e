"""Training across devices and machines with TensorFlow's distribution strategies.

`make_trainer` returns a `Trainer` (same `run`, `request_stop` and events as the ordinary one):

* `default`: one device, Keras' `fit` (with `--device`, inside a `OneDeviceStrategy`);
* `mirrored`: `tf.distribute.MirroredStrategy` over all local GPUs (or the CPU), still `fit`;
* `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` configured by `TF_CONFIG`, with
  the app's own training step (`backend.multiworker`), because Keras 3's `fit` fails there
  (keras-team/keras#20585: "Attempt to convert a value (PerReplica...)").

Batch size and learning rate: the project's batch size is the GLOBAL batch, split evenly over
all replicas (devices x workers); the loss of a step is averaged over the global batch, so a
step's gradient is the one a single device would compute on that batch, and the learning rate
means the same as on one device. To keep each replica's batch when adding devices, multiply the
batch size by the replica count yourself (and the learning rate too, if you follow the linear
scaling rule).

Strategies and device scopes belong to the thread that creates them: everything here is set up
inside `run`, on the thread that trains.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from backend.datasets import Dataset
from backend.graph import LayerGraph
from backend.keras_env import import_tensorflow
from backend.trainer import EventSink, Trainer, TrainResult
from backend.training_config import TrainingConfig

STRATEGIES: dict[str, str] = {
    "default": "one device (the first GPU, else the CPU; or --device), Keras fit",
    "mirrored": "all local GPUs (or the CPU) in sync, tf.distribute.MirroredStrategy",
    "multiworker": "several machines in sync, MultiWorkerMirroredStrategy set by TF_CONFIG",
}
CONNECT_TIMEOUT_S = 60.0
"""How long a worker waits for the whole cluster before giving up."""

_DEVICE = re.compile(r"^(cpu|gpu)(?::(\d+))?$", re.IGNORECASE)


class DistributedError(ValueError):
    """A device, strategy or cluster setting that cannot work, saying what to fix."""


@dataclass(frozen=True)
class ClusterConfig:
    """The parts of `TF_CONFIG` a worker needs: every worker's address, and which one it is."""

    workers: tuple[str, ...]
    task_type: str
    task_index: int
    chiefs: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return (self.chiefs if self.task_type == "chief" else self.workers)[self.task_index]

    @property
    def size(self) -> int:
        return len(self.workers) + len(self.chiefs)

    @property
    def is_chief(self) -> bool:
        """The task that writes files: the chief, else worker 0."""
        return self.task_type == "chief" or (not self.chiefs and self.task_index == 0)


def parse_tf_config(text: str | None) -> ClusterConfig:
    """Check `TF_CONFIG` (JSON: a `cluster` of host:port lists, and this process's `task`)."""
    if not text:
        raise DistributedError(
            "TF_CONFIG is not set: multiworker needs it on every machine, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\''
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DistributedError(
            f"TF_CONFIG is not valid JSON (column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cluster"), dict):
        raise DistributedError('TF_CONFIG needs a "cluster" object, e.g. {"worker": [...]}')
    cluster, task = data["cluster"], data.get("task")
    unknown = set(cluster) - {"worker", "chief"}
    if unknown:
        raise DistributedError(
            f"TF_CONFIG cluster has {', '.join(sorted(unknown))}: multiworker training uses "
            '"worker" (and at most one "chief") only'
        )
    workers = _addresses(cluster, "worker")
    chiefs = _addresses(cluster, "chief")
    if not workers or len(chiefs) > 1:
        raise DistributedError('TF_CONFIG cluster needs a "worker" list and at most one "chief"')
    if not isinstance(task, dict) or task.get("type") not in ("worker", "chief"):
        raise DistributedError('TF_CONFIG needs "task": {"type": "worker", "index": N}')
    index = task.get("index", 0)
    members = workers if task["type"] == "worker" else chiefs
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(members):
        raise DistributedError(
            f"TF_CONFIG task index {index!r} is not one of the {len(members)} "
            f"{task['type']} addresses (0 to {len(members) - 1})"
        )
    return ClusterConfig(workers, task["type"], index, chiefs)


def _addresses(cluster: dict[str, Any], job: str) -> tuple[str, ...]:
    entries = cluster.get(job, [])
    if not isinstance(entries, list):
        raise DistributedError(f'TF_CONFIG cluster "{job}" must be a list of "host:port"')
    for entry in entries:
        host, _, port = str(entry).rpartition(":")
        if not isinstance(entry, str) or not host or not port.isdigit() or int(port) > 65535:
            raise DistributedError(
                f'TF_CONFIG cluster "{job}" address {entry!r} is not "host:port"'
            )
    return tuple(entries)


def parse_devices(text: str | None) -> list[str]:
    """`cpu`, `gpu:0`, `gpu:0,gpu:1` -> TensorFlow device names; checked without TensorFlow."""
    if not text:
        return []
    devices = []
    for part in text.split(","):
        match = _DEVICE.match(part.strip())
        if not match:
            raise DistributedError(
                f"device {part.strip()!r} is not cpu, gpu or gpu:N (for example gpu:0)"
            )
        devices.append(f"/{match.group(1).upper()}:{match.group(2) or 0}")
    return devices


def check_devices(devices: list[str]) -> None:
    """Refuse devices TensorFlow does not see, listing those it does."""
    tf = import_tensorflow()
    seen = {d.name.split("device:")[-1].upper() for d in tf.config.list_logical_devices()}
    missing = [d for d in devices if d.lstrip("/").upper() not in seen]
    if missing:
        have = ", ".join(sorted(seen)) or "none"
        raise DistributedError(
            f"TensorFlow sees no {', '.join(d.lstrip('/') for d in missing)} (it sees {have})"
        )


def make_trainer(
    graph: LayerGraph,
    dataset: Dataset,
    config: TrainingConfig,
    on_event: EventSink | None = None,
    strategy: str = "default",
    device: str | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> Trainer:
    """A trainer for `strategy`; settings are checked here, TensorFlow is set up in `run`."""
    if strategy not in STRATEGIES:
        raise DistributedError(f"unknown strategy {strategy!r}; choose {', '.join(STRATEGIES)}")
    devices = parse_devices(device)
    if strategy == "multiworker":
        if devices:
            raise DistributedError(
                "multiworker uses each machine's GPUs (or its CPU): leave --device out"
            )
        from backend.multiworker import MultiWorkerTrainer

        cluster = parse_tf_config(os.environ.get("TF_CONFIG"))
        return MultiWorkerTrainer(graph, dataset, config, on_event, cluster, connect_timeout_s)
    if strategy == "default" and len(devices) > 1:
        raise DistributedError("the default strategy trains on one device: use --strategy mirrored")
    if strategy == "default" and not devices:
        return Trainer(graph, dataset, config, on_event)
    return StrategyTrainer(graph, dataset, config, on_event, strategy, devices)


class StrategyTrainer(Trainer):
    """The ordinary `fit` trainer, with the model built and fitted inside a strategy's scope."""

    def __init__(
        self,
        graph: LayerGraph,
        dataset: Dataset,
        config: TrainingConfig,
        on_event: EventSink | None,
        strategy: str,
        devices: list[str],
    ) -> None:
        super().__init__(graph, dataset, config, on_event)
        self.strategy_name = strategy
        self.devices = devices
        self.replicas = 0

    def make_strategy(self) -> Any:
        tf = import_tensorflow()
        check_devices(self.devices)
        if self.strategy_name == "mirrored":
            return tf.distribute.MirroredStrategy(devices=self.devices or None)
        return tf.distribute.OneDeviceStrategy(self.devices[0])

    def _probe(self, model: Any, arguments: dict[str, Any]) -> Any:
        """No per-epoch diagnostics probe: its eager gradient tape reads mirrored variables
        outside a replica context, which TensorFlow refuses."""
        return None

    def run(self, model: Any = None) -> TrainResult:
        try:
            strategy = self.make_strategy()
        except (DistributedError, ValueError, RuntimeError) as exc:
            return self._finish("failed", str(exc), {}, None)
        self.replicas = int(strategy.num_replicas_in_sync)
        with strategy.scope():
            return super().run(model)
