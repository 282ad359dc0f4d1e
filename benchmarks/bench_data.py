"""Big CSV files: time and peak memory to prepare one for training, against the file size.

A CSV of `SIZE_MB` (10 number columns, a text column, a class label) is written once; each
measure then runs in a fresh Python process and reports its peak resident memory (VmHWM) and,
for the preview, the peak of Python and NumPy allocations (`tracemalloc`). Baselines in the
same run: the same process doing nothing with the file (also with Arrow's CSV reader
imported: its code is resident memory the previous reader did not have), reading the file
whole into one string (what "loading it" would cost at the very least), training the same
model on a tiny in-memory table for the same number of batches (TensorFlow's own memory; as
in the app, TensorFlow is imported before the data is loaded), and the previous reader
(Python's `csv` module, the tables' code of commit `PYTHON_CSV_COMMIT`, taken from git)
preparing the same file: "prepare" is the load for streaming (scan + training statistics),
alternating old and new for `ROUNDS` rounds; ratio = old time / new time.

Run: `.venv/bin/python -m benchmarks.bench_data [SIZE_MB] [ROUNDS]`.
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

from benchmarks.report import Measurement, Spread, publish, ratios, table

REPO = Path(__file__).resolve().parent.parent
SIZE_MB = 200
ROUNDS = 3
PYTHON_CSV_COMMIT = "c9dac18"
"""The last commit whose tables were read by Python's csv module (Arrow from 65116db)."""
TRAIN_BATCHES = 200
BATCH_SIZE = 256

_PRELUDE = """
import json, resource, sys, time, tracemalloc
if len(sys.argv) > 2:  # another tree (the previous reader): its backend, not the installed one
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, sys.argv[2])
path = sys.argv[1]
import threading
anon = [0]
def _sample():  # the peak of memory the process allocated (RssAnon), every 2 ms
    while True:
        try:
            text = open("/proc/self/status").read()
            anon[0] = max(anon[0], int(text.split("RssAnon:")[1].split()[0]) * 1024)
        except (OSError, IndexError):
            return
        time.sleep(0.002)
threading.Thread(target=_sample, daemon=True).start()
def report(**extra):
    # VmHWM is this program's own peak: ru_maxrss survives exec, so a child of a big parent
    # (make bench runs the other benchmarks first) would report the parent's size.
    try:
        status = open("/proc/self/status").read().split("VmHWM:")[1]
        peak = int(status.split()[0]) * 1024
    except (OSError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak_rss": peak, "peak_anon": anon[0], **extra}))
"""
MEASURES = {
    "idle": _PRELUDE
    + """
import backend.data.preview, backend.training.trainer
report()
""",
    "idle_arrow": _PRELUDE
    + """
import backend.data.preview, backend.training.trainer
from backend.data.table_cells import import_pyarrow
import_pyarrow()
import pyarrow.csv
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


def measure(name: str, path: Path, tree: Path | None = None) -> dict[str, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    proc = subprocess.run(
        [sys.executable, "-c", MEASURES[name], str(path), *([str(tree)] if tree else [])],
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


def previous_reader(folder: Path) -> Path | None:
    """The backend of `PYTHON_CSV_COMMIT`, extracted from git into `folder` (None without git)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", PYTHON_CSV_COMMIT, "backend"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return folder


def main(size_mb: int = SIZE_MB, rounds: int = ROUNDS) -> None:
    mb = 2**20
    stamp = Measurement()
    with tempfile.TemporaryDirectory(prefix="deepcanvas-bench-data-") as folder:
        path = Path(folder) / "big.csv"
        start = time.perf_counter()
        write_csv(path, size_mb)
        size = path.stat().st_size
        print(f"file: {size / mb:.0f} MB, written in {time.perf_counter() - start:.0f} s")
        old_tree = previous_reader(Path(folder))
        r = {name: measure(name, path) for name in MEASURES if name != "load"}
        prepare: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
        for _ in range(rounds):
            prepare["new"].append(measure("load", path))
            if old_tree is not None:
                prepare["old"].append(measure("load", path, old_tree))
        if old_tree is not None:
            r["train_stream_old"] = measure("train_stream", path, old_tree)
    r["load"] = min(prepare["new"], key=lambda m: m["peak_rss"])
    idle = r["idle"]["peak_rss"]
    rows = [
        ("idle: app modules imported", "idle", ""),
        ("idle, and Arrow's CSV reader imported", "idle_arrow", ""),
        ("read the file whole into a string", "read_whole", ""),
        ("preview (first 100 rows)", "preview", "seconds"),
        ("prepare for streaming: scan + training statistics", "load", "seconds"),
        ("train a tiny in-memory table (TF baseline)", "train_tiny", "seconds"),
        (f"stream the file: prepare + {TRAIN_BATCHES} batches + validation", "train_stream", ""),
        ("the same with the previous reader (Python's csv)", "train_stream_old", ""),
    ]
    lines = []
    for label, key, seconds_key in rows:
        if key not in r:
            continue
        m = r[key]
        above = m["peak_rss"] - idle
        lines.append(
            [
                label,
                f"{m['peak_rss'] / mb:.0f}",
                f"{m['peak_anon'] / mb:.0f}",
                f"{above / mb:.0f}",
                f"{above / size:.3f}",
                f"{m[seconds_key]:.1f}" if seconds_key else "",
            ]
        )
    memory = table(
        [
            "measure",
            "peak RSS (MB)",
            "of it allocated (MB)",
            "RSS above idle (MB)",
            "above idle / file size",
            "seconds",
        ],
        lines,
    )

    def spread(runs: list[dict[str, float]], key: str, scale: float = 1.0, digits: int = 1) -> str:
        return Spread([m[key] / scale for m in runs]).show(digits)

    new_s = [m["seconds"] for m in prepare["new"]]
    old_s = [m["seconds"] for m in prepare["old"]]
    speed = table(
        ["prepare the file", "seconds", "peak RSS (MB)", "of it allocated (MB)"],
        [
            [
                "Arrow (this app)",
                spread(prepare["new"], "seconds"),
                spread(prepare["new"], "peak_rss", mb, 0),
                spread(prepare["new"], "peak_anon", mb, 0),
            ],
            [
                "Python's csv (previous reader)",
                spread(prepare["old"], "seconds"),
                spread(prepare["old"], "peak_rss", mb, 0),
                spread(prepare["old"], "peak_anon", mb, 0),
            ],
            [
                "ratio previous / Arrow",
                f"**{ratios(old_s, new_s).show(1)}**" if old_s else "n/a",
                "",
                "",
            ],
        ],
    )
    stream = r["train_stream"]
    extra = stream["peak_rss"] - r["train_tiny"]["peak_rss"]
    notes = (
        f"Preview: Python/NumPy allocations peaked at {r['preview']['py_peak'] / mb:.2f} MB "
        f"(complete={r['preview']['complete']}). Streaming: {stream['train_rows']:,.0f} "
        f"training rows, streamed={stream['streamed']}, prepared in "
        f"{stream['load_seconds']:.1f} s; peak {extra / mb:.0f} MB above the TensorFlow "
        f"baseline ({extra / size:.3f} x the file)."
    )
    publish(
        "bench_data",
        f"{stamp.stamp()} File: {size / mb:.0f} MB, {rounds} rounds of preparing it "
        f"(median, min-max).\n\n{speed}\n\n{memory}\n\n{notes}",
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else SIZE_MB,
        int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS,
    )
