"""Training across devices and machines with TensorFlow's distribution strategies.

`make_trainer` returns a `Trainer` (same `run`, `request_stop` and events as the ordinary one):

* `default`: one device, Keras' `fit` (with `--device`, inside a `OneDeviceStrategy`);
* `mirrored`: `tf.distribute.MirroredStrategy` over all local GPUs (or the CPU), still `fit`;
* `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` configured by `TF_CONFIG`, with
  the app's own training step (`backend.training.multiworker`), because Keras 3's `fit` fails there
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

import os
import re
from typing import Any

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_tensorflow
from backend.training.cluster import DistributedError, parse_tf_config
from backend.training.multiworker import MultiWorkerTrainer
from backend.training.trainer import EventSink, Trainer, TrainResult

STRATEGIES: dict[str, str] = {
    "default": "one device (the first GPU, else the CPU; or --device), Keras fit",
    "mirrored": "all local GPUs (or the CPU) in sync, tf.distribute.MirroredStrategy",
    "multiworker": "several machines in sync, MultiWorkerMirroredStrategy set by TF_CONFIG",
}
CONNECT_TIMEOUT_S = 60.0
"""How long a worker waits for the whole cluster before giving up."""

_DEVICE = re.compile(r"^(cpu|gpu)(?::(\d+))?$", re.IGNORECASE)


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
