"""Headless commands: everything the app does to a project, from a terminal.

`python main.py COMMAND ...` lands in `main` when COMMAND is a key of `COMMANDS`. Every command
goes through the same workflow as the app (`backend.workflow`), never a copy of a step. Nothing
here imports Qt, and Keras is imported only by the commands that need it, so `--help` answers at
once. Exit status: 0 done; 1 the project, its graph, its dataset, a file or the training failed
(one line on stderr naming the file); 2 a usage error; 130 training stopped by Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from backend.cli import export_command as cli_export
from backend.cli import import_command as cli_import
from backend.cli import predict_command as cli_predict
from backend.cli import pretrained_command as cli_pretrained
from backend.cli import project_commands as cli_project
from backend.cli import train_command as cli_train
from backend.cli.output import error
from backend.data import DatasetError
from backend.document.project import ProjectError
from backend.document.training_config import setting_fields
from backend.exchange.keras_file import ModelFileError
from backend.keras_bridge.compiler import CompileError
from backend.keras_bridge.weights import WeightsError
from backend.keras_env import take_verbose_flag
from backend.templates.gallery import TemplateError
from backend.training.distributed import DistributedError
from backend.workflow.session import WorkflowError

COMMANDS: dict[str, str] = {
    "new": "write a new project: empty, or from a template of the gallery (--example)",
    "examples": "list the template gallery (the Start tab's templates)",
    "pretrained": cli_pretrained.HELP,
    "data": "show the project's dataset, or choose one",
    "validate": "infer every layer's output shape and report the graph's errors",
    "summary": "list the layers with their output shapes and the model's parameter count",
    "train": "train a project on its dataset, one progress line per epoch",
    "evaluate": "the model's metrics on the project's test split (its current weights)",
    "export": "write the model as keras, savedmodel, tflite, onnx or python, verified",
    "import": cli_import.HELP,
    "predict": cli_predict.HELP,
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STOPPED = 130

CommandError = cli_train.CommandError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (`argv[0]`), returning the exit status; bad input never raises."""
    parser = build_parser()
    try:
        args = parser.parse_args(take_verbose_flag(sys.argv[1:] if argv is None else list(argv)))
    except SystemExit as exc:  # --help, or a usage error argparse already explained
        return _exit_status(exc)
    try:
        command: Callable[[argparse.Namespace], int] = args.run
        return command(args)
    except SystemExit as exc:  # a usage error found by a command (`args.parser.error`)
        return _exit_status(exc)
    except Exception as exc:
        where = getattr(args, "project", None) or getattr(args, "output", None)
        message = _failure_message(exc, where)
        if message is None:
            raise  # a bug, not bad input: keep the traceback
        error(args.parser.prog, message)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="DeepCanvas headless commands: no display, no Qt.",
        epilog="Exit status: 0 done, 1 failed, 2 usage error, 130 training stopped (Ctrl+C).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, run: Callable[[argparse.Namespace], int], project: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=COMMANDS[name], description=COMMANDS[name])
        if project:
            sub.add_argument("project", metavar="PROJECT", help="project file (.dcproj.json)")
        sub.set_defaults(run=run, parser=sub)
        return sub

    new = add("new", cli_project.run_new, project=False)
    new.add_argument("-o", "--output", required=True, metavar="PROJECT", help="file to write")
    new.add_argument("--example", metavar="NAME", help="a template (see `examples`)")
    new.add_argument("--name", help="the project's name (default: the template's or file's)")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    cli_pretrained.add_arguments(new)
    new.set_defaults(project=None)
    cli_pretrained.add_list_arguments(add("pretrained", cli_pretrained.run_list, project=False))
    examples = add("examples", cli_project.run_examples, project=False)
    examples.add_argument("--json", action="store_true", help="one JSON object per template")
    examples.set_defaults(project=None, output=None)
    _add_data_arguments(add("data", cli_project.run_data))
    validate_cmd = add("validate", cli_project.run_validate)
    validate_cmd.add_argument("--json", action="store_true", help="print one JSON report")
    add("summary", cli_project.run_summary)
    _add_train_arguments(add("train", cli_train.run_train))
    cli_export.add_evaluate_arguments(add("evaluate", cli_export.run_evaluate))
    cli_export.add_export_arguments(add("export", cli_export.run_export))
    cli_import.add_import_command(commands)
    cli_predict.add_predict_arguments(add("predict", cli_predict.run_predict))
    return parser


def _add_data_arguments(data: argparse.ArgumentParser) -> None:
    data.add_argument("dataset", nargs="?", metavar="DATASET", help="a dataset name to use")
    data.add_argument("--param", action="append", metavar="KEY=VALUE", help="a dataset setting")
    data.add_argument("--val", type=float, default=0.15, help="validation fraction (0.15)")
    data.add_argument("--test", type=float, default=0.15, help="test fraction (0.15)")
    data.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0, help="split seed (0)")
    data.add_argument("--none", action="store_true", help="use no dataset")
    data.add_argument(
        "--fit",
        action="store_true",
        help="fit the model to the data: the Input takes its sample shape, a Dense output its "
        "classes or target width (the Data panel's Fit model to data)",
    )
    data.add_argument("--json", action="store_true", help="print the choice as JSON")


def _add_train_arguments(train: argparse.ArgumentParser) -> None:
    epochs = setting_range("epochs")
    train.add_argument("--epochs", type=whole_number(*epochs), help="override the project's epochs")
    train.add_argument("--json", action="store_true", help="print one JSON object per event")
    train.add_argument(
        "--continue",
        dest="continue_from",
        metavar="RUN",
        help="start from a run's checkpoint: its id, or `last` (the current weights' run)",
    )
    cli_export.add_train_arguments(train)
    train.add_argument(
        "--no-record", action="store_true", help="do not record the run in the project file"
    )


def whole_number(least: int, most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `least` to `most` (a flag's own range)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least:,}, got {value:,}")
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}, got {value:,}")
        return value

    return parse


def setting_range(name: str) -> tuple[int, int]:
    """(minimum, maximum) of a whole-number training setting, as its editor allows."""
    info = next(s for n, s, _default in setting_fields() if n == name)
    assert info.minimum is not None and info.maximum is not None, name
    return int(info.minimum), int(info.maximum)


def _failure_message(exc: Exception, project_path: str | None) -> str | None:
    """The one-line report of an expected failure, naming the file; None for anything else."""
    where = project_path or "deepcanvas"
    if isinstance(exc, (ProjectError, ModelFileError, WeightsError, DistributedError)):
        return str(exc)  # these start with their file already
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, (CompileError, DatasetError, WorkflowError, TemplateError)):
        return f"{where}: {exc}"
    if isinstance(exc, OSError):
        return f"{exc.filename or where}: {exc.strerror or exc}"
    return None


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE
