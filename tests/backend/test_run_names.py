"""Runs named by what changed against their parent or the run before: settings, data, layers."""

from __future__ import annotations

import copy
from dataclasses import replace

from backend.document.run_changes import compared_with, run_name, run_names, what_changed
from backend.document.runs import RunRecord, graph_fingerprint
from backend.templates.gallery import load_template
from backend.workflow.session import Workflow


def record(run_id: str, project_id: str = "learning_rate", **changes: object) -> RunRecord:
    project = load_template(project_id)
    graph = project.graph.to_dict()
    return RunRecord(
        id=run_id,
        started_at="2026-12-05T10:00:00+00:00",
        wall_time_s=1.0,
        status="completed",
        message="training finished",
        training=project.training.to_dict(),
        dataset={
            "name": "moons",
            "params": {},
            "val_fraction": 0.15,
            "test_fraction": 0.15,
            "seed": 0,
        },
        fingerprint=graph_fingerprint(graph),
        graph=graph,
        **changes,  # type: ignore[arg-type]
    )


def test_two_real_runs_are_named_by_the_optimizer_that_changed() -> None:
    workflow = Workflow.from_template("learning_rate")
    workflow.train(epochs=1)
    workflow.set_training(optimizer="sgd", learning_rate=0.1)
    workflow.train(epochs=1)
    first, second = workflow.project.runs
    names = run_names(workflow.project.runs)
    assert names[first.id] == "first run: adam, learning rate 0.01"
    assert names[second.id] == "optimizer adam → sgd, learning rate 0.01 → 0.1"


def test_layer_changes_are_named_by_layer() -> None:
    before = record("a")
    after = record("b")
    graph = copy.deepcopy(after.graph)
    hidden = next(n for n in graph["nodes"] if n["name"] == "hidden_1")
    hidden["params"]["activation"] = "tanh"
    graph["nodes"].append(
        {
            "id": "drop",
            "type": "Dropout",
            "name": "drop",
            "params": {"rate": 0.5},
            "position": [0.0, 0.0],
        }
    )
    after = replace(after, graph=graph)
    assert what_changed(before, after) == [
        "added Dropout 'drop'",
        "activation of 'hidden_1' relu → tanh",
    ]


def test_a_continued_run_is_named_against_its_parent_not_the_run_before() -> None:
    parent = record("a")
    other = replace(record("b"), training={**parent.training, "learning_rate": 1.0})
    child = replace(record("c", parent_id="a"), training={**parent.training, "epochs": 5})
    runs = [parent, other, child]
    assert compared_with(child, runs) is parent
    assert run_name(child, runs) == "continued, epochs 10 → 5"
    assert run_name(other, runs) == "learning rate 0.01 → 1"
    same = record("d")
    assert run_name(same, [parent, same]) == "same settings again"


def test_many_changes_are_counted_and_data_changes_named() -> None:
    before = record("a")
    after = replace(
        record("b"),
        dataset={**before.dataset, "params": {"noise": 0.35}, "seed": 3},
        training={**before.training, "epochs": 3, "batch_size": 8},
    )
    name = run_name(after, [before, after])
    assert name == "epochs 10 → 3, batch size 32 → 8 (+2 more)"
    assert "data noise none → 0.35" in what_changed(before, after)
