"""The headless `train` command: one progress line per epoch (or JSON events), the run recorded
in the project file without losing edits saved there meanwhile.

`python main.py train P` trains the project as it is in the file, through the same workflow
the app uses (`backend.workflow.session.Workflow`): the run's checkpoint becomes the project's
current weights, so `evaluate` and `export` without flags use them afterwards.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from backend.cli.output import count, print_json, say, warn
from backend.data import Dataset
from backend.document.project import ProjectError, ReadOnlyFileError, check_writable
from backend.document.runs import RunRecord
from backend.keras_bridge.weights import WeightsError, collect_weights, save_weights
from backend.training.trainer import (
    BatchEnd,
    EpochEnd,
    TrainAlert,
    TrainBegin,
    TrainEnd,
    TrainingEvent,
)
from backend.workflow.session import Workflow
from backend.workflow.training import REFUSED, TrainingJob

EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 130
EVENT_NAMES: dict[type, str] = {
    TrainBegin: "train_begin",
    BatchEnd: "batch_end",
    EpochEnd: "epoch_end",
    TrainAlert: "alert",
    TrainEnd: "train_end",
}


class CommandError(ValueError):
    """An expected failure of a command, its message starting with the file it concerns."""


def run_train(args: argparse.Namespace) -> int:
    workflow = Workflow.open(args.project)
    check_weights_out(args)
    if not args.no_record:
        check_recordable(args.project)
    progress = _TextProgress(workflow.project.name)
    report: Callable[[TrainingEvent], None] = _json_event if args.json else progress
    job = workflow.prepare_training(
        continue_from=_continued_run(workflow, args.continue_from),
        epochs=args.epochs,
        on_event=report,
        on_data=progress.data_loaded,
        strategy=args.strategy,
        device=args.device,
        connect_timeout_s=args.connect_timeout,
    )
    with _stop_on_interrupt(job):
        result = job.run()
    run = None if args.no_record else workflow.finish_training(job, result)
    if run is not None:  # None: refused on its data, nothing started, nothing recorded
        _record_in_file(args, workflow, run)
    if result.status == "completed" and args.weights_out:
        save_weights(collect_weights(result.model), args.weights_out)
        if args.json:
            print_json({"event": "weights_written", "path": args.weights_out})
        else:
            say(f"wrote the trained weights to {args.weights_out}")
    if result.status == "completed":
        return EXIT_OK
    if result.status == "stopped":
        return EXIT_STOPPED
    if result.status == REFUSED:
        raise CommandError(f"{args.project}: cannot train: {result.message}")
    graph = workflow.project.graph
    node = graph.nodes.get(result.node_id) if result.node_id else None
    where = ""
    if node is not None and f"'{node.name}'" not in result.message:
        where = f" ({node.layer_type} '{node.name}')"
    raise CommandError(f"{args.project}: training failed{where}: {result.message}")


def _continued_run(workflow: Workflow, wanted: str | None) -> str | None:
    """`--continue RUN` (an id, or `last`: the run whose weights are current)."""
    if wanted != "last":
        return wanted
    run = workflow.weights.run
    if run is None:
        raise CommandError(f"{workflow.project.path}: no run to continue: train it first")
    return run.id


def _record_in_file(args: argparse.Namespace, workflow: Workflow, run: RunRecord) -> None:
    """Add the run to the file (nothing else in it changes). A file that cannot take it gets a
    warning; the training's own exit status stands."""
    try:
        current = workflow.record_in_file(run)
    except (ProjectError, WeightsError) as exc:
        warn(args.parser.prog, f"run not recorded: {exc}")
        return
    if args.json:
        print_json({"event": "run_recorded", "run": run.id, "current_weights": current})
    elif run.checkpoint is None:
        say(f"recorded run {run.id} ({run.status}, no weights kept)")
    elif current:
        say(
            f"recorded run {run.id}; its weights are the project's current weights "
            f"(evaluate and export use them)"
        )
    else:
        say(
            f"recorded run {run.id}; the project's graph was edited in the file meanwhile, so "
            f"its weights ({run.checkpoint}) are not the current ones"
        )


def check_recordable(project: str) -> None:
    """Refuse, before training, a project file the run could not be recorded in."""
    try:
        check_writable(project)
    except ReadOnlyFileError:
        raise CommandError(
            f"{project}: the file is read-only, so the run could not be recorded in it: make "
            "it writable (chmod u+w), or train with --no-record"
        ) from None


def check_weights_out(args: argparse.Namespace) -> None:
    """Refuse a `--weights-out` that cannot be written before training, not after it."""
    out = getattr(args, "weights_out", None)
    if out is None:
        return
    if not out.endswith(".weights.npz"):
        args.parser.error(f"--weights-out must end in .weights.npz, got {out!r}")
    folder = Path(out).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(f"{out}: cannot be written (no writable folder {folder})")


class _TextProgress:
    """Prints a header, one line per epoch and the final status."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dataset: Dataset | None = None
        self.epochs = 0
        self.seconds = 0.0

    def data_loaded(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainBegin):
            self.epochs = event.epochs
            data = self.dataset
            what = f"{data.name}: {data.train_size:,} samples, " if data is not None else ""
            say(
                f"training {self.name!r} on {what}{event.steps_per_epoch} batches per epoch, "
                f"{count(event.epochs, 'epoch')}"
            )
        elif isinstance(event, EpochEnd):
            self.seconds += event.seconds
            width = len(str(self.epochs))
            metrics = "  ".join(
                f"{k} {event.logs[k]:.4f}" for k in sorted(event.logs, key=_log_order)
            )
            say(f"epoch {event.epoch + 1:>{width}}/{self.epochs}  {metrics}  {event.seconds:.1f}s")
        elif isinstance(event, TrainAlert):
            say(f"  ! {event.alert.text()}")
        elif isinstance(event, TrainEnd) and event.status != "failed":
            say(f"{event.status}: {event.message} ({self.seconds:.1f}s)")


def _log_order(key: str) -> tuple[bool, bool, str]:
    """loss, then the metrics; training values before validation ones."""
    base = key.removeprefix("val_")
    return key.startswith("val_"), base != "loss", base


def _json_event(event: TrainingEvent) -> None:
    print_json({"event": EVENT_NAMES[type(event)], **asdict(event)})


@contextmanager
def _stop_on_interrupt(job: TrainingJob) -> Iterator[None]:
    """Ctrl+C asks the run to stop after the current batch; a second Ctrl+C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGINT)
    restore = previous if previous is not None else signal.default_int_handler

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, restore)
        print("stopping after this batch (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        job.request_stop()

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, restore)


__all__ = ["CommandError", "run_train"]
