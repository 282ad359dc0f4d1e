"""Shape inference and compile for graphs of 10, 100 and 1,000 nodes, against plain Keras.

Baseline: building the same functional model directly with Keras (keras.Input and symbolic
layer calls), in the same process. DeepCanvas' inference uses compute_output_spec and creates
no weights, so it should stay below that baseline and grow linearly; after one edit it
re-infers only what lies downstream.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from backend.document.graph import LayerGraph
from backend.keras_bridge.compiler import compile_graph, deep_graph_recursion
from backend.keras_bridge.shapes import ShapeInference
from backend.keras_env import import_keras
from benchmarks.report import Measurement, Spread, alternate, publish, ratios, table

SIZES = (10, 100, 1000)


def residual_mlp(n_nodes: int, width: int = 32) -> LayerGraph:
    """Input, then blocks of Dense + Add(skip) until the graph has about `n_nodes` nodes."""
    graph = LayerGraph()
    prev = graph.add_node("Input", {"shape": [width]}).id
    while len(graph.nodes) + 2 <= n_nodes:
        dense = graph.add_node("Dense", {"units": width, "activation": "relu"}).id
        add = graph.add_node("Add").id
        graph.connect(prev, dense)
        graph.connect(dense, add)
        graph.connect(prev, add)
        prev = add
    return graph


def plain_keras(n_nodes: int, width: int = 32) -> Any:
    keras = import_keras()
    x = inp = keras.Input((width,))
    count = 1
    while count + 2 <= n_nodes:
        x = keras.layers.Add()([keras.layers.Dense(width, activation="relu")(x), x])
        count += 2
    with deep_graph_recursion(n_nodes):  # Keras' own map_graph recurses once per layer
        return keras.Model(inp, x)


def best(fn: Callable[[], Any], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(rounds: int = 3) -> None:
    measurement = Measurement()
    plain_keras(10)  # warm-up imports and tracing
    rows = []
    for n in SIZES:
        graph = residual_mlp(n)
        times = alternate(
            rounds,
            {
                "plain": lambda n=n: _timed(lambda: plain_keras(n)),
                "cold": lambda graph=graph: _timed(lambda: ShapeInference().infer(graph)),
            },
        )
        compile_ms = best(lambda graph=graph: compile_graph(graph), repeats=1)
        inference = ShapeInference()
        inference.infer(graph)
        middle = [nid for nid, node in graph.nodes.items() if node.layer_type == "Dense"]
        target = middle[len(middle) // 2]
        edits = []
        for units in (31, 32, 31):
            graph.set_params(target, {"units": units})
            edits.append(best(lambda g=graph, i=inference: i.infer(g), repeats=1))
            # setting units back and forth: the last pass recomputes the same downstream part
        rows.append(
            [
                len(graph.nodes),
                Spread([t * 1e3 for t in times["plain"]]).show(0),
                Spread([t * 1e3 for t in times["cold"]]).show(0),
                f"**{ratios(times['plain'], times['cold']).show(1)}x faster**",
                f"{compile_ms * 1e3:.0f}",
                f"{statistics.median(edits) * 1e3:.0f}",
                len(inference.recomputed),
            ]
        )
        print(rows[-1], flush=True)
    headers = [
        "nodes",
        "plain Keras build (ms)",
        "inference, cold (ms)",
        "ratio",
        "compile (ms)",
        "re-infer after 1 edit (ms)",
        "nodes recomputed",
    ]
    publish(
        "bench_graph",
        f"{measurement.stamp()} Median of {rounds} (min-max), alternating.\n\n"
        + table(headers, rows),
    )


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
