"""The headless commands about the project itself: validate, summary, new, examples, data.

`backend.cli.main` owns the parser and the exit codes; each `run_*` takes the parsed arguments
and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from backend.analysis.data_fit import first_data_error, project_data_fit
from backend.cli.output import count, print_json, say, table, warn
from backend.cli.train_command import CommandError
from backend.data import DATASETS, Dataset
from backend.document.graph import CycleError, LayerGraph, Node
from backend.document.json_text import JsonShapeError, non_finite_path, parse
from backend.document.project import FILE_SUFFIX, NO_DATASET, PATH_PARAMS, DatasetChoice
from backend.editing.data_wiring import DataTarget, fit_graph_to_data, suggested_params
from backend.exchange.pretrained_template import Choice
from backend.keras_bridge.compiler import Problem, validate
from backend.keras_bridge.shapes import NodeShape, ShapeInference, format_shape
from backend.templates.gallery import open_template, opens_with, templates
from backend.workflow.session import Workflow, new_project

EXIT_OK, EXIT_FAILED = 0, 1


# ----------------------------------------------------------------- validate
def run_validate(args: argparse.Namespace) -> int:
    project = Workflow.open(args.project).project
    graph = project.graph
    shapes = ShapeInference().infer(graph)
    problems = validate(graph, shapes)  # weights too big for memory included
    if not any(p.severity == "error" for p in problems):  # a model that builds, against its
        problems += [  # data: classes, target width, loss, input shape
            Problem(f.message, f.node_id, f.severity) for f in project_data_fit(project, shapes)
        ]
    failed = any(p.severity == "error" for p in problems)
    if args.json:
        report = validation_report(args.project, graph, shapes, problems)
        print_json({**report, "dataset": project.dataset.name if project.dataset else None})
        return EXIT_FAILED if failed else EXIT_OK
    say(f"{args.project}: {project.name!r}, {count(len(graph.nodes), 'layer')}")
    rows = [
        (node.name, node.layer_type, shape_cell(shapes.get(nid)))
        for nid, node in ordered_nodes(graph)
    ]
    table(("name", "type", "output shape"), rows)
    for problem in problems:
        print(f"{problem.severity}: {describe(problem, graph)}", file=sys.stderr)
    if project.dataset is None:
        print(f"note: {NO_DATASET}", file=sys.stderr)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if failed:
        say(f"invalid: {count(errors, 'error')}, {count(warnings, 'warning')}")
    else:
        say(f"ok: no errors, {count(warnings, 'warning')}")
    return EXIT_FAILED if failed else EXIT_OK


def validation_report(
    path: str, graph: LayerGraph, shapes: dict[str, NodeShape], problems: list[Problem]
) -> dict[str, Any]:
    nodes = []
    for nid, node in ordered_nodes(graph):
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


def shape_cell(result: NodeShape | None) -> str:
    if result is None or result.blocked:
        return "- (an input has no shape)"
    if result.error:
        return "error (see below)"
    ports = [result.port(i) for i in range(result.output_count)]
    return " | ".join(format_shape(p.shape if p else None) for p in ports)


def describe(problem: Problem, graph: LayerGraph) -> str:
    """The problem's message, with its node's type and name when the message lacks them."""
    node = graph.nodes.get(problem.node_id) if problem.node_id else None
    if node is None or f"'{node.name}'" in problem.message:
        return problem.message
    return f"{node.layer_type} '{node.name}': {problem.message}"


def ordered_nodes(graph: LayerGraph) -> list[tuple[str, Node]]:
    try:
        order = graph.topological_order()
    except CycleError:
        order = list(graph.nodes)
    return [(nid, graph.nodes[nid]) for nid in order]


# ----------------------------------------------------------------- summary
def run_summary(args: argparse.Namespace) -> int:
    workflow = Workflow.open(args.project)
    graph = workflow.project.graph
    shapes = ShapeInference().infer(graph)
    built = workflow.build_model()
    model = built.model
    rows = []
    for nid, node in ordered_nodes(graph):
        params = _layer_params(model, node.name)
        rows.append(
            (
                node.name,
                node.layer_type,
                shape_cell(shapes.get(nid)),
                f"{params:,}" if params is not None else "unused",
            )
        )
    say(f"{workflow.project.name!r} ({args.project})")
    table(("name", "type", "output shape", "params"), rows)
    total = int(model.count_params())
    trainable = sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights)
    say(f"total params: {total:,} (trainable {trainable:,}, non-trainable {total - trainable:,})")
    say(f"weights: {built.note}")
    dataset = workflow.project.dataset
    say(f"dataset: {dataset.name if dataset is not None else 'none yet'}")
    return EXIT_OK


def _layer_params(model: Any, name: str) -> int | None:
    try:
        layer = model.get_layer(name)
    except ValueError:  # the node does not reach an output, so it is not in the model
        return None
    return int(layer.count_params())


# ----------------------------------------------------------------- new, examples
def run_new(args: argparse.Namespace) -> int:
    target = Path(args.output)
    if not target.name.endswith(".json"):
        args.parser.error(f"a project file must end in {FILE_SUFFIX}, got {str(target)!r}")
    if target.exists() and not args.force:
        args.parser.error(f"{target} exists: choose another name, or --force to replace it")
    if getattr(args, "pretrained", None) is not None:  # "" is an unknown name, not none
        from backend.cli.pretrained_command import run_new_pretrained

        return run_new_pretrained(args)
    note = ""
    if args.example:
        opened = open_template(args.example)  # what Workflow.from_template opens
        workflow, note = Workflow(opened.project), opened.note
    else:
        workflow = Workflow(new_project(args.name or target.name.removesuffix(FILE_SUFFIX)))
    if args.name:
        workflow.project.name = args.name
    workflow.save(target)
    project = workflow.project
    what = f"from the template {args.example!r}" if args.example else "empty"
    data = project.dataset.name if project.dataset is not None else "none yet"
    say(f"wrote {target}: {project.name!r}, {what}, {count(len(project.graph.nodes), 'layer')}")
    if note:
        say(f"opened with {note}")
    if not project.graph.nodes:  # nothing to train yet: say what can be done headless
        say(
            f"dataset: {data}; next: draw its layers in the app (main.py {target}), or start "
            "from a template (main.py examples; main.py new -o P --example NAME) or a model "
            "(main.py import MODEL.keras)"
        )
    else:
        say(f"dataset: {data}; next: main.py train {target}")
    return EXIT_OK


def run_examples(args: argparse.Namespace) -> int:
    found = templates()
    if args.json:
        for info in found:
            print_json(
                {**asdict(info), "path": str(info.path), "opens_with": _note(opens_with(info))}
            )
        return EXIT_OK
    table(
        ("name", "category", "title"),
        [(info.id, info.category, info.title) for info in found],
    )
    for info in found:
        if info.pretrained is not None:
            say(f"{info.id} opens with {_note(opens_with(info))}")
    say("open one: main.py new -o PROJECT.dcproj.json --example NAME")
    return EXIT_OK


def _note(choice: Choice | None) -> str:
    return choice.note if choice is not None else ""


# ----------------------------------------------------------------- data
def run_data(args: argparse.Namespace) -> int:
    """Show the project's data, or choose it (an undoable edit in the app, saved here)."""
    workflow = Workflow.open(args.project)
    if args.none:
        workflow.choose_dataset(None)
        workflow.save()
        say(f"{args.project}: no dataset")
        return EXIT_OK
    if args.dataset is None:
        current = workflow.project.dataset
        if args.fit:
            if current is None:
                raise CommandError(f"{args.project}: no dataset to fit the model to: choose one")
            return _fit_to_data(args, workflow, workflow.project.load_data())
        if args.json:
            print_json({"project": args.project, "dataset": asdict(current) if current else None})
        else:
            say(f"{args.project}: {_choice_text(current)}")
            say(f"datasets: {', '.join(DATASETS)}")
        return EXIT_OK
    if args.dataset not in DATASETS:
        args.parser.error(f"unknown dataset {args.dataset!r}; choose one of {', '.join(DATASETS)}")
    given = _params(args)  # over what the model asks of this source (raw pixels for a backbone)
    params = {**suggested_params(workflow.project.graph, args.dataset), **given}
    params = _with_project_paths(params, Path(args.project).resolve().parent)
    choice = DatasetChoice(args.dataset, params, args.val, args.test, args.seed)
    try:
        checked = DatasetChoice.from_dict(asdict(choice))
    except ValueError as exc:
        args.parser.error(str(exc))
    data = checked.resolved(Path(args.project).parent).load()  # DatasetError: exit 1
    workflow.choose_dataset(checked)
    workflow.save()
    say(f"{args.project}: {_choice_text(checked)}")
    say(
        f"  {data.train_size:,} training samples of shape {tuple(data.input_shape)}, "
        f"{data.task}" + (f", {data.num_classes} classes" if data.num_classes else "")
    )
    for note in data.notes:  # what reading it decided: task, gaps, columns (as the Data panel)
        say(f"  {note}")
    return _fit_to_data(args, workflow, data)


