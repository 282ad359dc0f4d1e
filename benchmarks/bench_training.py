"""Training throughput: the app's Trainer (callback + event feed) against a plain `model.fit`.

Both train the same compiled architecture on the same data in the same process, alternating,
after a warm-up; the ratio is plain time / app time (1.0 = no overhead, target >= 0.97).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from backend.data import Dataset
from backend.document.graph import LayerGraph
from backend.document.training_config import TrainingConfig
from backend.keras_bridge.compiler import compile_graph
from backend.keras_env import import_keras
from backend.training.trainer import Trainer, resolve_loss

REPEATS = 3


def _chain(specs: list[tuple[str, dict[str, Any]]]) -> LayerGraph:
    graph = LayerGraph()
    prev = None
    for layer_type, params in specs:
        node = graph.add_node(layer_type, params)
        if prev is not None:
            graph.connect(prev, node.id)
        prev = node.id
    return graph


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
    mlp = _chain(
        [
            ("Input", {"shape": [32]}),
            ("Dense", {"units": 128, "activation": "relu"}),
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dense", {"units": 10, "activation": "softmax"}),
        ]
    )
    cnn = _chain(
        [
            ("Input", {"shape": [16, 16, 1]}),
            ("Conv2D", {"filters": 16, "kernel_size": [3, 3], "activation": "relu"}),
            ("MaxPooling2D", {}),
            ("Flatten", {}),
            ("Dense", {"units": 10, "activation": "softmax"}),
        ]
    )
    lstm = _chain(
        [
            ("Input", {"shape": [20, 8]}),
            ("LSTM", {"units": 32}),
            ("Dense", {"units": 4, "activation": "softmax"}),
        ]
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


def _compiled(graph: LayerGraph, dataset: Dataset, config: TrainingConfig) -> Any:
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = compile_graph(graph)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=resolve_loss(config, dataset, int(model.outputs[0].shape[-1])),
        metrics=["accuracy"],
    )
    return model


def time_plain(graph: LayerGraph, dataset: Dataset, config: TrainingConfig) -> float:
    model = _compiled(graph, dataset, config)
    start = time.perf_counter()
    model.fit(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_val, dataset.y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
    )
    return time.perf_counter() - start


def time_app(graph: LayerGraph, dataset: Dataset, config: TrainingConfig) -> float:
    model = _compiled(graph, dataset, config)
    feed: list[Any] = []  # what the GUI receives: every event the trainer emits
    trainer = Trainer(graph, dataset, config, on_event=feed.append)
    start = time.perf_counter()
    result = trainer.run(model)
    elapsed = time.perf_counter() - start
    assert result.status == "completed", result.message
    return elapsed


def main() -> None:
    config = TrainingConfig(epochs=2, batch_size=32)
    print("| model | plain fit (s) | app trainer (s) | ratio plain/app |")
    print("|---|---|---|---|")
    for label, (graph, dataset) in cases().items():
        time_plain(graph, dataset, config)  # warm-up: tracing, allocator, thread pools
        plain, app = [], []
        for i in range(REPEATS * 2):  # alternate which goes first, against order effects
            if i % 2:
                app.append(time_app(graph, dataset, config))
                plain.append(time_plain(graph, dataset, config))
            else:
                plain.append(time_plain(graph, dataset, config))
                app.append(time_app(graph, dataset, config))
        p, a = statistics.median(plain), statistics.median(app)
        print(f"| {label} | {p:.2f} | {a:.2f} | {p / a:.3f} |", flush=True)


if __name__ == "__main__":
    main()
