"""Which weights a project's model has now, and whether the graph still fits them.

Three sources, in this order: the checkpoint of the run the project names as current
(`Project.weights.run`: the last training, or a run the user chose); else the starting weights
of the settings (`training.initial_weights`: an imported model's); else none, and the model is
freshly initialised with the seed. Weights stop fitting when the graph is edited so that they
no longer build the same model (its fingerprint changes); `WeightsState.changes` then says
which edits, worked out from the run's own graph ("Dense 'fc1' units changed 64 -> 128").
Weights that no longer fit are still applied layer by layer where they fit (what fine-tuning
after replacing a head needs), and every report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.document.project import Project
from backend.document.runs import RunRecord, checkpoint_path, graph_fingerprint
from backend.keras_bridge.weights import resolve
from backend.workflow.graph_changes import graph_changes

RUN = "run"
INITIAL = "initial"
FILE = "file"
UNTRAINED = "untrained"


@dataclass(frozen=True)
class WeightsState:
    """The current weights of a project, for views (no Keras) and for model building."""

    source: str
    """RUN, INITIAL (the settings' starting weights, an import's), FILE (a `.weights.npz`
    named for one command, `--weights`) or UNTRAINED."""
    path: Path | None = None
    """The `.weights.npz` to load; None when untrained."""
    run: RunRecord | None = None
    seed: int = 0
    changes: tuple[str, ...] = ()
    """The graph edits made since these weights were trained: empty while they fit."""
    missing: bool = False
    """The weights file is gone (moved or deleted): the model will be untrained."""
    partial: bool = True
    """Layers whose stored weights do not fit stay untrained (what an edited graph needs); a
    file named for one command (FILE) must fit the whole model unless asked for."""

    @property
    def fits(self) -> bool:
        return not self.changes and not self.missing

    @property
    def trained(self) -> bool:
        return self.source != UNTRAINED and not self.missing

    @property
    def stale_reason(self) -> str | None:
        """Why these weights no longer fit the graph, in one line; None while they do."""
        if self.missing:
            return f"the weights file is missing: {self.path}"
        if not self.changes:
            return None
        shown = "; ".join(self.changes[:3])
        more = len(self.changes) - 3
        return shown + (f"; and {more} more edit{'s' if more > 1 else ''}" if more > 0 else "")

    def describe(self) -> str:
        """One line for a status bar or a report: which weights, and whether they fit."""
        if self.source == RUN and self.run is not None:
            epochs = f"{self.run.epochs} epoch" + ("" if self.run.epochs == 1 else "s")
            what = f"run {run_label(self.run)} ({self.run.status}, {epochs})"
        elif self.source == INITIAL:
            what = f"the starting weights {self.path.name if self.path else ''}".rstrip()
        elif self.source == FILE:
            what = f"from {self.path}"
        else:
            return f"untrained (freshly initialised, seed {self.seed})"
        reason = self.stale_reason
        if reason is None:
            return what
        if self.missing:
            return f"{what}, but {reason}: untrained (seed {self.seed}) instead"
        return f"{what}, which no longer fit the graph ({reason}): the edited layers are untrained"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": str(self.path) if self.path else None,
            "run": self.run.id if self.run is not None else None,
            "fits": self.fits,
            "changes": list(self.changes),
            "description": self.describe(),
        }


def run_label(run: RunRecord) -> str:
    """A short name for a run: its start time (date and time of day)."""
    return run.started_at[:19].replace("T", " ")


def current_weights(project: Project, baseline: dict[str, Any] | None = None) -> WeightsState:
    """The project's current weights and whether its graph still fits them. `baseline` is the
    graph the starting weights were made for when known in memory (a session that imported or
    opened the project), to name the edits; the file keeps only its fingerprint."""
    seed = int(project.training.seed)
    run = project.run(project.weights.run)
    if run is not None and run.checkpoint:
        path = checkpoint_path(run, project.path)
        changes: tuple[str, ...] = ()
        if run.fingerprint != graph_fingerprint(project.graph):
            changes = tuple(graph_changes(run.graph, project.graph)) or (
                "the graph differs from the one the run trained",
            )
        return WeightsState(RUN, path, run, seed, changes, path is None or not path.is_file())
    initial = resolve(project.training, project.path)
    if initial is not None:
        changes = ()
        made_for = project.weights.initial_fingerprint
        if made_for is not None and made_for != graph_fingerprint(project.graph):
            found = graph_changes(baseline, project.graph) if baseline is not None else []
            changes = tuple(found) or ("the graph was edited since these weights were made",)
        return WeightsState(INITIAL, initial, None, seed, changes, not initial.is_file())
    return WeightsState(UNTRAINED, seed=seed)


def weights_from_file(path: str | Path, seed: int = 0, partial: bool = False) -> WeightsState:
    """Weights named for one use (`evaluate --weights FILE`): they must fit the whole model
    (WeightsError naming the first layer that does not), or with `partial` where they fit."""
    path = Path(path)
    return WeightsState(FILE, path, None, seed, (), not path.is_file(), partial)
