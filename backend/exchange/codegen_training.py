"""The training half of an exported script: compile, data, fit and the `__main__` block.

Every setting is read back from what the app's own trainer builds for the project, so the
script and the app cannot drift apart: the optimizer, loss and metrics from a model compiled
by `Trainer.build_model`; early stopping, reduce-on-plateau and TensorBoard from the callbacks
`training_setup.extra_callbacks` makes; the class weights from `training_setup.class_weights`.
Only what differs from Keras' defaults is written, in plain Keras: a per-epoch schedule is a
`LearningRateScheduler` over a small function with the app's formula, keeping the best epoch's
weights is an `EarlyStopping(restore_best_weights=True)` that never stops, mixed precision is
`keras.mixed_precision.set_global_policy`, the device a `keras.device` (or a mirrored
strategy's) scope. In-memory data comes in a fresh seeded order every epoch through the app's
own small `tf.data` pipeline (`backend.training.shuffling`), written out as `training_batches`.
Batches per call and XLA are written where the settings ask for them; the app's own choice
("auto") is per run and machine and changes the speed, never the numbers, so it is left out.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.data import Dataset
from backend.document.project import Project
from backend.document.training_config import TrainingConfig
from backend.exchange.codegen_literals import INDENT, indent, keras_object, lit, same
from backend.keras_bridge.weights import resolve
from backend.keras_env import import_keras
from backend.training.setup import class_weights, extra_callbacks

NAMES = (
    "compile_model",
    "load_data",
    "load_weights",
    "learning_rate",
    "training_batches",
    "fit_model",
    "math",
    "tf",
)
"""Names the training functions and imports take in the script (no layer variable gets them)."""
_LINE = 95
STARTING: Any = object()
"""`training_plan`'s default weights: the settings' starting weights (an import's)."""


@dataclass(frozen=True)
class TrainingPlan:
    """What the app's trainer sets up for a project, to be written as a script."""

    config: TrainingConfig
    model: Any
    """Compiled by the app's trainer (without the stored weights, which only it needs)."""
    dataset: Dataset
    has_validation: bool
    weights: str | None = None
    """The stored weights training starts from, as a path usable from anywhere."""

    @property
    def in_memory(self) -> bool:
        """Arrays the app reshuffles every epoch (a stream shuffles itself)."""
        return self.dataset.stream is None


def training_plan(project: Project, weights: str | Path | None = STARTING) -> TrainingPlan:
    """`weights`: the `.weights.npz` the script's model starts from; by default the settings'
    starting weights (an import's), None for none (a freshly initialised model)."""
    from backend.training.trainer import Trainer

    dataset = project.load_data()
    config = project.training
    trainer = Trainer(project.graph, dataset, replace(config, initial_weights=None))
    return TrainingPlan(
        config,
        trainer.build_model(),
        dataset,
        trainer.dataset_has_validation(),
        weights_path(project, weights),
    )


def weights_path(project: Project, weights: str | Path | None = STARTING) -> str | None:
    """The weights a script loads, as a path usable from anywhere (or None)."""
    path = resolve(project.training, project.path) if weights is STARTING else weights
    if path is None:
        return None
    path = Path(path)
    return str(path.resolve() if project.path is not None or path.is_absolute() else path)


def model_only_functions(project: Project, weights: str | None) -> list[str]:
    """A project without data: `build_model`, [load_weights] and a main block that builds it
    and prints its summary (the training code needs the data's task, so it is left out)."""
    build = "load_weights(build_model())" if weights else "build_model()"
    main = 'if __name__ == "__main__":\n' + indent(
        [
            "# The project has no dataset yet: choose one in DeepCanvas and export again for",
            "# the training code (compile, load_data, fit_model).",
            f"model = {build}",
            "model.summary()",
        ]
    )
    return [*([_weights_function(weights)] if weights else []), main]


def imports(plan: TrainingPlan) -> list[str]:
    """The standard-library modules the training code needs, if any."""
    return ["import math"] if plan.config.schedule == "cosine" else []


def uses_tensorflow(plan: TrainingPlan) -> bool:
    """Whether the training code needs `tf`: a mirrored strategy, or the per-epoch shuffle."""
    return plan.config.device == "mirrored" or plan.in_memory


def training_functions(project: Project, plan: TrainingPlan) -> list[str]:
    """compile_model, load_data, [load_weights], [learning_rate], [training_batches],
    fit_model, the main block."""
    parts = [_compile_function(plan), _data_function(project)]
    if plan.weights:
        parts.append(_weights_function(plan.weights))
    schedule = schedule_function(plan.config)
    if schedule:
        parts.append(schedule)
    if plan.in_memory:
        parts.append(_batches_function(plan))
    return [*parts, _fit_function(plan), _main(plan)]


# ----------------------------------------------------------------- compile and data
def _compile_function(plan: TrainingPlan) -> str:
    config = plan.model.get_compile_config()
    lines = ["model.compile("]
    lines.append(f"{INDENT}optimizer={keras_object(config['optimizer'])},")
    lines.append(f"{INDENT}loss={keras_object(config['loss'])},")
    for key in ("loss_weights", "metrics"):
        if config.get(key):
            lines.append(f"{INDENT}{key}={keras_object(config[key])},")
    if config.get("jit_compile"):
        lines.append(f"{INDENT}jit_compile=True,")
    if int(config.get("steps_per_execution") or 1) > 1:  # as the settings ask (auto: 1)
        lines.append(f"{INDENT}steps_per_execution={int(config['steps_per_execution'])},")
    lines.append(")")
    doc = '"""The project\'s training settings: optimizer, loss and metrics."""'
    return "def compile_model(model):\n" + indent([doc, *lines, "return model"])


def _data_function(project: Project) -> str:
    choice = project.resolved_dataset()
    call = (
        f"load_dataset({lit(choice.name)}, {lit(choice.params)}, "
        f"val_fraction={lit(choice.val_fraction)}, test_fraction={lit(choice.test_fraction)}, "
        f"seed={lit(choice.seed)})"
    )
    lines = [
        '"""The project\'s data, loaded and split as DeepCanvas does it (no download).',
        "",
        "Run this script from the DeepCanvas folder (or with DeepCanvas installed) for its",
        'loaders; or replace this function by your own arrays."""',
        "from backend.data import load_dataset",
        "",
        f"return {call}",
    ]
    return "def load_data():\n" + indent(lines)


def _weights_function(path: str) -> str:
    lines = [
        '"""The project\'s stored weights (DeepCanvas .weights.npz): training continues from',
        'them, as in the app."""',
        "from backend.keras_bridge import weights",
        "",
        *_string_assignment("path", path),
        "weights.apply_weights(model, weights.load_weights(path))",
        "return model",
    ]
    return "def load_weights(model):\n" + indent(lines)


def _string_assignment(name: str, text: str, width: int = 80) -> list[str]:
    """`name = "text"`, a long path split after its slashes over parenthesized lines."""
    if len(text) <= width:
        return [f"{name} = {lit(text)}"]
    parts = text.split("/")
    pieces = [""]
    for i, part in enumerate(parts):
        piece = part if i == len(parts) - 1 else part + "/"
        if pieces[-1] and len(pieces[-1]) + len(piece) > width:
            pieces.append("")
        pieces[-1] += piece
    return [f"{name} = (", *[f"{INDENT}{lit(p)}" for p in pieces], ")"]


def _batches_function(plan: TrainingPlan) -> str:
    """`def training_batches(data, batch_size, seed)`: the app's per-epoch reshuffle
    (`backend.training.shuffling.reshuffled_each_epoch`) in plain `tf.data`."""

    # tf.data stacks a list into one tensor; a tuple keeps one array per input (or output)
    lists = [
        part for part in ("x_train", "y_train") if isinstance(getattr(plan.dataset, part), list)
    ]
    x, y = (f"tuple(data.{p})" if p in lists else f"data.{p}" for p in ("x_train", "y_train"))
    tuples = "  # tuples: tf.data would stack a list" if lists else ""
    lines = [
        '"""The training split in batches, in a new order every epoch (the same orders in',
        "every run with the same seed), as the app trains.",
        "",
        "Each epoch shuffles the sample numbers anew and gathers every batch's samples by",
        "number. `model.fit(x, y, shuffle=True)` would not: once the seed is fixed it draws",
        'the same order every epoch."""',
        "count = data.train_size",
        "order = tf.data.Dataset.range(count).shuffle(",
        f"{INDENT}count, seed=seed, reshuffle_each_iteration=True",
        ")",
        f"samples = ({x}, {y}){tuples}",
        "repeated = tf.data.Dataset.from_tensors(samples).repeat()  # all of them, each batch",
        "",
        "def gather(numbers, arrays):",
        f'{INDENT}"""One batch: every array taken at the batch\'s sample numbers."""',
        f"{INDENT}return tf.nest.map_structure(lambda a: tf.gather(a, numbers), arrays)",
        "",
        "batches = tf.data.Dataset.zip((order.batch(batch_size), repeated)).map(gather)",
        "return batches.prefetch(tf.data.AUTOTUNE)",
    ]
    return "def training_batches(data, batch_size, seed):\n" + indent(lines)


# ----------------------------------------------------------------- schedule
def schedule_function(config: TrainingConfig) -> str | None:
    """`def learning_rate(epoch)`: `backend.training.optimizers.epoch_learning_rate` for these
    settings, as a formula (None for a constant rate or reduce-on-plateau, which is a callback)."""
    lr = lit(float(config.learning_rate))
    p = config.schedule_params
    if config.schedule == "step":
        every = max(1, int(p.get("every_epochs", 10)))
        factor = float(p.get("factor", 0.5))
        doc = f"Step decay: times {factor!r} every {every} epochs."
        body = [f"return {lr} * {factor!r} ** (epoch // {every})"]
    elif config.schedule == "exponential":
        rate = float(p.get("decay_rate", 0.9))
        doc = f"Exponential decay: times {rate!r} each epoch."
        body = [f"return {lr} * {rate!r} ** epoch"]
    elif config.schedule == "cosine":
        alpha = float(p.get("alpha", 0.0))
        doc = f"Cosine decay over {config.epochs} epochs, down to {alpha!r} of the rate."
        body = [
            f"progress = min(1.0, epoch / {max(1, int(config.epochs))})",
            "wave = 1 + math.cos(math.pi * progress)",
            f"return {lr} * ({alpha!r} + (1 - {alpha!r}) * 0.5 * wave)",
        ]
    else:
        return None
    lines = [
        '"""The learning rate of each epoch (from 0), as the app schedules it.',
        "",
        f'{doc}"""',
    ]
    lines += body
    return "def learning_rate(epoch):\n" + indent(lines)


# ----------------------------------------------------------------- fit
def _fit_function(plan: TrainingPlan) -> str:
    config = plan.config
    if not plan.in_memory:  # too big for memory: the loader's tf.data pipelines
        data = [f"**data.fit_arguments({int(config.batch_size)}),  # streamed from disk"]
    else:
        batches = f"batch_size={int(config.batch_size)}, seed={int(config.seed)}"
        data = [f"training_batches(data, {batches}),", "shuffle=False,  # ordered above"]
        if plan.has_validation:
            data.append("validation_data=(data.x_val, data.y_val),")
    args = [*data, f"epochs={int(config.epochs)},"]
    callbacks = callback_calls(plan)
    if callbacks:
        args += ["callbacks=[", *[f"{INDENT}{c}" for c in callbacks], "],"]
    weights = class_weights(config, plan.dataset)
    if weights is not None:
        args += [
            "# 'balanced': each class weighs the inverse of its frequency in the training split",
            *_wrapped("class_weight=", weights, ","),
        ]
    lines = [
        '"""Trains as the app does: epochs, batch size, callbacks and class weights."""',
        "return model.fit(",
        *[f"{INDENT}{a}" for a in args],
        ")",
    ]
    return "def fit_model(model, data):\n" + indent(lines)


def callback_calls(plan: TrainingPlan) -> list[str]:
    """The callbacks the app's trainer adds to `fit`, as constructor calls (and comments)."""
    keras = import_keras()
    config = plan.config
    made = extra_callbacks(replace(config, tensorboard_dir=None), plan.has_validation)
    calls: list[str] = []
    for callback in made:
        if isinstance(callback, keras.callbacks.LearningRateScheduler):
            calls.append("keras.callbacks.LearningRateScheduler(learning_rate),")
        else:
            calls.append(constructor_call(callback) + ",")
    if config.checkpoint and not config.early_stopping:  # early stopping restores them too
        monitor = "val_loss" if plan.has_validation else "loss"
        best = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=int(config.epochs), restore_best_weights=True
        )
        calls.append(f"# keeps the best epoch's weights (lowest {monitor}); never stops early")
        calls.append(constructor_call(best) + ",")
    if config.tensorboard_dir:  # the app needs the package installed here; the script does not
        calls.append(f"keras.callbacks.TensorBoard(log_dir={lit(config.tensorboard_dir)}),")
    return calls


def constructor_call(callback: Any) -> str:
    """`keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)`: the arguments that
    differ from the constructor's defaults, read back from the callback's attributes."""
    cls = type(callback)
    args = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if not hasattr(callback, name):
            continue
        value = getattr(callback, name)
        if param.default is not param.empty and same(value, param.default):
            continue
        args.append(f"{name}={lit(value)}")
    return f"keras.callbacks.{cls.__name__}({', '.join(args)})"


def _wrapped(head: str, mapping: dict[Any, Any], tail: str) -> list[str]:
    """`head{...}tail` on one line, or one entry per line when that is too long."""
    line = f"{head}{lit(mapping)}{tail}"
    if len(line) <= _LINE:
        return [line]
    return [head + "{", *[f"{INDENT}{lit(k)}: {lit(v)}," for k, v in mapping.items()], "}" + tail]


# ----------------------------------------------------------------- main
def _main(plan: TrainingPlan) -> str:
    config = plan.config
    build = "load_weights(build_model())" if plan.weights else "build_model()"
    run = [
        f"model = compile_model({build})",
        "model.summary()",
        "history = fit_model(model, load_data())",
    ]
    scope = _device_scope(config.device)
    if scope:
        run = [scope, *(INDENT + line for line in run)]
    lines = [f"keras.utils.set_random_seed({int(config.seed)})"]
    if config.mixed_precision:
        lines.append('keras.mixed_precision.set_global_policy("mixed_float16")')
    return 'if __name__ == "__main__":\n' + indent([*lines, *run])


def _device_scope(device: str) -> str | None:
    """The `with` line that puts the model on the project's device (None for "auto")."""
    if device == "auto":
        return None
    if device == "mirrored":
        return "with tf.distribute.MirroredStrategy().scope():  # every GPU of this machine"
    return f"with keras.device({lit(device if ':' in device else device + ':0')}):"
