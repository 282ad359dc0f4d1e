"""Training settings as saved in a project: plain data, no Keras."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

OPTIMIZERS = (
    "adam",
    "sgd",
    "rmsprop",
    "adamw",
    "adagrad",
    "adadelta",
    "adamax",
    "nadam",
    "ftrl",
    "lion",
)
SCHEDULES = ("constant", "step", "exponential", "cosine", "reduce_on_plateau")
# Every Keras 3 loss that takes (y_true, y_pred) of a plain model (a test checks each exists).
LOSSES = (
    "auto",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "hinge",
    "squared_hinge",
    "kl_divergence",
    "poisson",
    "cosine_similarity",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "dice",
    "tversky",
)
METRICS = (
    "accuracy",
    "auc",
    "precision",
    "recall",
    "top_k_categorical_accuracy",
    "mae",
    "mse",
)
DEVICES = ("auto", "cpu", "gpu:0", "mirrored")


@dataclass
class TrainingConfig:
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    clipnorm: float = 0.0
    schedule: str = "constant"
    schedule_params: dict[str, Any] = field(default_factory=dict)
    loss: str = "auto"
    from_logits: bool = False
    metrics: list[str] = field(default_factory=lambda: ["accuracy"])
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per output node name: {"loss": ..., "weight": ..., "metrics": [...]} (several outputs)."""
    epochs: int = 10
    batch_size: int = 32
    class_weight: str | None = None
    """None, or "balanced": weigh each class by the inverse of its frequency."""
    early_stopping: bool = False
    patience: int = 5
    checkpoint: bool = False
    """Keep the weights of the best epoch (lowest validation loss) and restore them at the end."""
    device: str = "auto"
    mixed_precision: bool = False
    jit_compile: bool = False
    histograms: bool = False
    """Per-layer weight and gradient histograms at each epoch end (off by default: costs time)."""
    tensorboard_dir: str | None = None
    seed: int = 0
    initial_weights: str | None = None
    """A `.weights.npz` to start from (an imported model's), relative to the project file."""

    def validate(self) -> None:
        self._check_types()
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}")
        if self.device not in DEVICES and not re.fullmatch(r"gpu:\d+", self.device):
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError("class weights must be none or 'balanced'")
        if not self.learning_rate > 0:
            raise ValueError(f"learning rate must be positive, got {self.learning_rate}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")

    def _check_types(self) -> None:
        """Each setting has the type of its default (a hand-edited file may say otherwise)."""
        for f in fields(self):
            value = getattr(self, f.name)
            default = TrainingConfig().__getattribute__(f.name)
            if default is None:
                ok = value is None or isinstance(value, str)
            elif isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                ok = isinstance(value, type(default)) and not (
                    isinstance(value, bool) and not isinstance(default, bool)
                )
            if not ok:
                raise ValueError(f"training setting {f.name!r} has a wrong value: {value!r}")
        if not all(isinstance(m, str) for m in self.metrics):
            raise ValueError("metrics must be names such as 'accuracy'")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        config = cls(**data)
        config.validate()
        return config
