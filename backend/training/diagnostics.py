"""Alerts a teacher would give while a network trains, each with its evidence and what to try.

History rules read the per-epoch logs against the *starting loss* (measured before the first
step, on the probe batch or the first batch), so a rule means the same on a loss of 2.3 and
one of 1e-4:

- divergence: the training loss is above `DIVERGE_FACTOR` times where it started;
- unstable: it jumped up by more than `JUMP_OF_START` of the starting loss, twice in a few
  epochs, and the validation loss jumped too (steps overshoot and make the weights worse; a
  training loss that jumps alone is noise in how it is measured, as under Dropout);
- overfitting: validation loss stayed above its best by `OVERFIT_RISE` (and by
  `OVERFIT_RISE_OF_START` of the starting loss) for `OVERFIT_PATIENCE` epochs while the
  training loss kept falling steadily, which tells it apart from oscillation;
- too slow: the loss falls every epoch, but by under `SLOW_RATE` of itself per epoch and is
  still near where it started;
- plateau: the loss has not moved for `PLATEAU_EPOCHS` epochs, far from converged;
- not generalising: for `NOGEN_EPOCHS` epochs or more the validation loss stayed within
  `NOGEN_BAND` of the starting loss (chance, for a fresh classifier) while the training loss
  fell to `NOGEN_TRAIN_SHARE` of it: nothing learnt carries over to new samples. A
  validation loss that rises away from its best is overfitting instead (one diagnosis, one
  alert). When the model has BatchNormalization whose moving statistics still hold more than
  `BN_UNSETTLED` of their initial values after the steps run so far (`momentum ** steps`),
  the advice says so: validation runs in inference mode, on those statistics.

A model with several output heads (side-by-side networks, each with its own loss) is judged
head by head on Keras' `<head>_loss` and `val_<head>_loss` against the head's own starting
loss, and each alert names its head: the total of unlike heads says nothing about any of them.

Probe rules read `ProbeStats`, measured before training and once per epoch on a small fixed
batch (one forward and backward pass, so the training loop itself is untouched). Gradients are
judged against the layer's own weights: `|g| / |w|` is the relative change one unit of
learning rate makes. They explode above `EXPLODING_RATIO`; they vanish when a layer's ratio is
below `VANISHING_GAP` of the best-fed layer's (and below `VANISHING_RATIO`), the sign of
gradients shrinking on their way back. Dead ReLU units output zero for every probe sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

DIVERGE_FACTOR = 2.0
JUMP_OF_START = 0.1
JUMPS_FOR_UNSTABLE = 2
JUMP_WINDOW = 5
OVERFIT_RISE = 0.1
OVERFIT_RISE_OF_START = 0.02
OVERFIT_PATIENCE = 3
OVERFIT_TRAIN_FALL = 0.05
SLOW_EPOCHS = 5
SLOW_RATE = 0.01
SLOW_NEAR_START = 0.8
PLATEAU_EPOCHS = 5
PLATEAU_RANGE = 0.01
PLATEAU_CONVERGED = 0.1
NOGEN_EPOCHS = 3
NOGEN_BAND = 0.1
NOGEN_TRAIN_SHARE = 0.5
BN_UNSETTLED = 0.05
_ACCURACIES = ("accuracy", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy")
EXPLODING_RATIO = 1e3
WEIGHT_FLOOR = 0.01
VANISHING_RATIO = 1e-5
VANISHING_GAP = 1e-4
DEAD_FRACTION = 0.5
PROBE_SAMPLES = 128
HISTOGRAM_BINS = 30
BEFORE_TRAINING = -1
_SAME_DIAGNOSIS = {
    "slow": "progress",
    "plateau": "progress",
    "overfitting": "generalisation",
    "not_generalising": "generalisation",
}
"""Kinds that answer one question (is it learning, how fast? does it carry over to new
samples?): once one is raised, the other would contradict it or repeat it (a loss that stopped
moving, then wobbled down five times, is not 'too slow')."""
"""The epoch of an alert raised by the probe before the first step."""


@dataclass(frozen=True)
class Alert:
    kind: str  # nan, divergence, unstable, overfitting, not_generalising, slow, plateau,
    # exploding, vanishing, dead_relu
    epoch: int  # 0-based epoch at which it was noticed; BEFORE_TRAINING before the first step
    message: str  # what was seen, with the numbers
    advice: str
    layer: str | None = None  # the layer (node name) it points at, when it applies to one
    evidence: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    """The measured numbers the message quotes, by name (for tests, JSON and tooltips)."""
    head: str | None = None
    """The output head whose losses it read, in a model with several (its output layer)."""

    def text(self) -> str:
        when = "Before training" if self.epoch == BEFORE_TRAINING else f"Epoch {self.epoch + 1}"
        which = f", output '{self.head}'" if self.head else ""
        where = f" in '{self.layer}'" if self.layer else ""
        return f"{when}{which}{where}: {self.message} Try: {self.advice}"


@dataclass
class ProbeStats:
    """Per-layer gradient and weight norms and dead-unit fractions on the probe batch."""

    grad_norms: dict[str, float] = field(default_factory=dict)
    weight_norms: dict[str, float] = field(default_factory=dict)
    dead_fraction: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # trainable numbers per layer
    units: dict[str, int] = field(default_factory=dict)  # ReLU units per layer
    loss: float | None = None  # the loss on the probe batch (inference mode)
    head_losses: dict[str, float] = field(default_factory=dict)  # each head's, when several
    weight_histograms: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    grad_histograms: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)


class Diagnostics:
    """Feeds on epoch logs and probe stats; each kind of alert is raised once per run (once
    per head for the loss rules of a model with several heads)."""

    def __init__(
        self,
        heads: Sequence[str] = (),
        batch_norm_momentum: float | None = None,
        steps_per_epoch: int = 0,
    ) -> None:
        self.heads = tuple(heads) if len(heads) > 1 else ()
        """The output heads, when the model has several; set before the first epoch."""
        self.batch_norm_momentum = batch_norm_momentum
        """The slowest BatchNormalization momentum in the model; None when it has none."""
        self.steps_per_epoch = steps_per_epoch
        self.history: dict[str, list[float]] = {}
        self.alerts: list[Alert] = []
        self.start_loss: float | None = None
        self.head_start: dict[str, float] = {}
        self._raised: set[tuple[str, str | None]] = set()

    def begin(self, start_loss: float | None, probe: ProbeStats | None = None) -> list[Alert]:
        """Before the first step: the starting loss, and the probe's view of the fresh model."""
        if _usable(start_loss):
            self.start_loss = start_loss
        if probe is not None:
            self.head_start = {k: v for k, v in probe.head_losses.items() if _usable(v)}
        return self._keep(_from_probe(BEFORE_TRAINING, probe) if probe is not None else [])

    def on_epoch(
        self,
        epoch: int,
        logs: dict[str, float],
        probe: ProbeStats | None,
        learning_rate: float | None = None,
    ) -> list[Alert]:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if learning_rate is not None:
            self.history.setdefault("learning_rate", []).append(learning_rate)
        found = self._from_history(epoch)
        if probe is not None:
            found += _from_probe(epoch, probe)
        return self._keep(found)

    def _keep(self, found: list[Alert]) -> list[Alert]:
        fresh = []
        for alert in found:
            key = (_SAME_DIAGNOSIS.get(alert.kind, alert.kind), alert.head)
            if key not in self._raised:
                self._raised.add(key)
                fresh.append(alert)
        self.alerts += fresh
        return fresh

    def _from_history(self, epoch: int) -> list[Alert]:
        heads = [h for h in self.heads if self.history.get(f"{h}_loss")]
        if not heads:  # one head, or logs that do not name them: the model's loss
            return self._read(epoch, "loss", "val_loss", self.start_loss)
        found = []
        for head in heads:
            start = self.head_start.get(head)
            for alert in self._read(epoch, f"{head}_loss", f"val_{head}_loss", start):
                found.append(replace(alert, head=head))
        return found

    def _read(self, epoch: int, key: str, val_key: str, start: float | None) -> list[Alert]:
        """The history rules on one loss (and its validation loss): at most one alert."""
        loss = self.history.get(key, [])
        if not loss:
            return []
        if not math.isfinite(loss[-1]):
            return [
                Alert(
                    "nan",
                    epoch,
                    f"the loss became {loss[-1]}.",
                    "a learning rate 10x lower; normalise the inputs.",
                    evidence={"loss": loss[-1]},
                )
            ]
        rate = self.history.get("learning_rate", [])
        start = start if start is not None else loss[0]
        history = _History(epoch, loss, self.history.get(val_key, []), start, rate)
        found = history.divergence() or history.unstable()
        unsettled = self._unsettled(epoch)
        if found is None:
            found = history.overfitting(unsettled)
        if found is None:
            accuracy = self._accuracy(key.removesuffix("loss"))
            found = history.not_generalising(accuracy, unsettled)
        if found is None:
            found = history.slow() or history.plateau()
        return [found] if found is not None else []

    def _accuracy(self, prefix: str) -> tuple[float, float] | None:
        """The last training and validation accuracy logged for a head (`prefix` is '' or
        'head_'), when the model is compiled with an accuracy metric."""
        for name in _ACCURACIES:
            train, val = self.history.get(prefix + name), self.history.get(f"val_{prefix}{name}")
            if train and val:
                return train[-1], val[-1]
        return None

    def _unsettled(self, epoch: int) -> tuple[float, int, float] | None:
        """(momentum, steps so far, share of the initial moving statistics still held) when
        the model's BatchNormalization statistics have not settled yet."""
        momentum = self.batch_norm_momentum
        if momentum is None or self.steps_per_epoch <= 0:
            return None
        steps = (epoch + 1) * self.steps_per_epoch
        held = float(momentum) ** steps
        return (momentum, steps, held) if held > BN_UNSETTLED else None


