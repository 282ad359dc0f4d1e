"""The headless `export` and `evaluate` commands, and `train`'s scale-out options.

Both use the project's current weights (`backend.workflow.weights`): after `train`, its run's;
for an imported model, the model's own; else a freshly initialised model with the project's
seed. `--weights FILE` names other weights for one command. Every report says which weights.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.cli.output import print_json, say
from backend.cli.train_command import CommandError
from backend.exchange.export_formats import (
    FORMATS,
    QUANTIZATIONS,
    SCRIPT,
    ExportError,
    check_target,
)
from backend.training.distributed import CONNECT_TIMEOUT_S, STRATEGIES
from backend.workflow import model_use
from backend.workflow.model_use import ProjectSnapshot
from backend.workflow.session import Workflow
from backend.workflow.weights import weights_from_file

EXPORT_CHOICES = (*FORMATS, "python")
"""Every format `export --format` takes; `python` is the script writer of
`backend.exchange.codegen`."""


# ----------------------------------------------------------------- arguments
def add_export_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        metavar="FORMAT",
        help=f"one of {', '.join(EXPORT_CHOICES)} (default: from OUT's suffix, .keras .tflite "
        ".onnx .py; none: savedmodel, a folder)",
    )
    sub.add_argument("-o", "--output", required=True, metavar="OUT", help="file or folder to write")
    sub.add_argument(
        "--quantize",
        default="none",
        choices=list(QUANTIZATIONS),
        help="TFLite only: dynamic (int8 weights) or float16 (default none)",
    )
    add_weights_argument(sub)
    sub.add_argument("--json", action="store_true", help="print the export report as JSON")


def add_evaluate_arguments(sub: argparse.ArgumentParser) -> None:
    add_weights_argument(sub)
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
        type=_seconds,
        default=CONNECT_TIMEOUT_S,
        metavar="S",
        help=f"multiworker: seconds to wait for every worker (default {CONNECT_TIMEOUT_S:g})",
    )
    sub.add_argument(
        "--weights-out",
        metavar="FILE",
        help="also write the trained weights to FILE (.weights.npz)",
    )


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (`nan` or `inf` would wait forever or never)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def add_weights_argument(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--weights",
        metavar="FILE",
        help="other weights (.weights.npz) for this command; default: the project's current "
        "weights (the last training's, an imported model's, else untrained). They must fit "
        "the whole model",
    )
    sub.add_argument(
        "--partial-weights",
        action="store_true",
        help="with --weights: set only the layers they fit, leave the others untrained (and say "
        "which)",
    )


def snapshot(args: argparse.Namespace) -> ProjectSnapshot:
    """The project as the command sees it: its current weights, or `--weights FILE`."""
    workflow = Workflow.open(args.project)
    snap = workflow.snapshot()
    if args.weights:
        seed = int(workflow.project.training.seed)
        weights = weights_from_file(args.weights, seed, partial=args.partial_weights)
        snap = replace(snap, weights=weights, model=None)
    return snap


# ----------------------------------------------------------------- export
def run_export(args: argparse.Namespace) -> int:
    fmt = str(args.format) if args.format else format_of(args)
    if fmt not in EXPORT_CHOICES:
        args.parser.error(
            f"unsupported format {args.format!r}; supported formats: {', '.join(EXPORT_CHOICES)}"
        )
    try:  # a bad or precious target is refused before any work (never the project itself)
        check_target(fmt, args.output, args.quantize, keep=(args.project,))
    except ExportError as exc:
        args.parser.error(str(exc))
    if fmt == "python":
        return _export_python(args)
    exported = model_use.export(snapshot(args), fmt, args.output, args.quantize)
    if args.json:
        print_json(exported.to_dict())
    else:
        say(exported.summary())
    return 0


def format_of(args: argparse.Namespace) -> str:
    """The format OUT's suffix names (as the export dialog's file name does); no suffix: a
    SavedModel folder."""
    suffix = Path(args.output).suffix.lower()
    formats = {spec.suffix: name for name, spec in FORMATS.items() if spec.suffix}
    formats[SCRIPT.suffix] = SCRIPT.name
    if suffix in formats:
        return formats[suffix]
    if not suffix:
        return "savedmodel"
    args.parser.error(
        f"cannot tell the format of {args.output} from its suffix: name it .keras, .tflite, "
        ".onnx or .py (no suffix: a SavedModel folder), or give --format"
    )
    raise AssertionError("unreachable")  # parser.error exits


def _export_python(args: argparse.Namespace) -> int:
    """`--format python`: a Keras script whose model loads the weights `export` would use."""
    from backend.exchange import codegen

    workflow = Workflow.open(args.project)
    weights = args.weights if args.weights else _script_weights(workflow)
    try:
        path = codegen.write_script(workflow.project, args.output, weights)
    except codegen.CodegenError as exc:
        raise CommandError(f"{args.output}: cannot write the script: {exc}") from exc
    note = f"from {weights}" if args.weights else workflow.weights.describe()
    say(f"wrote {path} (Python script); weights: {note}")
    return 0


def _script_weights(workflow: Workflow) -> Any:
    state = workflow.weights
    return state.path if state.trained else None


# ----------------------------------------------------------------- evaluate
def run_evaluate(args: argparse.Namespace) -> int:
    from backend.evaluation.evaluate import EvaluationError

    snap = snapshot(args)
    try:
        evaluation = model_use.evaluate(snap)
    except EvaluationError as exc:
        raise CommandError(f"{args.project}: cannot evaluate: {exc}") from exc
    report, dataset = evaluation.report, evaluation.dataset
    data: dict[str, Any] = {
        "project": args.project,
        "dataset": dataset.name,
        "samples": report.size,
        "weights": evaluation.built.note,
        "weights_source": snap.weights.source,
        "run": snap.weights.run.id if snap.weights.run is not None else None,
        "metrics": dict(report.metrics),
        "notes": report.notes,
    }
    for head in report.heads:  # one output: its measures under their own names, once
        prefix = f"{head.name}/" if len(report.heads) > 1 else ""
        measures: dict[str, float] = {}
        if head.classification is not None:
            measures["accuracy"] = head.classification.accuracy
        if head.regression is not None:
            measures.update(
                mae=head.regression.mae, rmse=head.regression.rmse, r2=head.regression.r2
            )
        for name, value in measures.items():
            data["metrics"].setdefault(prefix + name, value)
    if args.json:
        print_json(data)
        return 0
    say(f"{snap.name!r} on the test split of {dataset.name}: {report.size:,} samples")
    say(f"weights: {evaluation.built.note}")
    for key, value in data["metrics"].items():
        say(f"  {key:<24} {value:.4f}")
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
