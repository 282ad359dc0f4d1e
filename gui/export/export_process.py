"""Export a saved model in a process of its own: `python -m gui.export.export_process JOB.json`.

The TFLite converter deadlocked with the GUI thread's garbage collector when it ran on a
QThread (gui/runtime/gc_guard.py), so the window exports those formats here. The window saves
the exact model it shows (a `.keras`, loaded back with `safe_mode`) and the check samples
(`.npz`, never a pickle) into a temporary folder; this process exports and verifies through the
same `backend.exchange.export_formats.export_model` the CLI uses, and prints one JSON line:
the `ExportReport`, or `{"error": message}` with exit status 1. No Qt is imported here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_KEY = "x"


def save_samples(samples: Any, path: Path) -> None:
    """Check samples as arrays in an `.npz`: one array, a list of them, or a dict by name."""
    if samples is None:
        np.savez(path)
    elif isinstance(samples, dict):
        np.savez(path, **{f"name:{k}": np.asarray(v) for k, v in samples.items()})
    elif isinstance(samples, (list, tuple)):
        np.savez(path, **{f"item:{i:04d}": np.asarray(v) for i, v in enumerate(samples)})
    else:
        np.savez(path, **{SAMPLE_KEY: np.asarray(samples)})


def load_samples(path: Path) -> Any:
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.keys())
        if not keys:
            return None
        if keys == [SAMPLE_KEY]:
            return data[SAMPLE_KEY]
        if all(k.startswith("name:") for k in keys):
            return {k.removeprefix("name:"): data[k] for k in keys}
        return [data[k] for k in sorted(keys)]


def write_job(folder: Path, model: Any, samples: Any, source: str, **options: str) -> Path:
    """Save what the process needs (the model, its check samples) and the job's description."""
    from backend.exchange.keras_file import save_keras

    model_path = save_keras(model, folder / "model.keras")
    save_samples(samples, folder / "samples.npz")
    job = {"model": str(model_path), "samples": str(folder / "samples.npz"), "source": source}
    path = folder / "job.json"
    path.write_text(json.dumps({**job, **options}), encoding="utf-8")
    return path


def run(job_path: str) -> dict[str, Any]:
    from backend.exchange.export_formats import export_model
    from backend.exchange.keras_file import load_keras
    from backend.keras_bridge import compiler  # noqa: F401  (registers the app's own layers)

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    model = load_keras(job["model"])
    samples = load_samples(Path(job["samples"]))
    report = export_model(
        model, job["output"], job["format"], job["quantize"], samples, job["source"]
    )
    return dict(report.to_dict())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(json.dumps({"error": "usage: python -m gui.export.export_process JOB.json"}))
        return 2
    try:
        report = run(argv[0])
    except Exception as exc:  # every failure reaches the window as a message
        lines = str(exc).strip().splitlines()
        text = lines[0] if lines else type(exc).__name__
        if not type(exc).__module__.startswith("backend"):
            text = f"{type(exc).__name__}: {text}"
        print(json.dumps({"error": text}), flush=True)
        return 1
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
