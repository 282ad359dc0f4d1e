"""Optimizers, learning-rate schedules and losses from the training settings.

Schedules are per epoch, so their preview curve is exact and needs no Keras:
`schedule_curve(config, epochs)` gives the learning rate of every epoch (reduce-on-plateau
depends on the validation loss, so its preview is the starting rate).
"""

from __future__ import annotations

import math
from typing import Any

from backend.document.training_config import TrainingConfig
from backend.keras_env import import_keras

OPTIMIZER_CLASSES = {
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "adamax": "Adamax",
    "nadam": "Nadam",
    "ftrl": "Ftrl",
    "lion": "Lion",
}
LOGIT_LOSSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
}


def epoch_learning_rate(config: TrainingConfig, epoch: int) -> float:
    """The scheduled learning rate at the start of `epoch` (0-based)."""
    lr = float(config.learning_rate)
    p = config.schedule_params
    if config.schedule == "step":
        every = max(1, int(p.get("every_epochs", 10)))
        return lr * float(p.get("factor", 0.5)) ** (epoch // every)
    if config.schedule == "exponential":
        return lr * float(p.get("decay_rate", 0.9)) ** epoch
    if config.schedule == "cosine":
        alpha = float(p.get("alpha", 0.0))
        progress = min(1.0, epoch / max(1, config.epochs))
        return lr * (alpha + (1 - alpha) * 0.5 * (1 + math.cos(math.pi * progress)))
    return lr  # constant, or reduce_on_plateau before any plateau


def schedule_curve(config: TrainingConfig, epochs: int | None = None) -> list[float]:
    return [epoch_learning_rate(config, e) for e in range(epochs or config.epochs)]


def make_optimizer(config: TrainingConfig) -> Any:
    keras = import_keras()
    cls = getattr(keras.optimizers, OPTIMIZER_CLASSES[config.optimizer])
    kwargs: dict[str, Any] = {"learning_rate": float(config.learning_rate)}
    if config.optimizer == "sgd":
        kwargs.update(momentum=float(config.momentum), nesterov=bool(config.nesterov))
    elif config.optimizer == "rmsprop":
        kwargs.update(momentum=float(config.momentum))
    if config.weight_decay:
        kwargs["weight_decay"] = float(config.weight_decay)
    if config.clipnorm:
        kwargs["clipnorm"] = float(config.clipnorm)
    return cls(**kwargs)


def make_loss(name: str, from_logits: bool) -> Any:
    """A loss by Keras name; crossentropies take `from_logits` (scores, not probabilities)."""
    if from_logits and name in LOGIT_LOSSES:
        keras = import_keras()
        return getattr(keras.losses, LOGIT_LOSSES[name])(from_logits=True)
    return name  # Keras resolves (and serializes) its own loss names


def schedule_callbacks(config: TrainingConfig) -> list[Any]:
    """Keras callbacks that apply the schedule (none for a constant rate)."""
    keras = import_keras()
    if config.schedule == "constant":
        return []
    if config.schedule == "reduce_on_plateau":
        p = config.schedule_params
        return [
            keras.callbacks.ReduceLROnPlateau(
                monitor=str(p.get("monitor", "val_loss")),
                factor=float(p.get("factor", 0.5)),
                patience=int(p.get("patience", 3)),
                min_lr=float(p.get("min_lr", 1e-6)),
            )
        ]
    return [keras.callbacks.LearningRateScheduler(lambda e, _lr: epoch_learning_rate(config, e))]