def batch_norm_momentum(model: object) -> float | None:
    """The highest (slowest to settle) momentum of the model's BatchNormalization layers,
    nested models included; None when it has none."""
    import keras

    found: list[float] = []
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(float(layer.momentum))
        stack += list(getattr(layer, "layers", []))
    return max(found, default=None)


def _usable(loss: float | None) -> bool:
    return loss is not None and math.isfinite(loss) and loss > 0


@dataclass(frozen=True)
class _History:
    """The epoch logs one rule reads, and the rules themselves (each returns one alert)."""

    epoch: int
    loss: list[float]
    val: list[float]
    start: float
    rates: list[float]

    def _rate_text(self) -> str:
        return f" (now {self.rates[-1]:.3g})" if self.rates else ""

    def divergence(self) -> Alert | None:
        last = self.loss[-1]
        if last <= DIVERGE_FACTOR * self.start:
            return None
        return Alert(
            "divergence",
            self.epoch,
            f"the training loss is {last:.4g}, {last / self.start:.1f}x its starting value "
            f"{self.start:.4g}: training diverges (each step overshoots and makes it worse).",
            f"a learning rate 10x lower{self._rate_text()}; normalise the inputs.",
            evidence={"loss": last, "start_loss": self.start},
        )

    def _jumps(self) -> list[int]:
        """Epochs (0-based) of the recent window where the loss rose by a jump."""
        first = max(1, len(self.loss) - JUMP_WINDOW)
        return [
            i
            for i in range(first, len(self.loss))
            if self.loss[i] - self.loss[i - 1] > JUMP_OF_START * self.start
        ]

    def _val_jumped(self, since: int) -> bool:
        """Whether the validation loss jumped up at some epoch from `since` on."""
        rise = JUMP_OF_START * self.start
        epochs = range(max(1, since), len(self.val))
        return any(self.val[i] - self.val[i - 1] > rise for i in epochs)

    def unstable(self) -> Alert | None:
        jumps = self._jumps()
        if len(jumps) < JUMPS_FOR_UNSTABLE:
            return None
        if len(self.val) == len(self.loss) and not self._val_jumped(jumps[0] - 1):
            return None  # the weights did not get worse: Dropout's noise, not overshooting
        seen = ", ".join(
            f"{self.loss[i - 1]:.3g} -> {self.loss[i]:.3g} at epoch {i + 1}" for i in jumps
        )
        return Alert(
            "unstable",
            self.epoch,
            f"the training loss jumps up and down ({seen}; it started at {self.start:.3g}): "
            "the steps overshoot the minimum.",
            f"a learning rate 3 to 10x lower{self._rate_text()}, or a schedule that lowers it.",
            evidence={"jumps": float(len(jumps)), "start_loss": self.start},
        )

    def overfitting(self, unsettled: tuple[float, int, float] | None = None) -> Alert | None:
        val, loss = self.val, self.loss
        if len(val) < OVERFIT_PATIENCE + 1 or len(loss) != len(val):
            return None
        best = int(np.argmin(val))
        if len(val) - 1 - best < OVERFIT_PATIENCE:
            return None
        floor = max(val[best] * (1 + OVERFIT_RISE), val[best] + OVERFIT_RISE_OF_START * self.start)
        if any(v <= floor for v in val[-OVERFIT_PATIENCE:]):
            return None  # not a sustained rise above the best
        if loss[-1] > loss[best] * (1 - OVERFIT_TRAIN_FALL) or self._jumps():
            return None  # training is not steadily improving: oscillation, not memorising
        if loss[-1] > SLOW_NEAR_START * self.start or loss[-1] >= val[-1]:
            return None  # it has learnt too little to memorise, or fits both sets alike
        return Alert(
            "overfitting",
            self.epoch,
            f"validation loss {val[-1]:.4g} is {val[-1] / val[best] - 1:.0%} above its best, "
            f"{val[best]:.4g} at epoch {best + 1}, and has stayed above it for "
            f"{len(val) - 1 - best} epochs while the training loss fell from {loss[best]:.4g} "
            f"to {loss[-1]:.4g}: the network is memorising the training data (overfitting).",
            "Dropout, fewer units, more data or augmentation, or early stopping (it keeps the "
            f"best epoch's weights).{_unsettled_note(unsettled)}",
            evidence={
                "val_loss": val[-1],
                "best_val_loss": val[best],
                "best_epoch": float(best),
                "loss_at_best": loss[best],
                "loss": loss[-1],
            },
        )

    def not_generalising(
        self,
        accuracy: tuple[float, float] | None,
        unsettled: tuple[float, int, float] | None,
    ) -> Alert | None:
        val, loss = self.val, self.loss
        if len(val) < NOGEN_EPOCHS or len(loss) != len(val):
            return None
        if max(abs(v / self.start - 1) for v in val) > NOGEN_BAND:
            return None  # validation moved: it learnt, or got worse (overfitting's to judge)
        if loss[-1] > NOGEN_TRAIN_SHARE * self.start:
            return None  # training has not learnt much yet
        acc = (
            f" (accuracy {accuracy[0]:.3g} on training, {accuracy[1]:.3g} on validation)"
            if accuracy
            else ""
        )
        evidence = {
            "loss": loss[-1],
            "start_loss": self.start,
            "val_loss": val[-1],
            "best_val_loss": min(val),
            "epochs": float(len(val)),
        }
        if accuracy:
            evidence |= {"accuracy": accuracy[0], "val_accuracy": accuracy[1]}
        advice = (
            "more data or augmentation, a smaller model, or a pretrained backbone; check that "
            "the validation data comes from the same source, preprocessed the same way."
        )
        if unsettled is not None:
            evidence |= {"batch_norm_momentum": unsettled[0], "steps": float(unsettled[1])}
            advice = (
                "more epochs or more data, a lower BatchNormalization momentum (0.9), a "
                f"pretrained backbone, or a smaller model.{_unsettled_note(unsettled)}"
            )
        return Alert(
            "not_generalising",
            self.epoch,
            f"the training loss fell from {self.start:.4g} to {loss[-1]:.4g} but the validation "
            f"loss has stayed between {min(val):.4g} and {max(val):.4g} for {len(val)} epochs, "
            f"within {NOGEN_BAND:.0%} of the start{acc}: the network learns the training "
            "samples but nothing carries over to new ones (it is not generalising).",
            advice,
            evidence=evidence,
        )

    def slow(self) -> Alert | None:
        if len(self.loss) < SLOW_EPOCHS:
            return None
        recent = self.loss[-SLOW_EPOCHS:]
        falling = all(b < a for a, b in itertools.pairwise(recent))
        per_epoch = (recent[0] - recent[-1]) / (SLOW_EPOCHS - 1) / recent[-1]
        near_start = recent[-1] >= SLOW_NEAR_START * self.start
        if not (falling and near_start and per_epoch < SLOW_RATE):
            return None
        share = recent[-1] / self.start
        where = "about where it started" if share >= 0.95 else f"still {share:.0%} of its start"
        return Alert(
            "slow",
            self.epoch,
            f"the loss falls every epoch but only {per_epoch:.2%} per epoch ({recent[0]:.4g} -> "
            f"{recent[-1]:.4g} over {SLOW_EPOCHS} epochs), {where} ({self.start:.4g}): it is "
            "learning too slowly.",
            f"a learning rate 10x higher{self._rate_text()}.",
            evidence={"per_epoch": per_epoch, "loss": recent[-1], "start_loss": self.start},
        )

    def plateau(self) -> Alert | None:
        if len(self.loss) < PLATEAU_EPOCHS:
            return None
        recent = self.loss[-PLATEAU_EPOCHS:]
        level = float(np.mean(recent))
        spread = max(recent) - min(recent)
        if spread >= PLATEAU_RANGE * level or level < PLATEAU_CONVERGED * self.start:
            return None  # moving, or converged (a flat loss near zero is done, not stuck)
        stuck = level >= SLOW_NEAR_START * self.start
        where = (
            f"about where it started ({self.start:.4g}): the network is not learning"
            if stuck
            else f"down from {self.start:.4g} at the start: a plateau"
        )
        return Alert(
            "plateau",
            self.epoch,
            f"the loss has stayed at {level:.4g} (within {spread:.2g}) for {PLATEAU_EPOCHS} "
            f"epochs, {where}.",
            "check the gradient alerts; a different learning rate (or reduce-on-plateau), "
            "ReLU activations, or a bigger model."
            if stuck
            else "reduce the learning rate on plateau, or a bigger model.",
            evidence={"loss": level, "spread": spread, "start_loss": self.start},
        )


