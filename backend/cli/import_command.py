"""The headless `import` command: `python main.py import MODEL.keras -o PROJECT.dcproj.json`.

Writes the project and, beside it, `PROJECT.weights.npz` with the model's weights (its current
weights until a training replaces them). The project has no dataset until one is chosen
(`main.py data PROJECT NAME`): no data is guessed for a model. `backend.cli.main` owns the
parser and the exit codes; a bad model file is a one-line error naming the file and the layer.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from backend.document.project import FILE_SUFFIX
from backend.keras_bridge.shapes import ShapeInference
from backend.workflow.session import Workflow

HELP = "open a .keras (or legacy .h5) model as a project, weights kept beside it"


def add_import_command(commands: Any) -> argparse.ArgumentParser:
    """Register `import` on the CLI's subparsers (called by `backend.cli.main.build_parser`)."""
    sub: argparse.ArgumentParser = commands.add_parser("import", help=HELP, description=HELP)
    sub.add_argument("project", metavar="MODEL", help="model file (.keras or .h5)")
    sub.add_argument(
        "-o",
        "--output",
        metavar="PROJECT",
        help=f"project file to write (default: MODEL's name with {FILE_SUFFIX}, beside it)",
    )
    sub.add_argument("--json", action="store_true", help="print one JSON report")
    sub.set_defaults(run=run_import, parser=sub)
    return sub


def run_import(args: argparse.Namespace) -> int:
    model = Path(args.project)
    target = Path(args.output) if args.output else model.with_name(model.stem + FILE_SUFFIX)
    if not target.name.endswith(".json"):
        args.parser.error(f"a project file must end in .json, got {str(target)!r}")
    if target.resolve() == model.resolve():
        args.parser.error("the project file must not overwrite the model")
    start = time.perf_counter()
    project = Workflow.from_model(model, target).project
    shapes = ShapeInference().infer(project.graph)
    errors = [s.error for s in shapes.values() if s.error]
    report = {
        "model": str(model),
        "project": str(target),
        "weights": project.training.initial_weights,
        "layers": len(project.graph.nodes),
        "dataset": None,
        "errors": errors,
        "seconds": round(time.perf_counter() - start, 3),
    }
    if args.json:
        print(json.dumps(report), flush=True)
        return 0
    print(
        f"wrote {target} ({report['layers']} layers) and its weights "
        f"{target.parent / str(project.training.initial_weights)}",
        flush=True,
    )
    print(
        f"no dataset yet: choose one before training or evaluating (main.py data {target} NAME)",
        flush=True,
    )
    for error in errors:
        print(f"warning: {error}", flush=True)
    return 0
