"""Headless commands: train, validate, summarise and export a project from a terminal.

`python main.py COMMAND ...` lands in `main` when COMMAND is a key of `COMMANDS`. Nothing here
imports Qt, and Keras is imported only by the commands that need it, so `--help` answers at
once. Exit status: 0 done; 1 the project, its graph, its dataset, a file or the training failed
(one line on stderr naming the file); 2 a usage error; 130 training stopped by Ctrl+C.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from types import FrameType
from typing import Any

from backend.cli import export_command as cli_export
from backend.cli import import_command as cli_import
from backend.cli.output import print_json as _print_json
from backend.cli.output import say as _say
from backend.data import Dataset, DatasetError
from backend.document.graph import CycleError, LayerGraph, Node
from backend.document.project import Project, ProjectError, load_project, save_project
from backend.document.training_config import TrainingConfig
from backend.exchange.keras_file import ModelFileError
from backend.keras_bridge.compiler import CompileError, Problem, compile_graph, validate
from backend.keras_bridge.shapes import NodeShape, ShapeInference, format_shape
from backend.keras_bridge.weights import WeightsError
from backend.training.distributed import DistributedError, make_trainer
from backend.training.recording import RunClock, record_run
from backend.training.trainer import (
    BatchEnd,
    EpochEnd,
    TrainAlert,
    TrainBegin,
    TrainEnd,
    Trainer,
    TrainingEvent,
    TrainResult,
)

COMMANDS: dict[str, str] = {
    "train": "train a project on its dataset, one progress line per epoch",
    "validate": "infer every layer's output shape and report the graph's errors",
    "summary": "list the layers with their output shapes and the model's parameter count",
    "export": "write the model as keras, savedmodel, tflite, onnx or python, verified",
    "evaluate": "the model's metrics on the project's test split",
    "import": cli_import.HELP,
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STOPPED = 130

_MAX_MESSAGE = 500
_EVENT_NAMES: dict[type, str] = {
    TrainBegin: "train_begin",
    BatchEnd: "batch_end",
    EpochEnd: "epoch_end",
    TrainAlert: "alert",
    TrainEnd: "train_end",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (`argv[0]`), returning the exit status; bad input never raises."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # --help, or a usage error argparse already explained
        return _exit_status(exc)
    try:
        command: Callable[[argparse.Namespace], int] = args.run
        return command(args)
    except SystemExit as exc:  # a usage error found by a command (`args.parser.error`)
        return _exit_status(exc)
    except Exception as exc:
        message = _failure_message(exc, args.project)
        if message is None:
            raise  # a bug, not bad input: keep the traceback
        _print_error(args, message)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="DeepCanvas headless commands: no display, no Qt.",
        epilog="Exit status: 0 done, 1 failed, 2 usage error, 130 training stopped (Ctrl+C).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=COMMANDS[name], description=COMMANDS[name])
        sub.add_argument("project", metavar="PROJECT", help="project file (.dcproj.json)")
        sub.set_defaults(run=run, parser=sub)
        return sub

    train = add("train", _train)
    train.add_argument("--epochs", type=_positive_int, help="override the project's epochs")
    train.add_argument("--json", action="store_true", help="print one JSON object per event")
    cli_export.add_train_arguments(train)
    train.add_argument(
        "--no-record", action="store_true", help="do not record the run in the project file"
    )
    validate_cmd = add("validate", _validate)
    validate_cmd.add_argument("--json", action="store_true", help="print one JSON report")
    add("summary", _summary)
    cli_export.add_export_arguments(add("export", cli_export.run_export))
    cli_export.add_evaluate_arguments(add("evaluate", cli_export.run_evaluate))
    cli_import.add_import_command(commands)
    return parser


# ----------------------------------------------------------------- validate
def _validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    graph = project.graph
    shapes = ShapeInference().infer(graph)
    problems = validate(graph, shapes)
    failed = any(p.severity == "error" for p in problems)
    if args.json:
        _print_json(_validation_report(args.project, graph, shapes, problems))
        return EXIT_FAILED if failed else EXIT_OK
    _say(f"{args.project}: {project.name!r}, {_count(len(graph.nodes), 'layer')}")
    rows = [
        (node.name, node.layer_type, _shape_cell(shapes.get(nid)))
        for nid, node in _ordered_nodes(graph)
    ]
    _print_table(("name", "type", "output shape"), rows)
    for problem in problems:
        print(f"{problem.severity}: {_describe(problem, graph)}", file=sys.stderr)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if failed:
        _say(f"invalid: {_count(errors, 'error')}, {_count(warnings, 'warning')}")
    else:
        _say(f"ok: no errors, {_count(warnings, 'warning')}")
    return EXIT_FAILED if failed else EXIT_OK


def _validation_report(
    path: str, graph: LayerGraph, shapes: dict[str, NodeShape], problems: list[Problem]
) -> dict[str, Any]:
    nodes = []
    for nid, node in _ordered_nodes(graph):
        result = shapes.get(nid, NodeShape(blocked=True))
        entry: dict[str, Any] = {
            "id": nid,
            "name": node.name,
            "type": node.layer_type,
            "shape": list(result.shape) if result.shape is not None else None,
            "dtype": result.dtype if result.ok else None,
            "error": result.error,
            "blocked": result.blocked,
        }
        if result.output_count > 1:  # a layer returning several tensors: each output's shape
            ports = [result.port(i) for i in range(result.output_count)]
            entry["output_shapes"] = [list(p.shape) for p in ports if p and p.shape]
        nodes.append(entry)
    return {
        "project": path,
        "ok": not any(p.severity == "error" for p in problems),
        "nodes": nodes,
        "problems": [
            {
                "severity": p.severity,
                "message": p.message,
                "node_id": p.node_id,
                "node_name": graph.nodes[p.node_id].name if p.node_id in graph.nodes else None,
            }
            for p in problems
        ],
    }


def _shape_cell(result: NodeShape | None) -> str:
    if result is None or result.blocked:
        return "- (an input has no shape)"
    if result.error:
        return "error (see below)"
    ports = [result.port(i) for i in range(result.output_count)]
    return " | ".join(format_shape(p.shape if p else None) for p in ports)


def _describe(problem: Problem, graph: LayerGraph) -> str:
    """The problem's message, with its node's type and name when the message lacks them."""
    node = graph.nodes.get(problem.node_id) if problem.node_id else None
    if node is None or f"'{node.name}'" in problem.message:
        return problem.message
    return f"{node.layer_type} '{node.name}': {problem.message}"


# ----------------------------------------------------------------- summary
def _summary(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    graph = project.graph
    shapes = ShapeInference().infer(graph)
    model = compile_graph(graph, shapes)
    rows = []
    for nid, node in _ordered_nodes(graph):
        params = _layer_params(model, node.name)
        rows.append(
            (
                node.name,
                node.layer_type,
                _shape_cell(shapes.get(nid)),
                f"{params:,}" if params is not None else "unused",
            )
        )
    _say(f"{project.name!r} ({args.project})")
    _print_table(("name", "type", "output shape", "params"), rows)
    total = int(model.count_params())
    trainable = sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights)
    _say(f"total params: {total:,} (trainable {trainable:,}, non-trainable {total - trainable:,})")
    return EXIT_OK


def _layer_params(model: Any, name: str) -> int | None:
    try:
        layer = model.get_layer(name)
    except ValueError:  # the node does not reach an output, so it is not in the model
        return None
    return int(layer.count_params())


# ----------------------------------------------------------------- train
def _train(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    cli_export.check_weights_out(args)
    dataset = _load_project_dataset(project)
    config = cli_export.training_config(project, args.epochs)
    report: Callable[[TrainingEvent], None] = (
        _json_event if args.json else _TextProgress(project, dataset)
    )
    trainer = make_trainer(
        project.graph, dataset, config, report, args.strategy, args.device, args.connect_timeout
    )
    clock = RunClock.start()
    with _stop_on_interrupt(trainer):
        result = trainer.run()
    if not args.no_record:
        _record_run(args, project, result, clock, config)
    if result.status == "completed":
        if args.weights_out:
            cli_export.write_weights(result.model, args.weights_out, args.json)
        return EXIT_OK
    if result.status == "stopped":
        return EXIT_STOPPED
    node = project.graph.nodes.get(result.node_id) if result.node_id else None
    where = ""
    if node is not None and f"'{node.name}'" not in result.message:
        where = f" ({node.layer_type} '{node.name}')"
    _print_error(args, f"{args.project}: training failed{where}: {result.message}")
    return EXIT_FAILED


def _record_run(
    args: argparse.Namespace,
    project: Project,
    result: TrainResult,
    clock: RunClock,
    config: TrainingConfig,
) -> None:
    """Keep the run in the project file, as the app does. A file that cannot be written gets a
    warning; the training's own exit status stands."""
    try:
        record_run(
            project,
            result,
            clock,
            graph_data=project.graph.to_dict(),
            dataset=project.resolved_dataset(),
            config=config,
        )
        save_project(project)
    except (ProjectError, WeightsError) as exc:
        print(f"{args.parser.prog}: warning: run not recorded: {exc}", file=sys.stderr, flush=True)