def _unsettled_note(unsettled: tuple[float, int, float] | None) -> str:
    """What unsettled BatchNormalization statistics do to the validation loss ('' if none)."""
    if unsettled is None:
        return ""
    momentum, steps, held = unsettled
    return (
        f" After {steps} steps the BatchNormalization moving statistics (momentum "
        f"{momentum:.3g}) still hold {held:.0%} of their starting values, and validation "
        "normalises with them, so it lags behind training until they settle."
    )


def _from_probe(epoch: int, probe: ProbeStats) -> list[Alert]:
    """At most one alert per kind, naming every layer it concerns, the worst one first."""
    ratios = {layer: norm / _weight_scale(probe, layer) for layer, norm in probe.grad_norms.items()}
    dead = {k: v for k, v in probe.dead_fraction.items() if v > DEAD_FRACTION}
    found = [_exploding(epoch, probe, ratios), _dead(epoch, probe, dead)]
    if not dead:  # dead units explain zero gradients better than vanishing does
        found.append(_vanishing(epoch, probe, ratios))
    return [alert for alert in found if alert is not None]


def _exploding(epoch: int, probe: ProbeStats, ratios: dict[str, float]) -> Alert | None:
    big = {k: r for k, r in ratios.items() if not math.isfinite(r) or r > EXPLODING_RATIO}
    if not big:
        return None
    worst = max(big, key=lambda k: big[k] if math.isfinite(big[k]) else math.inf)
    norm, weights = probe.grad_norms[worst], probe.weight_norms.get(worst, 0.0)
    return Alert(
        "exploding",
        epoch,
        f"gradients explode in {_layers(big)}: in '{worst}' their norm {norm:.3g} is "
        f"{big[worst]:.3g}x the norm of its weights ({weights:.3g}), so one step rewrites them.",
        "gradient clipping (clipnorm), a lower learning rate, smaller initial weights (Glorot "
        "or He), BatchNormalization.",
        worst,
        {"grad_norm": norm, "weight_norm": weights, "ratio": big[worst], "layers": len(big)},
    )


