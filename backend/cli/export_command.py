"""The headless `export` and `evaluate` commands, and `train`'s scale-out options.

`backend.cli.main` owns the parser and the exit codes; this module adds the arguments and runs the
commands. Models get the project's stored weights (`training.initial_weights`, see
`backend.keras_bridge.weights`) or those of `--weights FILE`; without any, they are freshly
initialised with the project's seed and the output says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.cli.output import print_json as _print_json
from backend.cli.output import say as _say
from backend.document.project import Project, load_project
from backend.document.training_config import TrainingConfig
from backend.exchange.export_formats import (
    FORMATS,
    QUANTIZATIONS,
    ExportError,
    check_target,
    export_model,
)
from backend.keras_bridge.weights import apply_weights, load_weights, resolve, save_weights
from backend.keras_env import import_keras
from backend.training.distributed import CONNECT_TIMEOUT_S, STRATEGIES


class CommandError(ValueError):
    """An expected failure of a command, its message starting with the file it concerns."""


EXPORT_CHOICES = (*FORMATS, "python")
"""Every format `export --format` takes; `python` is the script writer of
`backend.exchange.codegen`."""


# ----------------------------------------------------------------- arguments
def add_export_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        default="keras",
        metavar="FORMAT",
        help=f"one of {', '.join(EXPORT_CHOICES)} (default keras); savedmodel writes a folder",
    )
    sub.add_argument("-o", "--output", required=True, metavar="OUT", help="file or folder to write")
    sub.add_argument(
        "--quantize",
        default="none",
        choices=list(QUANTIZATIONS),
        help="TFLite only: dynamic (int8 weights) or float16 (default none)",
    )
    _add_weights_argument(sub)
    sub.add_argument("--json", action="store_true", help="print the export report as JSON")


def add_evaluate_arguments(sub: argparse.ArgumentParser) -> None:
    _add_weights_argument(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON report")


def add_train_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--strategy",
        default="default",
        choices=list(STRATEGIES),
        help="default: one device; mirrored: all local GPUs; multiworker: the machines of "
        "TF_CONFIG (run the same command on each). The batch size is the global one",
    )
    sub.add_argument(
        "--device", metavar="DEV", help="cpu, gpu:0 (mirrored: a list, e.g. gpu:0,gpu:1)"
    )
    sub.add_argument(
        "--connect-timeout",
        type=float,
        default=CONNECT_TIMEOUT_S,
        metavar="S",
        help=f"multiworker: seconds to wait for every worker (default {CONNECT_TIMEOUT_S:g})",
    )
    sub.add_argument(
        "--weights-out",
        metavar="FILE",
        help="write the trained weights to FILE (.weights.npz), for evaluate/export --weights",
    )


def _add_weights_argument(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--weights",
        metavar="FILE",
        help="trained weights (.weights.npz, e.g. from train --weights-out); default: the "
        "project's own, if it has any",
    )


# ----------------------------------------------------------------- export
def run_export(args: argparse.Namespace) -> int:
    fmt = str(args.format)
    if fmt not in EXPORT_CHOICES:
        args.parser.error(
            f"unsupported format {args.format!r}; supported formats: {', '.join(EXPORT_CHOICES)}"
        )
    if fmt == "python":
        return _export_python(args)
    try:
        target = check_target(fmt, args.output, args.quantize)
    except ExportError as exc:
        args.parser.error(str(exc))
    project = load_project(args.project)
    model, weights_note = build_model(project, args.weights)
    samples, source = _check_samples(project)
    report = export_model(model, target, fmt, args.quantize, samples, source)
    if args.json:
        _print_json({**report.to_dict(), "weights": weights_note})
    else:
        _say(f"{report.summary()}; weights: {weights_note}")
    return 0


def _export_python(args: argparse.Namespace) -> int:
    """`--format python`: the script writer `backend.exchange.codegen.write_script(project,
    path)`."""
    try:
        from backend.exchange import codegen
    except ImportError:
        raise ExportError(
            f"{args.output}: the Python script export is not available in this version"
        ) from None
    project = load_project(args.project)
    try:
        path = codegen.write_script(project, args.output)
    except codegen.CodegenError as exc:
        raise CommandError(f"{args.output}: cannot write the script: {exc}") from exc
    _say(f"wrote {path} (Python script)")
    return 0


def build_model(project: Project, weights: str | None) -> tuple[Any, str]:
    """The project's compiled model with trained weights when there are any, and a note."""
    from backend.keras_bridge.compiler import compile_graph

    keras = import_keras()
    keras.utils.set_random_seed(project.training.seed)
    model = compile_graph(project.graph)
    path = Path(weights) if weights else resolve(project.training, project.path)
    if path is None:
        return model, f"untrained (freshly initialised, seed {project.training.seed})"
    skipped = apply_weights(model, load_weights(path))
    note = f"from {path}"
    if skipped:
        note += f" (left untrained, the graph changed: {', '.join(skipped)})"
    return model, note


