"""The workflow: one project's life, for the GUI and the CLI alike.

`Workflow` owns a `Project` and the `UndoStack` its edits go through, and does every step a
person takes: new (empty, from a template, from a Keras model), choose data, change training
settings (both undoable, like graph edits), train (prepare in the owner's thread, run in any,
record in the owner's), continue a run, evaluate, predict, export, write the Python script,
open and save. After a training, the run's checkpoint is the project's current weights
everywhere (evaluate, export, the script, insight) until an edit no longer fits them; the
`weights_changed` event says so, and which edit. Views subscribe to the project's events
(`Project.changed`, `dataset_changed`, ...) and to the workflow's; they never assign project
fields themselves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.data import DatasetError
from backend.document.project import (
    CurrentWeights,
    DatasetChoice,
    Project,
    load_project,
    record_run_in_file,
    save_project,
)
from backend.document.runs import RunRecord, graph_fingerprint
from backend.editing.commands import SetDataset, SetTrainingSettings, UndoStack
from backend.events import Signal
from backend.keras_bridge.compiler import Problem, validate
from backend.keras_bridge.weights import resolve
from backend.templates.gallery import load_template
from backend.training.recording import record_run
from backend.training.trainer import EventSink, TrainResult
from backend.workflow import model_use
from backend.workflow.lineage import cannot_continue, continue_checkpoint
from backend.workflow.model_use import BuiltModel, Evaluation, Exported, ProjectSnapshot
from backend.workflow.training import REFUSED, TrainingJob, strategy_for
from backend.workflow.weights import WeightsState, current_weights


class WorkflowError(ValueError):
    """A step that cannot be taken now, with what to do (no data, a graph error...)."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class Workflow:
    """A project's life. Call its methods from the thread that owns the project (the GUI's);
    `TrainingJob.run` and the `model_use` functions of a snapshot run in any thread.

    Events (`backend.events.Signal`): `weights_changed(WeightsState)` when the current weights
    or their fit to the graph change; `run_recorded(RunRecord)`; `project_replaced()` after
    new/open. The project's own events cover the rest.
    """

    def __init__(self, project: Project | None = None, undo: UndoStack | None = None) -> None:
        self.project = project if project is not None else new_project()
        self.undo = undo if undo is not None else UndoStack(self.project.graph)
        self.weights_changed = Signal("weights_changed")
        self.run_recorded = Signal("run_recorded")
        self.project_replaced = Signal("project_replaced")
        self._baseline: dict[str, Any] | None = self.project.graph.to_dict()
        self._trained: tuple[str, str, Any] | None = None  # (run id, fingerprint, model)
        self._state = current_weights(self.project, self._baseline)
        self._replacing = False
        self.project.graph.changed.connect(self._refresh_weights)
        self.project.weights_changed.connect(self._refresh_weights)
        self.project.training_changed.connect(self._refresh_weights)

    def detach(self) -> None:
        """Stop following the project's events (a window closing; the project lives on)."""
        self.project.graph.changed.disconnect(self._refresh_weights)
        self.project.weights_changed.disconnect(self._refresh_weights)
        self.project.training_changed.disconnect(self._refresh_weights)

    # ----------------------------------------------------------------- opening and saving
    @classmethod
    def open(cls, path: str | Path) -> Workflow:
        return cls(load_project(path))

    @classmethod
    def from_template(cls, template_id: str) -> Workflow:
        return cls(load_template(template_id))

    @classmethod
    def from_model(cls, model_path: str | Path, project_path: str | Path | None = None) -> Workflow:
        """A Keras model file as a new project: its graph and weights, no dataset until one is
        chosen. With `project_path` the project and its weights are saved there."""
        return cls(import_project(model_path, project_path))

    def replace_project(self, project: Project) -> None:
        """Show another project in this workflow (File > New, Open, a template): the same
        Project object takes the other's content through its events; undo starts afresh."""
        self._replacing = True  # halfway, the new graph beside the old weights is no edit
        try:
            self.project.replace_with(project)
        finally:
            self._replacing = False
        self.undo.clear()
        self._baseline = self.project.graph.to_dict()
        self._trained = None
        self._refresh_weights(force=True)
        self.project_replaced.emit()

    def save(self, path: str | Path | None = None) -> Path:
        """Save the whole project (runs recorded in the file meanwhile by another process are
        kept). ProjectError naming the file when it cannot be written."""
        return save_project(self.project, path)

    # ----------------------------------------------------------------- data and settings
    def choose_dataset(self, dataset: DatasetChoice | None) -> SetDataset:
        """Use this data (None: no data), as one undo step."""
        return self.undo.push(SetDataset(self.project, dataset))

    def set_training(self, label: str = "", **changes: Any) -> SetTrainingSettings:
        """Change training settings (TrainingConfig fields) as one undo step; ValueError for a
        bad value, before anything changes."""
        command = SetTrainingSettings(self.project, changes, label)
        return self.undo.push(command)

    # ----------------------------------------------------------------- weights
    @property
    def weights(self) -> WeightsState:
        return self._state

    def use_run(self, run_id: str) -> WeightsState:
        """Make a run's checkpoint the current weights (a run picked in the Runs tab)."""
        run = self.project.run(run_id)
        if run is None or not run.checkpoint:
            raise WorkflowError(f"run {run_id!r} has no checkpoint to use")
        self.project.set_weights(replace(self.project.weights, run=run.id))
        return self._state

    def _refresh_weights(self, force: bool = False) -> None:
        if self._replacing:
            return
        state = current_weights(self.project, self._baseline)
        if force or state != self._state:
            self._state = state
            self.weights_changed.emit(state)

    # ----------------------------------------------------------------- training
    def problems(self) -> list[Problem]:
        """Everything that stops the project from training now: graph errors (an unconnected
        layer, a shape mismatch, ...), missing data, and a model that does not fit its data
        when that is known without loading it (built-in and generated sets; other data is
        checked by the job once loaded). Empty when it can train."""
        from backend.analysis.data_fit import check_data_fit, dataset_meta

        project = self.project
        problems = [p for p in validate(project.graph) if p.severity == "error"]
        if project.dataset is None:
            from backend.document.project import NO_DATASET

            return [*problems, Problem(NO_DATASET)]
        meta = dataset_meta(project.resolved_dataset()) if not problems else None
        if meta is not None:
            name = project.dataset.name
            findings = check_data_fit(project.graph, meta, project.training, dataset_name=name)
            problems += [Problem(f.message, f.node_id) for f in findings if f.severity == "error"]
        return problems

    def prepare_training(
        self,
        *,
        continue_from: str | None = None,
        epochs: int | None = None,
        on_event: EventSink | None = None,
        strategy: str | None = None,
        device: str | None = None,
        **options: Any,
    ) -> TrainingJob:
        """A training run of the project as it is now, checked first (WorkflowError naming the
        layer or what is missing). `continue_from`: a run id whose checkpoint it starts from
        (the graph must be that run's). Further options are TrainingJob's fields."""
        problems = self.problems()
        if problems:
            raise WorkflowError(f"cannot train: {problems[0].message}", problems[0].node_id)
        project = self.project
        config = replace(project.training)
        if epochs is not None:
            config = replace(config, epochs=int(epochs))
        start = resolve(config, project.path)
        config = replace(config, initial_weights=str(start.resolve()) if start else None)
        if continue_from is not None:
            run = project.run(continue_from)
            if run is None:
                raise WorkflowError(f"no run {continue_from!r} in the project")
            try:
                checkpoint = continue_checkpoint(project, run)
            except ValueError as exc:
                raise WorkflowError(str(exc)) from exc
            config = replace(config, initial_weights=str(checkpoint))
        chosen_strategy, chosen_device = strategy_for(config)
        return TrainingJob(
            project.graph.to_dict(),
            project.resolved_dataset(),
            config,
            parent_id=continue_from,
            strategy=strategy or chosen_strategy,
            device=device if device is not None else chosen_device,
            on_event=on_event,
            **options,
        )

    def finish_training(
        self, job: TrainingJob, result: TrainResult | None = None
    ) -> RunRecord | None:
        """Record the run in the project (every run that started, failed ones too) and, when
        it kept its weights, make them the current weights; None for a start refused on its
        data (status "refused"), which changes nothing. Call in the thread that owns the
        project."""
        result = result or job.result
        if result is None:
            raise WorkflowError("the training job has not run")
        if result.status == REFUSED:
            return None
        run = record_run(
            self.project,
            result,
            job.clock or _clock(),
            graph_data=job.graph_data,
            dataset=job.dataset_choice,
            config=job.config,
            parent_id=job.parent_id,
        )
        if run.checkpoint:
            self._trained = (run.id, run.fingerprint, result.model)
            self.project.set_weights(replace(self.project.weights, run=run.id))
        self.run_recorded.emit(run)
        return run

    def train(self, **options: Any) -> tuple[TrainResult, RunRecord | None]:
        """Prepare, run and record a training in the calling thread (the CLI's way)."""
        job = self.prepare_training(**options)
        result = job.run()
        return result, self.finish_training(job, result)

    def record_in_file(self, run: RunRecord) -> bool:
        """Add a recorded run to the project's file without rewriting anything else in it, so
        edits saved there meanwhile are kept; True when it became the file's current weights
        (its graph is still the file's). ProjectError when the file cannot take it."""
        if self.project.path is None:
            raise WorkflowError("the project has no file yet: save it first")
        return record_run_in_file(self.project.path, run)

    def cannot_continue(self, run_id: str) -> str | None:
        run = self.project.run(run_id)
        return (
            f"no run {run_id!r} in the project"
            if run is None
            else cannot_continue(self.project, run)
        )

    # ----------------------------------------------------------------- using the model
    def snapshot(self) -> ProjectSnapshot:
        """The project as the model functions need it, frozen (take it in the owner's thread)."""
        project = self.project
        state = self._state
        model = None
        if self._trained is not None and state.run is not None and state.fits:
            run_id, fingerprint, trained = self._trained
            if run_id == state.run.id and fingerprint == graph_fingerprint(project.graph):
                model = trained
        return ProjectSnapshot(
            project.name,
            project.path,
            project.graph.to_dict(),
            project.resolved_dataset() if project.dataset is not None else None,
            replace(project.training),
            state,
            model,
        )

    def build_model(self) -> BuiltModel:
        return model_use.build_model(self.snapshot())

    def evaluate(self) -> Evaluation:
        return model_use.evaluate(self.snapshot())

    def predict(self, inputs: Any) -> list[Any]:
        return model_use.predict(self.snapshot(), inputs)

    def export(self, fmt: str, path: str | Path, quantize: str = "none") -> Exported:
        return model_use.export(self.snapshot(), fmt, path, quantize)

    def write_script(self, path: str | Path) -> Path:
        """The project as a Keras script whose model loads the current weights."""
        from backend.exchange.codegen import write_script

        state = self._state
        return write_script(self.project, path, state.path if state.trained else None)


def new_project(name: str = "Untitled") -> Project:
    """An empty project: no layers, no data chosen yet, default settings."""
    project = Project(name=name)
    project.dataset = None
    return project


def import_project(model_path: str | Path, project_path: str | Path | None = None) -> Project:
    """A Keras model file as a project (graph, layout, weights), with no dataset until the
    user picks one: the importer's guess would not fit the model's inputs."""
    from backend.exchange.importer import import_model

    project = import_model(model_path, project_path)
    project.dataset = None
    project.weights = CurrentWeights(None, graph_fingerprint(project.graph))
    if project_path is not None:
        save_project(project, project_path)
    return project


def _clock() -> Any:
    from backend.training.recording import RunClock

    return RunClock.start()


__all__ = ["DatasetError", "Workflow", "WorkflowError", "import_project", "new_project"]