def _vanishing(epoch: int, probe: ProbeStats, ratios: dict[str, float]) -> Alert | None:
    finite = {k: r for k, r in ratios.items() if math.isfinite(r)}
    fed = max(finite, key=lambda k: finite[k], default="")
    best = finite.get(fed, 0.0)
    small = {k: r for k, r in finite.items() if r < VANISHING_RATIO and r < VANISHING_GAP * best}
    if not small:
        return None
    worst = min(small, key=lambda k: small[k])
    norm, weights = probe.grad_norms[worst], probe.weight_norms.get(worst, 0.0)
    seen = (
        f"no gradient reaches '{worst}'"
        if norm == 0
        else f"in '{worst}' their norm {norm:.2g} is {small[worst]:.2g} of its weights' norm "
        f"({weights:.2g}), {small[worst] / best:.1g} of what '{fed}' gets ({best:.2g})"
    )
    return Alert(
        "vanishing",
        epoch,
        f"gradients vanish on their way back, in {_layers(small)}: {seen}. Those layers "
        "barely learn.",
        "ReLU instead of sigmoid/tanh (saturated units pass almost no gradient), He "
        "initialisation, BatchNormalization, or residual connections.",
        worst,
        {"grad_norm": norm, "weight_norm": weights, "ratio": small[worst], "best_ratio": best},
    )