def _check_samples(project: Project) -> tuple[Any, str]:
    from backend.exchange.export_verify import project_samples

    return project_samples(project)


# ----------------------------------------------------------------- evaluate
def run_evaluate(args: argparse.Namespace) -> int:
    from backend.evaluation.evaluate import EvaluationError, evaluate
    from backend.exchange.export_verify import load_project_dataset
    from backend.training.trainer import Trainer

    project = load_project(args.project)
    dataset = load_project_dataset(project)
    config = _with_weights(project, args.weights)
    model = Trainer(project.graph, dataset, config).build_model()
    try:
        report = evaluate(model, dataset)
    except EvaluationError as exc:
        raise CommandError(f"{args.project}: cannot evaluate: {exc}") from exc
    weights = config.initial_weights or f"untrained (seed {project.training.seed})"
    data: dict[str, Any] = {
        "project": args.project,
        "dataset": dataset.name,
        "samples": report.size,
        "weights": weights,
        "metrics": report.metrics,
        "notes": report.notes,
    }
    for head in report.heads:
        if head.classification is not None:
            data["metrics"][f"{head.name}/accuracy"] = head.classification.accuracy
        if head.regression is not None:
            data["metrics"][f"{head.name}/mae"] = head.regression.mae
            data["metrics"][f"{head.name}/rmse"] = head.regression.rmse
            data["metrics"][f"{head.name}/r2"] = head.regression.r2
    if args.json:
        _print_json(data)
        return 0
    _say(f"{project.name!r} on the test split of {dataset.name}: {report.size:,} samples")
    _say(f"weights: {weights}")
    for key, value in data["metrics"].items():
        _say(f"  {key:<24} {value:.4f}")
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _with_weights(project: Project, weights: str | None) -> TrainingConfig:
    path = Path(weights) if weights else resolve(project.training, project.path)
    return replace(project.training, initial_weights=str(path.resolve()) if path else None)


# ----------------------------------------------------------------- train
def training_config(project: Project, epochs: int | None) -> TrainingConfig:
    """The project's settings with stored weights made absolute (runs from any folder)."""
    config = _with_weights(project, None)
    return replace(config, epochs=epochs) if epochs is not None else config


def check_weights_out(args: argparse.Namespace) -> None:
    """Refuse a `--weights-out` that cannot be written before training, not after it."""
    out = getattr(args, "weights_out", None)
    if out is None:
        return
    if not out.endswith(".weights.npz"):
        args.parser.error(f"--weights-out must end in .weights.npz, got {out!r}")
    folder = Path(out).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ExportError(f"{out}: cannot be written (no writable folder {folder})")


def write_weights(model: Any, path: str, as_json: bool) -> None:
    from backend.keras_bridge.weights import collect_weights

    save_weights(collect_weights(model), path)
    if as_json:
        _print_json({"event": "weights_written", "path": path})
    else:
        _say(f"wrote the trained weights to {path}")


# ----------------------------------------------------------------- output
