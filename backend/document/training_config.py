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


BASIC = "basic"
ADVANCED = "advanced"
HIDDEN = "hidden"
"""Groups: the form's first tab, its second, or no editor (set by another part of the app)."""
EDITORS = ("choice", "int", "float", "bool", "text", "names", "device", "params")
"""Editor kinds a form builds; "" in `Setting.editor` means: from the default's type."""


@dataclass(frozen=True)
class Setting:
    """How a settings form shows one field: the field's `metadata["setting"]`.

    Plain data (no Qt): the GUI builds its form from it, as the Inspector does from Keras'
    signatures, and the CLI or the docs can list the same labels and help.
    """

    label: str
    help: str = ""
    group: str = BASIC
    section: str = ""
    """A heading the field sits under within its group ("Optimizer", "Execution"...)."""
    editor: str = ""
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    choices: tuple[tuple[Any, str], ...] = ()
    """(value, label) pairs of a "choice" editor, in the order shown."""
    placeholder: str = ""
    visible_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    """Shown only while each named field has one of these values (the field matters then)."""
    params_of: str = ""
    params: dict[str, tuple[Param, ...]] = field(default_factory=dict)
    """A "params" editor: the entries of a dict field, per value of the field `params_of`."""

    def kind(self, default: Any) -> str:
        if self.editor:
            return self.editor
        if self.choices:
            return "choice"
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, int):
            return "int"
        if isinstance(default, float):
            return "float"
        if isinstance(default, list):
            return "names"
        return "text"


@dataclass(frozen=True)
class Param:
    """One entry of a dict-valued setting (a schedule's parameters)."""

    key: str
    label: str
    default: float
    minimum: float
    maximum: float
    decimals: int
    """0: a whole number, stored as int."""
    help: str = ""


def described(**info: Any) -> dict[str, Setting]:
    """A field's metadata: `field(default_factory=list, metadata=described(label=...))`."""
    return {"setting": Setting(**info)}


def setting(default: Any, **info: Any) -> Any:
    """A dataclass field of an immutable default with its `Setting` (keywords as Setting's)."""
    return field(default=default, metadata=described(**info))


def _choices(values: tuple[str, ...]) -> tuple[tuple[Any, str], ...]:
    return tuple((v, v) for v in values)


def _when(name: str, *values: Any) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    return ((name, values),)


SCHEDULE_PARAMS: dict[str, tuple[Param, ...]] = {
    "constant": (),
    "step": (
        Param("every_epochs", "Every (epochs)", 10, 1, 10000, 0, "Epochs between two steps."),
        Param("factor", "Multiply by", 0.5, 0.01, 1, 3, "The rate is multiplied by this."),
    ),
    "exponential": (
        Param("decay_rate", "Decay per epoch", 0.9, 0.01, 1, 3, "Rate x this, each epoch."),
    ),
    "cosine": (Param("alpha", "Final fraction", 0.0, 0, 1, 3, "Last epoch's rate / the first's."),),
    "reduce_on_plateau": (
        Param("factor", "Multiply by", 0.5, 0.01, 1, 3, "The rate is multiplied by this."),
        Param("patience", "Patience (epochs)", 3, 1, 1000, 0, "Epochs without a better val_loss."),
    ),
}
"""Each schedule's parameters (`TrainingConfig.schedule_params` keys) with their defaults."""
_MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
_LOGIT_LOSSES = (
    "auto",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
)