def _dead(epoch: int, probe: ProbeStats, dead: dict[str, float]) -> Alert | None:
    if not dead:
        return None
    worst = max(dead, key=lambda k: dead[k])
    units = probe.units.get(worst, 0)
    count = f"{round(dead[worst] * units)} of its {units} units" if units else "its units"
    return Alert(
        "dead_relu",
        epoch,
        f"dead ReLU units in {_layers(dead)}: in '{worst}' {count} ({dead[worst]:.0%}) output "
        f"zero for every one of the {PROBE_SAMPLES} probe samples, so no gradient flows "
        "through them.",
        "a lower learning rate, LeakyReLU, or He initialisation.",
        worst,
        {"dead_fraction": dead[worst], "layers": len(dead)},
    )


def _layers(found: dict[str, float]) -> str:
    names = [f"'{name}'" for name in found]
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return ("1 layer" if len(names) == 1 else f"{len(names)} layers") + (
        f" ({', '.join(names[:4])}{more})"
    )


def _weight_scale(probe: ProbeStats, layer: str) -> float:
    """The layer's weight norm, floored at what weights of 0.01 each would give: a layer
    initialised to zeros is not exploding because its first gradient exceeds nothing."""
    size = probe.sizes.get(layer, 1)
    return max(probe.weight_norms.get(layer, 0.0), WEIGHT_FLOOR * math.sqrt(size))