def _load_project_dataset(project: Project) -> Dataset:
    return project.load_data()


class _TextProgress:
    """Prints a header, one line per epoch and the final status."""

    def __init__(self, project: Project, dataset: Dataset) -> None:
        self.project = project
        self.dataset = dataset
        self.epochs = 0
        self.seconds = 0.0

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainBegin):
            self.epochs = event.epochs
            _say(
                f"training {self.project.name!r} on {self.dataset.name}: "
                f"{self.dataset.train_size:,} samples, {event.steps_per_epoch} batches "
                f"per epoch, {_count(event.epochs, 'epoch')}"
            )
        elif isinstance(event, EpochEnd):
            self.seconds += event.seconds
            width = len(str(self.epochs))
            metrics = "  ".join(
                f"{k} {event.logs[k]:.4f}" for k in sorted(event.logs, key=_log_order)
            )
            _say(f"epoch {event.epoch + 1:>{width}}/{self.epochs}  {metrics}  {event.seconds:.1f}s")
        elif isinstance(event, TrainAlert):
            _say(f"  ! {event.alert.text()}")
        elif isinstance(event, TrainEnd) and event.status != "failed":
            _say(f"{event.status}: {event.message} ({self.seconds:.1f}s)")


def _log_order(key: str) -> tuple[bool, bool, str]:
    """loss, then the metrics; training values before validation ones."""
    base = key.removeprefix("val_")
    return key.startswith("val_"), base != "loss", base


