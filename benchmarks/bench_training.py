"""Training speed: the app's Trainer against a plain `model.fit` with Keras' default settings.

Everything is measured in one process, side by side, the order rotated every round, after a
warm-up; each figure is the time to a trained model (building excluded, tracing included,
as a user waits for it). Ratio = plain time / other time: samples per second of the other
over plain `fit`'s (above 1: faster).

1. The benchmark models (MLP, CNN, LSTM): plain `fit`, the app as shipped (its first run of a
   model, whose batches per call are estimated, and a later run, which uses the step time the
   first measured), and each of the app's execution settings alone on plain `fit`.
2. Every template with its own data and settings: the app against plain `fit` of the same
   compiled model (target: never below 1.0).

Run: `.venv/bin/python -m benchmarks.bench_training [ROUNDS]`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_env import import_keras
from backend.training import trace_ahead
from backend.training.execution import ExecutionPlan, apply_plan, prebuild
from backend.training.lean_update import lean_update
from backend.training.trainer import Trainer
from benchmarks.report import Measurement, Spread, alternate, publish, ratios, table

ROUNDS = 5
TEMPLATE_ROUNDS = 5
EPOCHS = 2


def _dataset(name: str, x: np.ndarray, classes: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=len(x))
    n_val = len(x) // 10
    return Dataset(
        name,
        "classification",
        x[n_val:],
        y[n_val:],
        x[:n_val],
        y[:n_val],
        x[:0],
        y[:0],
        [str(i) for i in range(classes)],
    )


def cases() -> dict[str, tuple[LayerGraph, Dataset]]:
    rng = np.random.default_rng(0)
    mlp = LayerGraph.chain(
        ("Input", {"shape": [32]}),
        ("Dense", {"units": 128, "activation": "relu"}),
        ("Dense", {"units": 64, "activation": "relu"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    cnn = LayerGraph.chain(
        ("Input", {"shape": [16, 16, 1]}),
        ("Conv2D", {"filters": 16, "kernel_size": [3, 3], "activation": "relu"}),
        ("MaxPooling2D", {}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    )
    lstm = LayerGraph.chain(
        ("Input", {"shape": [20, 8]}),
        ("LSTM", {"units": 32}),
        ("Dense", {"units": 4, "activation": "softmax"}),
    )
    return {
        "MLP (tabular, 20k x 32)": (
            mlp,
            _dataset("tab", rng.normal(size=(20000, 32)).astype("float32"), 10),
        ),
        "CNN (images, 4k x 16x16x1)": (
            cnn,
            _dataset("img", rng.normal(size=(4000, 16, 16, 1)).astype("float32"), 10),
        ),
        "LSTM (sequences, 4k x 20x8)": (
            lstm,
            _dataset("seq", rng.normal(size=(4000, 20, 8)).astype("float32"), 4),
        ),
    }


def _model(graph: LayerGraph, dataset: Dataset, config: TrainingConfig) -> Any:
    """The model the app would train, compiled by the app (Keras' defaults: one batch a call,
    no XLA), its seed set: plain `fit` starts from the same weights as the app."""
    return Trainer(graph, dataset, config).build_model()


def time_fit(
    graph: LayerGraph,
    dataset: Dataset,
    config: TrainingConfig,
    steps: int = 1,
    xla: bool = False,
    ahead: bool = False,
    lean: bool = False,
) -> float:
    """Plain `fit` of the arrays, with one execution setting changed at most."""
    model = _model(graph, dataset, config)
    apply_plan(model, ExecutionPlan(steps, xla, "benchmark"))
    if lean:
        lean_update(model.optimizer)
    start = time.perf_counter()
    if ahead:
        prebuild(model, {"x": dataset.x_train, "y": dataset.y_train})
    model.fit(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_val, dataset.y_val) if len(dataset.x_val) else None,
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
    )
    return time.perf_counter() - start


class App:
    """The app's Trainer; `fresh` forgets earlier runs' measurements first (a model's first
    run, which estimates its step time)."""

    def __init__(self, memory: Path) -> None:
        self.memory = memory
        self.last: dict[str, Any] = {}
        self.later: dict[str, Any] = {}  # the last run that could use an earlier's measurement

    def time(
        self,
        graph: LayerGraph,
        dataset: Dataset,
        config: TrainingConfig,
        fresh: bool,
        helper: bool = True,
    ) -> float:
        """`helper=False`: without the work done during the first call (`trace_ahead`)."""
        if fresh:
            self.memory.unlink(missing_ok=True)
        model = _model(graph, dataset, config)
        feed: list[Any] = []  # what the GUI receives: every event the trainer emits
        trainer = Trainer(graph, dataset, config, on_event=feed.append)
        start = time.perf_counter()
        with contextlib.nullcontext() if helper else _without_helper():
            result = trainer.run(model)
        elapsed = time.perf_counter() - start
        if result.status != "completed":
            raise RuntimeError(result.message)
        self.last = result.execution
        if not fresh:
            self.later = result.execution
        return elapsed


@contextlib.contextmanager
def _without_helper() -> Any:
    """The trainer as on a machine with no core to spare: no helper thread (`trace_ahead`)."""
    real = trace_ahead.idle_core
    trace_ahead.idle_core = lambda: False
    try:
        yield
    finally:
        trace_ahead.idle_core = real


def benchmark_models(app: App, rounds: int) -> str:
    config = TrainingConfig(epochs=EPOCHS, batch_size=32)
    rows = []
    for label, (graph, dataset) in cases().items():
        time_fit(graph, dataset, config)  # warm-up: TensorFlow's first traces, thread pools
        app.time(graph, dataset, config, fresh=True)
        steps = int(app.last["steps_per_execution"])
        runs = {
            "plain": lambda g=graph, d=dataset: time_fit(g, d, config),
            "app": lambda g=graph, d=dataset: app.time(g, d, config, fresh=True),
            "app again": lambda g=graph, d=dataset: app.time(g, d, config, fresh=False),
            "no helper": lambda g=graph, d=dataset: app.time(g, d, config, True, helper=False),
            "ahead": lambda g=graph, d=dataset: time_fit(g, d, config, ahead=True),
            "lean": lambda g=graph, d=dataset: time_fit(g, d, config, lean=True),
            "steps": lambda g=graph, d=dataset, n=steps: time_fit(g, d, config, steps=n),
            "xla": lambda g=graph, d=dataset: time_fit(g, d, config, xla=True),
        }
        times = alternate(rounds, runs)
        again = app.later
        plain = times["plain"]
        rows.append(
            [
                label,
                Spread(plain).show(),
                f"**{ratios(plain, times['app']).show()}**",
                ratios(plain, times["app again"]).show(),
                ratios(plain, times["no helper"]).show(),
                ratios(plain, times["ahead"]).show(),
                ratios(plain, times["lean"]).show(),
                f"{steps}: {ratios(plain, times['steps']).show()}",
                ratios(plain, times["xla"]).show(),
                f"{again['steps_per_execution']} ({again['chosen_by']})",
            ]
        )
        print(rows[-1], flush=True)
    headers = [
        "model",
        "plain fit (s)",
        "app, first run",
        "app, later run",
        "app, no helper thread",
        "built ahead alone",
        "lean update alone",
        "batches per call alone",
        "XLA alone",
        "app's choice, later run",
    ]
    return table(headers, rows)


def benchmark_templates(app: App, rounds: int) -> str:
    from backend.templates.examples import EXAMPLES

    rows = []
    for name in EXAMPLES:
        project = EXAMPLES[name]()
        dataset = project.load_data()
        config = project.training
        time_fit(project.graph, dataset, config)  # warm-up
        times = alternate(
            rounds,
            {
                "plain": lambda p=project, d=dataset, c=config: time_fit(p.graph, d, c),
                "app": lambda p=project, d=dataset, c=config: app.time(p.graph, d, c, True),
            },
        )
        ratio = ratios(times["plain"], times["app"])
        rows.append(
            [
                name,
                f"{config.epochs} x {dataset.size('train')} ({config.batch_size})",
                Spread(times["plain"]).show(),
                Spread(times["app"]).show(),
                f"**{ratio.show()}**",
                str(app.last.get("steps_per_execution")),
            ]
        )
        print(rows[-1], flush=True)
    headers = [
        "template",
        "epochs x samples (batch)",
        "plain fit (s)",
        "app (s)",
        "ratio plain/app",
        "batches per call",
    ]
    return table(headers, rows)


def main(rounds: int = ROUNDS, parts: tuple[str, ...] = ("models", "templates")) -> None:
    import_keras()
    measurement = Measurement()
    sections = []
    with tempfile.TemporaryDirectory(prefix="deepcanvas-bench-training-") as home:
        os.environ["DEEPCANVAS_HOME"] = home  # the app's memory of step times: its own here
        app = App(Path(home) / "execution.json")
        if "models" in parts:
            sections.append(
                f"Benchmark models, {EPOCHS} epochs, batch 32, {rounds} rounds:\n\n"
                + benchmark_models(app, rounds)
            )
        if "templates" in parts:
            template_rounds = max(1, min(rounds, TEMPLATE_ROUNDS))
            sections.append(
                f"Templates, their own data and settings, {template_rounds} rounds:\n\n"
                + benchmark_templates(app, template_rounds)
            )
    publish(
        "bench_training",
        f"{measurement.stamp()} Median over rounds (min-max); each ratio is plain `fit`'s "
        "time / the other's, per round (samples per second, other / plain).\n\n"
        + "\n\n".join(sections),
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS,
        tuple(sys.argv[2:]) or ("models", "templates"),
    )