@dataclass
class TrainingConfig:
    """Every field declares how a form shows it (`setting(...)`, see `Setting`)."""

    optimizer: str = setting(
        "adam",
        label="Optimizer",
        help="How the weights move from the gradients. Adam is a good first choice.",
        section="Optimizer",
        choices=_choices(OPTIMIZERS),
    )
    learning_rate: float = setting(
        1e-3,
        label="Learning rate",
        help="The step size. Too high: the loss jumps or diverges; too low: slow progress.",
        section="Optimizer",
        minimum=1e-6,
        maximum=10.0,
        decimals=6,
    )
    momentum: float = setting(
        0.0,
        label="Momentum",
        help="Keeps a fraction of the previous step (SGD and RMSprop only).",
        group=ADVANCED,
        section="Optimizer",
        minimum=0.0,
        maximum=0.999,
        decimals=3,
        visible_when=_when("optimizer", *_MOMENTUM_OPTIMIZERS),
    )
    nesterov: bool = setting(
        False,
        label="Nesterov momentum",
        help="Looks ahead along the momentum before taking the gradient (SGD only).",
        group=ADVANCED,
        section="Optimizer",
        visible_when=_when("optimizer", "sgd"),
    )
    weight_decay: float = setting(
        0.0,
        label="Weight decay",
        help="Shrinks every weight a little at each step (0: off).",
        group=ADVANCED,
        section="Optimizer",
        minimum=0.0,
        maximum=1.0,
        decimals=5,
    )
    clipnorm: float = setting(
        0.0,
        label="Clip gradient norm",
        help="Rescales each gradient whose norm is larger than this (0: off): tames spikes.",
        group=ADVANCED,
        section="Optimizer",
        minimum=0.0,
        maximum=1000.0,
        decimals=3,
    )
    schedule: str = setting(
        "constant",
        label="Schedule",
        help="How the learning rate changes from epoch to epoch.",
        section="Optimizer",
        choices=_choices(SCHEDULES),
    )
    schedule_params: dict[str, Any] = field(
        default_factory=dict,
        metadata=described(
            label="Schedule parameters",
            section="Optimizer",
            editor="params",
            params_of="schedule",
            params=SCHEDULE_PARAMS,
        ),
    )
    loss: str = setting(
        "auto",
        label="Loss",
        help="What training minimises; auto picks it from the data and the output layer.",
        section="Loss",
        choices=_choices(LOSSES),
    )
    from_logits: bool = setting(
        False,
        label="Outputs are logits (from_logits)",
        help="The output layer has no softmax/sigmoid: the crossentropy applies it itself.",
        group=ADVANCED,
        section="Loss and metrics",
        visible_when=_when("loss", *_LOGIT_LOSSES),
    )
    metrics: list[str] = field(
        default_factory=lambda: ["accuracy"],
        metadata=described(
            label="Metrics",
            help="Reported each epoch, beside the loss (comma-separated Keras names).",
            group=ADVANCED,
            section="Loss and metrics",
            placeholder="accuracy, auc…",
            choices=_choices(METRICS),
            editor="names",
        ),
    )
    heads: dict[str, dict[str, Any]] = field(
        default_factory=dict, metadata=described(label="Outputs", group=HIDDEN)
    )
    """Per output node name: {"loss": ..., "weight": ..., "metrics": [...]} (several outputs)."""
    epochs: int = setting(
        10,
        label="Epochs",
        help="Passes over the training data.",
        section="Run",
        minimum=1,
        maximum=100000,
    )
    batch_size: int = setting(
        32,
        label="Batch size",
        help="Samples per step: larger is faster per epoch but uses more memory.",
        section="Run",
        minimum=1,
        maximum=1 << 16,
    )
    class_weight: str | None = setting(
        None,
        label="Class weights",
        help="Balanced: each class weighs by the inverse of its frequency (rare classes count).",
        group=ADVANCED,
        section="Loss and metrics",
        choices=((None, "none"), ("balanced", "balanced")),
    )
    """None, or "balanced": weigh each class by the inverse of its frequency."""
    early_stopping: bool = setting(
        False,
        label="Early stopping",
        help="Stop when the validation loss has not improved for some epochs.",
        group=ADVANCED,
        section="Stopping",
    )
    patience: int = setting(
        5,
        label="Patience (epochs)",
        help="Epochs without a better validation loss before stopping.",
        group=ADVANCED,
        section="Stopping",
        minimum=1,
        maximum=1000,
        visible_when=_when("early_stopping", True),
    )
    checkpoint: bool = setting(
        False,
        label="Keep the best epoch's weights",
        help="Restore the weights of the epoch with the lowest validation loss at the end.",
        group=ADVANCED,
        section="Stopping",
    )
    """Keep the weights of the best epoch (lowest validation loss) and restore them at the end."""
    device: str = setting(
        "auto",
        label="Device",
        help="Where to train: TensorFlow's choice, the CPU, one GPU, or all GPUs (mirrored).",
        group=ADVANCED,
        section="Execution",
        editor="device",
        choices=_choices(DEVICES),
    )
    mixed_precision: bool = setting(
        False,
        label="Mixed precision (float16)",
        help="Computes in float16 and keeps float32 weights: faster on recent GPUs.",
        group=ADVANCED,
        section="Execution",
    )
    jit_compile: bool | None = setting(
        None,
        label="XLA (jit_compile)",
        help="Compiles each step with XLA. Auto: only where it measured faster for this "
        "model on this machine (on CPU it measured slower, its compile time included).",
        group=ADVANCED,
        section="Execution",
        choices=((None, "auto"), (True, "on"), (False, "off")),
    )
    steps_per_execution: int = setting(
        0,
        label="Batches per call",
        help="Batches TensorFlow trains per call from Python (Keras' steps_per_execution): "
        "more is faster for small models; curves, Pause and Stop act between calls. "
        "Auto: as many as fit in about 16 ms, from the model's measured speed.",
        group=ADVANCED,
        section="Execution",
        choices=((0, "auto"), *((n, str(n)) for n in (1, 2, 4, 8, 16, 32, 64, 128))),
    )
    histograms: bool = setting(
        False,
        label="Weight and gradient histograms",
        help="Per-layer histograms at each epoch's end (costs time).",
        group=ADVANCED,
        section="Logging",
    )
    """Per-layer weight and gradient histograms at each epoch end (off by default: costs time)."""
    tensorboard_dir: str | None = setting(
        None,
        label="TensorBoard folder",
        help="Writes TensorBoard logs to this folder (empty: none).",
        group=ADVANCED,
        section="Logging",
        placeholder="(no TensorBoard log)",
    )
    seed: int = setting(
        0,
        label="Seed",
        help="Seeds the weights' initial values and the shuffling: same seed, same run.",
        group=ADVANCED,
        section="Run",
        minimum=0,
        maximum=2**31 - 1,
    )
    initial_weights: str | None = setting(None, label="Initial weights", group=HIDDEN)
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
        if self.steps_per_execution < 0:
            raise ValueError("batches per call must be 0 (auto) or more")
        self._check_whole_ranges()
        _check_schedule_params(self.schedule_params)
        _check_heads(self.heads)

    def _check_whole_ranges(self) -> None:
        """Whole-number settings within their editors' range, for every caller (a hand-edited
        file asking for 10**12 epochs trained for ever; a seed past 2**31 - 1 failed late)."""
        for f in fields(self):
            info, value = f.metadata["setting"], getattr(self, f.name)
            low, high = info.minimum, info.maximum
            if not isinstance(value, int) or isinstance(value, bool) or low is None or high is None:
                continue
            if not low <= value <= high:
                raise ValueError(
                    f"{info.label.lower()} must be from {low:,.0f} to {high:,.0f}, got {value:,}"
                )

    def _check_types(self) -> None:
        """Each setting has the type of its default (a hand-edited file may say otherwise)."""
        for f in fields(self):
            value = getattr(self, f.name)
            default = TrainingConfig().__getattribute__(f.name)
            if default is None:  # optional: None or the annotated type (str or bool)
                ok = value is None or isinstance(value, bool if "bool" in str(f.type) else str)
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


