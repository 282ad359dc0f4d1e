"""The headless `predict` command: the model's answer for new samples, with the project's current
weights (after `train`, its run's), as Evaluate and export use them.

`--input` is a table with the training table's feature columns (CSV, TSV, Parquet; the target
column may be absent) for a project trained on a table: its rows are encoded as the training rows
were (the encoding fitted on the training file again); or a `.npy` array of model inputs, for any
single-input project.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from backend.cli.export_command import add_weights_argument, snapshot
from backend.cli.output import print_json, say
from backend.cli.train_command import CommandError
from backend.data import DatasetError
from backend.data.safe_arrays import load_npy
from backend.workflow import model_use
from backend.workflow.model_use import ProjectSnapshot

HELP = "the model's answer for new samples (a table's rows, or a .npy array), current weights"
TABLES = ("csv",)
"""Datasets read from a table: their new rows are encoded as the training rows were."""


def add_predict_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="rows with the training table's feature columns (.csv .tsv .parquet), or a .npy "
        "array of model inputs",
    )
    add_weights_argument(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON report")


def run_predict(args: argparse.Namespace) -> int:
    snap = snapshot(args)
    x, places, classes = _inputs(args, snap)
    built = model_use.build_model(snap)
    if not model_use.fits_inputs(built.model, x):
        wanted = ", ".join(str(tuple(t.shape)) for t in built.model.inputs)
        raise CommandError(
            f"{args.input}: samples of shape {np.shape(x)} do not fit the "
            f"model's input {wanted} (None: any number of samples)"
        )
    outputs = model_use.predict(snap, x, built)
    rows = [_answer(outputs, i, classes) for i in range(len(places))]
    if args.json:
        print_json(
            {
                "project": args.project,
                "input": args.input,
                "weights": snap.weights.describe(),
                "weights_source": snap.weights.source,
                "rows": [{"where": w, **row} for w, row in zip(places, rows, strict=True)],
            }
        )
        return 0
    say(f"{snap.name!r}, weights: {snap.weights.describe()}")
    for where, row in zip(places, rows, strict=True):
        if "class" in row:
            say(f"  {where}: {row['class']} ({row['confidence']:.2f})")
        else:
            say(f"  {where}: {', '.join(f'{v:.4g}' for v in row['values'])}")
    return 0


def _inputs(args: argparse.Namespace, snap: ProjectSnapshot) -> tuple[Any, list[str], list[str]]:
    """(model inputs, where each sample came from, class names or [])."""
    path = Path(args.input)
    if not path.is_file():
        raise CommandError(f"{args.input}: no such file")
    if path.suffix.lower() == ".npy":
        x = _npy_samples(path)
        return x, [f"sample {i}" for i in range(len(x))], []
    choice = snap.dataset
    if choice is None or choice.name not in TABLES:
        what = "no dataset" if choice is None else f"the dataset {choice.name!r}"
        raise CommandError(
            f"{args.input}: the project has {what}, not a table: give a .npy array of inputs"
        )
    from backend.data.base import SplitSettings
    from backend.data.tabular import encode_rows

    split = SplitSettings(choice.val_fraction, choice.test_fraction, choice.seed)
    x, places, classes = encode_rows(choice.params, split, path)
    return x, places, classes


def _npy_samples(path: Path) -> Any:
    """The samples of a `.npy` file (one per row), read without unpickling: finite numbers,
    or text."""
    try:
        x = np.asarray(load_npy(path))  # never code from a file
    except DatasetError as exc:
        raise CommandError(str(exc)) from None
    if x.ndim == 0 or not len(x):
        raise CommandError(f"{path}: holds {x.shape or 'one number'}: give samples, one per row")
    if x.dtype.kind in "US":  # text, for a model with a text input
        return x
    if x.dtype.kind not in "biuf":
        raise CommandError(f"{path}: holds {x.dtype} values, not numbers or text")
    bad = int(np.count_nonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1)))
    if bad:
        raise CommandError(f"{path}: {bad} of {len(x)} samples hold NaN or infinity")
    return x


def _answer(outputs: list[Any], i: int, classes: list[str]) -> dict[str, Any]:
    """One sample's answer: its class and the probabilities (one classifier output with the
    data's classes), else the output's values."""
    if len(outputs) == 1 and classes:
        scores = np.asarray(outputs[0][i], dtype=float).reshape(-1)
        probabilities = (
            np.array([1.0 - scores[0], scores[0]]) if scores.size == 1 else scores
        )  # one sigmoid unit: the second class's probability
        if probabilities.size == len(classes):
            best = int(np.argmax(probabilities))
            return {
                "class": classes[best],
                "confidence": float(probabilities[best]),
                "probabilities": dict(zip(classes, map(float, probabilities), strict=True)),
            }
    values = np.concatenate([np.asarray(o[i], dtype=float).reshape(-1) for o in outputs])
    return {"values": [float(v) for v in values]}