def _json_event(event: TrainingEvent) -> None:
    _print_json({"event": _EVENT_NAMES[type(event)], **asdict(event)})


@contextmanager
def _stop_on_interrupt(trainer: Trainer) -> Iterator[None]:
    """Ctrl+C asks the trainer to stop after the current batch; a second Ctrl+C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGINT)
    restore = previous if previous is not None else signal.default_int_handler

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, restore)
        print("stopping after this batch (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        trainer.request_stop()

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, restore)


# ----------------------------------------------------------------- helpers
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _failure_message(exc: Exception, project_path: str) -> str | None:
    """The one-line report of an expected failure, naming the file; None for anything else."""
    if isinstance(exc, (ProjectError, ModelFileError, WeightsError, DistributedError)):
        return str(exc)  # these start with their file already
    if isinstance(exc, cli_export.CommandError):
        return str(exc)
    if isinstance(exc, (CompileError, DatasetError)):
        return f"{project_path}: {exc}"
    if isinstance(exc, OSError):
        return f"{exc.filename or project_path}: {exc.strerror or exc}"
    return None


def _print_error(args: argparse.Namespace, message: str) -> None:
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    print(f"{args.parser.prog}: error: {text}", file=sys.stderr, flush=True)


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _ordered_nodes(graph: LayerGraph) -> list[tuple[str, Node]]:
    try:
        order = graph.topological_order()
    except CycleError:
        order = list(graph.nodes)
    return [(nid, graph.nodes[nid]) for nid in order]


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        _say("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
