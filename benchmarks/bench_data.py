"""Big CSV files: peak memory when previewing and when starting to train, against the file size.

A CSV of `SIZE_MB` (10 number columns, a text column, a class label) is written once; each
measure then runs in a fresh Python process and reports its peak resident memory
(`ru_maxrss`) and, for the preview, the peak of Python and NumPy allocations (`tracemalloc`).
Baselines in the same run: the same process doing nothing with the file, reading the file whole
into one string (what "loading it" would cost at the very least), and training the same model
on a tiny in-memory table for the same number of batches (TensorFlow's own memory; as in the
app, TensorFlow is imported before the data is loaded).

Run: `.venv/bin/python -m benchmarks.bench_data [SIZE_MB]`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SIZE_MB = 200
TRAIN_BATCHES = 200
BATCH_SIZE = 256

_PRELUDE = """
import json, resource, sys, time, tracemalloc
path = sys.argv[1]
def report(**extra):
    # VmHWM is this program's own peak: ru_maxrss survives exec, so a child of a big parent
    # (make bench runs the other benchmarks first) would report the parent's size.
    try:
        status = open("/proc/self/status").read().split("VmHWM:")[1]
        peak = int(status.split()[0]) * 1024
    except (OSError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak_rss": peak, **extra}))
"""
MEASURES = {
    "idle": _PRELUDE
    + """
import backend.data.preview, backend.training.trainer
report()
""",
    "read_whole": _PRELUDE
    + """
import backend.data.preview
text = open(path, encoding="utf-8").read()
report(chars=len(text))
""",
    "preview": _PRELUDE
    + """
import backend.data.preview as p
tracemalloc.start()
start = time.perf_counter()
preview = p.preview_dataset("csv", {"path": path}, rows=100)
seconds = time.perf_counter() - start
report(py_peak=tracemalloc.get_traced_memory()[1], seconds=seconds, rows=len(preview.rows),
       complete=preview.complete)
""",
    "load": _PRELUDE
    + """
from backend.data import load_dataset
start = time.perf_counter()
data = load_dataset("csv", {"path": path})
seconds = time.perf_counter() - start
report(seconds=seconds, rows=sum(data.size(s) for s in ("train", "val", "test")))
""",
    "train_tiny": _PRELUDE
    + """
import numpy as np
from backend.keras_env import import_tensorflow
import_tensorflow()  # as in the app, where TensorFlow loads at start-up
from benchmarks.bench_data import run_batches
from backend.data import Dataset
rng = np.random.default_rng(0)
x = rng.normal(size=(4096, 14)).astype("float32"); y = rng.integers(0, 2, 4096)
data = Dataset("tiny", "classification", x, y, x[:512], y[:512], x[:0], y[:0], ["0", "1"])
seconds = run_batches(data)
report(seconds=seconds)
""",
    "train_stream": _PRELUDE
    + """
from benchmarks.bench_data import run_batches
from backend.data import load_dataset
from backend.keras_env import import_tensorflow
import_tensorflow()  # as in the app, where TensorFlow loads at start-up
start = time.perf_counter()
data = load_dataset("csv", {"path": path})
loaded = time.perf_counter() - start
seconds = run_batches(data)
report(load_seconds=loaded, seconds=seconds, streamed=data.stream is not None,
       train_rows=data.train_size)
""",
}


def write_csv(path: Path, size_mb: int) -> None:
    rng = np.random.default_rng(0)
    cities = np.array(["paris", "lyon", "nice", "lille", "nantes"])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join([f"f{i}" for i in range(10)] + ["city", "label"]) + "\n")
        while handle.tell() < size_mb * 2**20:
            x = rng.normal(size=(20_000, 10))
            city = rng.choice(cities, len(x))
            label = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
            body = "\n".join(
                ",".join(f"{v:.5f}" for v in row) + f",{c},{lab}"
                for row, c, lab in zip(x, city, label, strict=True)
            )
            handle.write(body + "\n")


def run_batches(data: Any, batches: int = TRAIN_BATCHES) -> float:
    """Train a small MLP on `data` until `batches` batches have run; the seconds it took."""
    from backend.document.graph import LayerGraph
    from backend.document.training_config import TrainingConfig
    from backend.training.trainer import BatchEnd, Trainer

    graph = LayerGraph()
    width = int(data.input_shape[0])
    ids = [
        graph.add_node("Input", {"shape": [width]}).id,
        graph.add_node("Dense", {"units": 64, "activation": "relu"}).id,
        graph.add_node("Dense", {"units": 1, "activation": "sigmoid"}).id,
    ]
    graph.connect(ids[0], ids[1])
    graph.connect(ids[1], ids[2])
    seen = [0]
    trainer: Trainer | None = None

    def on_event(event: object) -> None:
        if isinstance(event, BatchEnd):
            seen[0] = event.epoch * event.steps_per_epoch + event.step + 1
            if seen[0] >= batches and trainer is not None:
                trainer.request_stop()

    config = TrainingConfig(epochs=1000, batch_size=BATCH_SIZE)
    trainer = Trainer(graph, data, config, on_event=on_event, batch_interval_s=0.0)
    start = time.perf_counter()
    result = trainer.run()
    if result.status == "failed":
        raise RuntimeError(result.message)
    return time.perf_counter() - start


def measure(name: str, path: Path) -> dict[str, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    proc = subprocess.run(
        [sys.executable, "-c", MEASURES[name], str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(size_mb: int = SIZE_MB) -> None:
    mb = 2**20
    with tempfile.TemporaryDirectory(prefix="deepcanvas-bench-data-") as folder:
        path = Path(folder) / "big.csv"
        start = time.perf_counter()
        write_csv(path, size_mb)
        size = path.stat().st_size
        print(f"file: {size / mb:.0f} MB, written in {time.perf_counter() - start:.0f} s")
        r = {name: measure(name, path) for name in MEASURES}
    idle = r["idle"]["peak_rss"]
    print("| measure | peak RSS (MB) | above idle (MB) | above idle / file size | seconds |")
    print("|---|---|---|---|---|")
    rows = [
        ("idle: app modules imported", "idle", ""),
        ("read the file whole into a string", "read_whole", ""),
        ("preview (first 100 rows)", "preview", "seconds"),
        ("load for streaming: scan + training statistics", "load", "seconds"),
        ("train a tiny in-memory table (TF baseline)", "train_tiny", "seconds"),
        (
            f"stream the file: load + {TRAIN_BATCHES} batches + validation",
            "train_stream",
            "seconds",
        ),
    ]
    for label, key, seconds_key in rows:
        peak = r[key]["peak_rss"]
        seconds = f"{r[key][seconds_key]:.1f}" if seconds_key else ""
        above = peak - idle
        print(f"| {label} | {peak / mb:.0f} | {above / mb:.0f} | {above / size:.3f} | {seconds} |")
    print(
        f"\npreview: Python/NumPy allocations peaked at {r['preview']['py_peak'] / mb:.2f} MB; "
        f"complete={r['preview']['complete']}"
    )
    stream = r["train_stream"]
    extra = stream["peak_rss"] - r["train_tiny"]["peak_rss"]
    print(
        f"streaming: {stream['train_rows']:,.0f} training rows, streamed={stream['streamed']}, "
        f"scan + statistics passes {stream['load_seconds']:.0f} s; peak above the TF baseline "
        f"{extra / mb:.0f} MB = {extra / size:.3f} x the file"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else SIZE_MB)
