"""Run lineage (which run continued which) and whether a run can be continued.

A run that started from another run's checkpoint names it as `parent_id`; these functions read
that chain from the project's records. Plain data, no Keras: the Runs panel and the CLI ask the
same questions here.
"""

from __future__ import annotations

from pathlib import Path

from backend.document.project import Project
from backend.document.runs import RunRecord, checkpoint_path, weights_fingerprint
from backend.workflow.weights import run_label


def lineage(project: Project, run_id: str) -> list[RunRecord]:
    """The run and the runs it continued from, oldest first (a missing or repeated parent ends
    the chain)."""
    chain: list[RunRecord] = []
    seen: set[str] = set()
    run = project.run(run_id)
    while run is not None and run.id not in seen:
        chain.append(run)
        seen.add(run.id)
        run = project.run(run.parent_id)
    return list(reversed(chain))


def continued_by(project: Project, run_id: str) -> list[RunRecord]:
    """The runs that started from this run's checkpoint, in the order they ran."""
    return [run for run in project.runs if run.parent_id == run_id]


def total_epochs(project: Project, run_id: str) -> int:
    """Epochs trained along the lineage up to and including this run."""
    return sum(run.epochs for run in lineage(project, run_id))


def cannot_continue(project: Project, run: RunRecord) -> str | None:
    """Why training cannot continue from `run`'s checkpoint on the current graph; None if it can."""
    path = checkpoint_path(run, project.path)
    if path is None:
        why = "it failed" if run.status == "failed" else "its weights were not saved"
        return f"Run {run_label(run)} has no checkpoint ({why}). Pick another run."
    if not path.is_file():
        return f"The checkpoint of run {run_label(run)} is missing: {path}"
    if weights_fingerprint(run.graph) != weights_fingerprint(project.graph):  # freezing aside
        return (
            f"Run {run_label(run)} was trained on a different graph than the current one, so "
            "its checkpoint does not fit it. Restore its graph first, or train from scratch."
        )
    return None


def continue_checkpoint(project: Project, run: RunRecord) -> Path:
    """The checkpoint a continued run starts from; ValueError saying why when it cannot."""
    problem = cannot_continue(project, run)
    if problem:
        raise ValueError(problem)
    path = checkpoint_path(run, project.path)
    assert path is not None
    return path.resolve()
