"""Training memory against the device: will this model train at this batch size here?

The estimate adds what training keeps alive at once: the weights, one gradient per trainable
weight, the optimizer's state (Adam keeps two moments per weight, SGD with momentum one), and
every layer's activations for a whole batch (kept for backpropagation). It is compared with
the memory TensorFlow may use on the first GPU, or with the machine's free RAM on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.analysis.summary import Analysis, Totals, format_bytes
from backend.document.project import Project
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.device_memory import (
    DeviceMemory,
    gpu_limits,
    gpu_memory,
    gpu_name,
    ram_memory,
)
from backend.keras_bridge.shapes import NodeShape

__all__ = ["DeviceMemory", "gpu_limits", "gpu_memory", "gpu_name", "ram_memory"]
"""Re-exported: the device readings live in `backend.keras_bridge.device_memory`, below the
compiler that refuses weights too big for them."""

OPTIMIZER_SLOTS = {
    "adam": 2,
    "adamw": 2,
    "nadam": 2,
    "adamax": 2,
    "adadelta": 2,
    "ftrl": 2,
    "rmsprop": 1,
    "adagrad": 1,
    "lion": 1,
    "sgd": 0,
}
"""Tensors of state an optimizer keeps per trainable weight (a test checks them against Keras);
SGD and RMSprop keep one more with momentum."""


@dataclass(frozen=True)
class TrainingMemory:
    batch_size: int
    """Samples per device: the batch, split across replicas when mirrored."""
    weights: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    def describe(self) -> str:
        parts = (
            f"weights {format_bytes(self.weights)}",
            f"gradients {format_bytes(self.gradients)}",
            f"optimizer {format_bytes(self.optimizer)}",
            f"activations {format_bytes(self.activations)}",
        )
        return f"{format_bytes(self.total)} at batch {self.batch_size} ({', '.join(parts)})"


def optimizer_slots(config: TrainingConfig) -> int:
    slots = OPTIMIZER_SLOTS.get(config.optimizer, 2)
    if config.optimizer in ("sgd", "rmsprop") and config.momentum > 0:
        slots += 1
    return slots


def training_memory(totals: Totals, config: TrainingConfig, replicas: int = 1) -> TrainingMemory:
    """What one device holds: all the weights and state, and its share of the batch.

    Mixed precision computes (and keeps) activations in 16 bits, weights stay in 32.
    """
    batch = -(-max(1, int(config.batch_size)) // max(1, replicas))
    activations = totals.activation_bytes * batch
    if config.mixed_precision:
        activations //= 2
    return TrainingMemory(
        batch_size=batch,
        weights=totals.weight_bytes,
        gradients=totals.trainable_bytes,
        optimizer=optimizer_slots(config) * totals.trainable_bytes,
        activations=activations,
    )


def device_memory(device: str = "auto") -> DeviceMemory | None:
    """The memory training will use on the chosen device (`TrainingConfig.device`).

    'auto': the first GPU TensorFlow sees, else RAM; 'cpu': RAM; 'gpu:N': that GPU;
    'mirrored': each GPU holds a replica and a share of the batch.
    """
    if device == "cpu":
        return ram_memory()
    if device == "mirrored":
        count = len(gpu_limits())
        return gpu_memory(0, max(1, count)) or ram_memory()
    index = int(device.split(":")[1]) if device.startswith("gpu:") else 0
    return gpu_memory(index) or ram_memory()


def memory_warning(estimate: TrainingMemory, device: DeviceMemory | None) -> str | None:
    """A warning when the estimate exceeds what the device has free; None when it fits."""
    if device is None or estimate.total <= device.available:
        return None
    where = f"the {format_bytes(device.available)} free"
    if device.kind == "GPU":
        each = " each" if device.replicas > 1 else ""
        where += f" on {device.name}{each}"
    else:
        where += f" of {format_bytes(device.total)} RAM"
    return (
        f"Training needs about {estimate.describe()}, more than {where}. "
        "Lower the batch size, or make the model smaller."
    )


def training_memory_check(
    project: Project, totals: Totals
) -> tuple[TrainingMemory, DeviceMemory | None, str | None]:
    """(estimate per device, the device, a warning or None) for the project's settings."""
    device = device_memory(project.training.device)
    estimate = training_memory(totals, project.training, device.replicas if device else 1)
    return estimate, device, memory_warning(estimate, device)


def training_memory_warning(
    project: Project, shapes: dict[str, NodeShape], analysis: Analysis | None = None
) -> str | None:
    """Call before Train: a warning when the model will not fit in memory, else None.

    Pass the GUI's `Analysis` to reuse its per-node cache.
    """
    summary = (analysis or Analysis()).summarize(project.graph, shapes)
    return training_memory_check(project, summary.totals)[2]