HEAD_KEYS = ("loss", "weight", "metrics", "from_logits")
"""What `TrainingConfig.heads` may set for one output."""


def _check_schedule_params(params: dict[str, Any]) -> None:
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(
                f"training setting 'schedule_params': {key!r} must be a number, got {value!r}"
            )


def _check_heads(heads: dict[str, Any]) -> None:
    """Each output's settings: {"loss": a LOSSES name, "weight": a number, "metrics": [names],
    "from_logits": true/false}; a hand-edited file is told which one is wrong."""
    for output, head in heads.items():
        where = f"training setting 'heads', output {output!r}"
        if not isinstance(head, dict):
            raise ValueError(f'{where} must be an object such as {{"loss": "auto"}}')
        unknown = sorted(set(head) - set(HEAD_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(HEAD_KEYS)})")
        loss, weight, metrics = head.get("loss"), head.get("weight", 1.0), head.get("metrics", [])
        if loss is not None and loss not in LOSSES:
            raise ValueError(f"{where}: 'loss' must be one of {', '.join(LOSSES)}, got {loss!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise ValueError(f"{where}: 'weight' must be a number, got {weight!r}")
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise ValueError(f"{where}: 'metrics' must be a list of names, got {metrics!r}")
        if not isinstance(head.get("from_logits", False), bool):
            raise ValueError(f"{where}: 'from_logits' must be true or false")


def setting_fields() -> list[tuple[str, Setting, Any]]:
    """(name, Setting, default) of every TrainingConfig field, in declaration order."""
    defaults = TrainingConfig()
    return [
        (f.name, f.metadata["setting"], getattr(defaults, f.name)) for f in fields(TrainingConfig)
    ]


def is_visible(config: TrainingConfig, info: Setting) -> bool:
    """Whether a field matters for the others' values (its `visible_when` holds)."""
    return all(getattr(config, name) in values for name, values in info.visible_when)