def _fit_to_data(args: argparse.Namespace, workflow: Workflow, data: Dataset) -> int:
    """`--fit`: the Data panel's "Fit model to data" (the Input takes the data's shape, a Dense
    output its classes), one undoable step saved; else say why the model cannot train on it."""
    project = workflow.project
    if args.fit:
        if project.dataset is not None and project.dataset.params.get("view"):
            raise CommandError(
                f"{args.project}: the project gives the data to its model as "
                f"'{project.dataset.params['view']}': set the Input and output shapes by hand"
            )
        fit = fit_graph_to_data(project.graph, DataTarget.of(data))
        if fit.command is not None:
            workflow.undo.push(fit.command)
            workflow.save()
        say(f"{args.project}: " + "; ".join(fit.messages))
    finding = first_data_error(project.graph, data, project.training)
    problems = [finding.message] if finding else [p.message for p in workflow.problems()]
    if problems:
        hint = "" if args.fit else " (`data PROJECT --fit` fits the Input and output to the data)"
        warn(args.parser.prog, f"the project cannot train yet: {problems[0]}{hint}")
    return EXIT_OK


def _params(args: argparse.Namespace) -> dict[str, Any]:
    """`--param KEY=VALUE`s, values read as JSON (else text); a key the dataset does not
    take is refused (it was kept in the project and ignored by the loader)."""
    settings = sorted({spec.name for spec in DATASETS[args.dataset].params} | {"view"})
    params: dict[str, Any] = {}
    for item in args.param or []:
        key, sep, text = item.partition("=")
        if not sep or not key:
            args.parser.error(f"--param wants KEY=VALUE, got {item!r}")
        if key not in settings:
            args.parser.error(
                f"--param {key}: {args.dataset} has no such setting; its settings are "
                f"{', '.join(settings)}"
            )
        try:
            params[key] = parse(text)
        except json.JSONDecodeError:
            params[key] = text  # a plain string: a path, a column name
        except JsonShapeError as exc:
            args.parser.error(f"--param {key}: {exc}")
        if non_finite_path(params[key]) is not None:
            args.parser.error(f"--param {key}: NaN and infinity are not values a setting takes")
    return params


def _with_project_paths(params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """File settings as typed (relative to the current folder) stored relative to the project's
    folder when they lie under it, so the project and its data move together; else absolute."""
    for key in PATH_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value:
            path = Path(value).resolve()
            try:
                params[key] = path.relative_to(folder).as_posix()
            except ValueError:
                params[key] = str(path)
    return params


def _choice_text(choice: DatasetChoice | None) -> str:
    if choice is None:
        return "no dataset yet"
    settings = ", ".join(f"{k}={v}" for k, v in choice.params.items())
    return (
        f"dataset {choice.name}" + (f" ({settings})" if settings else "") + f"; validation "
        f"{choice.val_fraction:g}, test {choice.test_fraction:g}, seed {choice.seed}"
    )
