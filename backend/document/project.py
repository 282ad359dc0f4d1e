"""A project: the graph, its layout, the dataset choice and the training settings.

Saved as one JSON document with a `format_version`, migrated on load, written atomically
(temporary file in the same folder, fsync, rename). Loading parses JSON only: nothing in a
project file is ever executed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from backend.data import DATASETS, Dataset, DatasetError, load_dataset
from backend.document.graph import GraphError, LayerGraph
from backend.document.json_text import (
    JsonShapeError,
    check_depth,
    dumps,
    finite,
    non_finite_path,
    parse,
)
from backend.document.layer_table import UnknownLayerError
from backend.document.runs import RunRecord, graph_fingerprint, runs_from_data
from backend.document.training_config import TrainingConfig
from backend.events import Signal
from backend.paths import new_file_mode

FORMAT_VERSION = 1
FILE_SUFFIX = ".dcproj.json"

# Each entry upgrades a document from version N to N + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

PATH_PARAMS = ("path", "val_path", "test_path", "y_path")
"""Dataset settings that name files; relative ones are read from the project's folder."""
NO_DATASET = "the project has no dataset yet: choose one (the Data tab, or `main.py data`)"


class ProjectError(ValueError):
    """A project file that cannot be read, with the file and the reason."""


class ReadOnlyFileError(PermissionError):
    """A file whose owner may not write it: a save leaves it as it is and says so."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EACCES, "read-only", str(path))

    def __str__(self) -> str:
        return (
            f"{self.filename}: the file is read-only, so it was left as it is; make it writable "
            "(chmod u+w) or save under another name"
        )


@dataclass
class DatasetChoice:
    """A source from `DATASETS` and its settings: for files, `params` holds the path(s) and
    column, array or image choices (see each source's `ParamSpec`s). The seed and fractions
    fix the split, so a reopened project trains on the same rows."""

    name: str = "digits"
    params: dict[str, Any] = field(default_factory=dict)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetChoice:
        if not isinstance(data, dict):
            raise ValueError("'dataset' must be an object (or null: no data yet)")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"dataset: unknown setting {unknown[0]!r}")
        choice = cls(**data)
        if not isinstance(choice.name, str):
            raise ValueError(f"the dataset name must be text such as 'moons', got {choice.name!r}")
        if choice.name not in DATASETS:
            raise ValueError(f"unknown dataset {choice.name!r}")
        for key in ("val_fraction", "test_fraction"):
            value = getattr(choice, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"dataset {key} must be a number in [0, 1), got {value!r}")
        if not isinstance(choice.params, dict):
            raise ValueError(f"dataset {choice.name!r}: settings must be a JSON object")
        for key in PATH_PARAMS:
            if not isinstance(choice.params.get(key, ""), str):
                raise ValueError(f"dataset {choice.name!r}: {key} must be a file path")
        if isinstance(choice.seed, bool) or not isinstance(choice.seed, int):
            raise ValueError(f"dataset seed must be a whole number, got {choice.seed!r}")
        fractions = (choice.val_fraction, choice.test_fraction)
        if not all(0 <= f < 1 for f in fractions) or sum(fractions) >= 1:
            raise ValueError(
                "validation and test fractions must each be in [0, 1) and leave training data"
            )
        return choice

    def resolved(self, folder: str | Path | None) -> DatasetChoice:
        """This choice with relative file paths made absolute against `folder` (a project's
        or a template's); unchanged without a folder."""
        if folder is None:
            return self
        params = dict(self.params)
        for key in PATH_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                params[key] = str((Path(folder) / value).resolve())
        return replace(self, params=params)

    def load(self) -> Dataset:
        """Load and split the data as chosen: the one place a project's data is read."""
        return load_dataset(
            self.name, self.params, self.val_fraction, self.test_fraction, self.seed
        )


class Project:
    """The document the app edits. `changed` fires on any edit; `dirty` tracks unsaved ones.

    Finer events for views that mirror one part: `dataset_changed`, `training_changed`,
    `runs_changed` and `weights_changed` (which run's checkpoint holds the current weights).
    `dataset` is None until the user picks data (an imported model, a new empty project); a
    constructor given no dataset gets the default one (digits).
    """

    def __init__(
        self,
        graph: LayerGraph | None = None,
        dataset: DatasetChoice | None = None,
        training: TrainingConfig | None = None,
        name: str = "Untitled",
    ) -> None:
        self.graph = graph or LayerGraph()
        self.dataset: DatasetChoice | None = dataset or DatasetChoice()
        self.training = training or TrainingConfig()
        self.name = name
        self.description = ""
        self.runs: list[RunRecord] = []
        self.weights = CurrentWeights()
        self.path: Path | None = None
        self.changed = Signal("project_changed")
        self.dataset_changed = Signal("dataset_changed")
        self.training_changed = Signal("training_changed")
        self.runs_changed = Signal("runs_changed")
        self.weights_changed = Signal("weights_changed")
        self.dirty = False
        self.known_run_ids: set[str] = set()
        """Runs this session has seen (loaded or recorded): a save keeps runs another process
        recorded in the file meanwhile, and only those (see `save_project`)."""
        self._connect_graph(self.graph)

    def _connect_graph(self, graph: LayerGraph) -> None:
        graph.changed.connect(self.mark_dirty)
        graph.node_moved.connect(lambda _nid: self.mark_dirty())

    def mark_dirty(self) -> None:
        self.dirty = True
        self.changed.emit()

    def set_training(self, training: TrainingConfig) -> None:
        training.validate()
        self.training = training
        self.training_changed.emit()
        self.mark_dirty()

    def set_dataset(self, dataset: DatasetChoice | None) -> None:
        self.dataset = dataset
        self.dataset_changed.emit()
        self.mark_dirty()

    def add_run(self, run: RunRecord) -> None:
        self.runs.append(run)
        self.known_run_ids.add(run.id)
        self.runs_changed.emit()
        self.mark_dirty()

    def set_weights(self, weights: CurrentWeights) -> None:
        self.weights = weights
        self.weights_changed.emit()
        self.mark_dirty()

    def run(self, run_id: str | None) -> RunRecord | None:
        return next((r for r in self.runs if r.id == run_id), None) if run_id else None

    def load_data(self) -> Dataset:
        """The project's data, file paths read from the project's folder. DatasetError when
        the project has none yet or it cannot be loaded."""
        if self.dataset is None:
            raise DatasetError(NO_DATASET)
        return self.resolved_dataset().load()

    def resolved_dataset(self) -> DatasetChoice:
        """The dataset choice with its file paths absolute (a script or another folder)."""
        if self.dataset is None:
            raise DatasetError(NO_DATASET)
        return self.dataset.resolved(self.path.parent if self.path is not None else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "app": "DeepCanvas",
            "name": self.name,
            "description": self.description,
            "graph": self.graph.to_dict(),
            "dataset": asdict(self.dataset) if self.dataset is not None else None,
            "training": self.training.to_dict(),
            "current_weights": self.weights.to_dict(),
            "runs": [run.to_dict() for run in self.runs],
        }

    def replace_with(self, other: Project) -> None:
        """Take over another project's content (used by Open/New) through model events."""
        self.graph.load_dict(other.graph.to_dict())
        self.dataset = other.dataset
        self.training = other.training
        self.runs = list(other.runs)
        self.known_run_ids = set(other.known_run_ids)
        self.weights = other.weights
        self.name = other.name
        self.description = other.description
        self.path = other.path
        self.dirty = False
        for signal in (
            self.dataset_changed,
            self.training_changed,
            self.runs_changed,
            self.weights_changed,
        ):
            signal.emit()
        self.changed.emit()


_MISSING = object()


@dataclass(frozen=True)
class CurrentWeights:
    """Which weights the project's model has now, as saved in the file (`current_weights`).

    `run`: the run whose checkpoint holds them (the last training, or one the user chose);
    None: the starting weights of the settings (`training.initial_weights`, an imported
    model's), or freshly initialised with the seed when there are none.
    `initial_fingerprint`: the graph fingerprint the starting weights were made for, when known,
    so an edit that no longer fits them can be told. Whether they still fit the graph, and
    which edit broke them, is worked out by `backend.workflow.weights` from the run's graph.
    """

    run: str | None = None
    initial_fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "initial_fingerprint": self.initial_fingerprint}

    @classmethod
    def from_dict(cls, data: Any, runs: list[RunRecord]) -> CurrentWeights:
        """Read a file's `current_weights`; an older file without it gets its newest run
        with a checkpoint (what `train` left there), so a trained project stays trained."""
        if data is None:
            return cls()
        if data is _MISSING:
            ready = [r for r in runs if r.checkpoint and r.status != "failed"]
            return cls(ready[-1].id if ready else None)
        if not isinstance(data, dict):
            raise ValueError("'current_weights' must be an object")
        run, fingerprint = data.get("run"), data.get("initial_fingerprint")
        for key, value in (("run", run), ("initial_fingerprint", fingerprint)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"current_weights: {key!r} must be a string or null")
        if run is not None and run not in {r.id for r in runs}:
            run = None  # a run deleted by hand: its weights are gone, nothing else is
        return cls(run, fingerprint)


def project_from_dict(data: Any, source: str = "project") -> Project:
    if not isinstance(data, dict):
        raise ProjectError(f"{source}: a project must be a JSON object")
    try:  # refused now, not when the save after a training fails and the run is lost
        check_depth(data)
    except JsonShapeError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    where = non_finite_path(data, skip=("runs",))  # an older app wrote a failed run's NaN
    if where is not None:
        raise ProjectError(
            f"{source}: {where} is NaN or infinite, which is not a number a setting can "
            "have (nor JSON hold): write a number there"
        )
    version = data.get("format_version")
    if not isinstance(version, int):
        raise ProjectError(f"{source}: no 'format_version': this is not a DeepCanvas project")
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"{source}: format version {version} was written by a newer DeepCanvas "
            f"(this one reads up to {FORMAT_VERSION}); please update the app"
        )
    while version < FORMAT_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise ProjectError(f"{source}: format version {version} is no longer supported")
        data = migrate(data)
        version += 1
        data["format_version"] = version
    try:
        graph = LayerGraph.from_dict(data.get("graph", {}))
    except UnknownLayerError as exc:
        raise ProjectError(f"{source}: {exc}") from exc
    except GraphError as exc:
        raise ProjectError(f"{source}: {exc}") from exc
    try:
        raw_dataset = data.get("dataset", {})  # null: no data chosen yet (an import)
        dataset = DatasetChoice.from_dict(raw_dataset) if raw_dataset is not None else None
        training = TrainingConfig.from_dict(data.get("training", {}))
        runs = runs_from_data(data.get("runs", []))  # older files have none
        weights = CurrentWeights.from_dict(data.get("current_weights", _MISSING), runs)
    except (TypeError, ValueError) as exc:
        raise ProjectError(f"{source}: {exc}") from exc
    project = Project(graph, None, training, name=str(data.get("name", "Untitled")))
    project.dataset = dataset
    project.description = str(data.get("description", ""))
    project.runs = runs
    project.known_run_ids = {run.id for run in runs}
    project.weights = weights
    return project


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
"""Keras model files, which a user may hand where a project is expected."""


def load_project(path: str | Path) -> Project:
    path = Path(path)
    if path.suffix.lower() in MODEL_SUFFIXES and path.is_file():
        raise ProjectError(
            f"{path}: a Keras model, not a DeepCanvas project: import it (File > Import Keras "
            f"model, or main.py import {path})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = parse(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except JsonShapeError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    project = project_from_dict(data, str(path))
    project.path = path
    return project


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over `path`.

    A read-only `path` (its owner may not write it) is never replaced: the rename would
    ignore the permission, so `ReadOnlyFileError` says so instead (also for root)."""
    path = Path(path)
    check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, new_file_mode(path))  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(path)


def check_writable(path: str | Path) -> None:
    """ReadOnlyFileError when `path` exists and its owner has no write permission on it."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return  # no such file yet: the write will say if the folder refuses it
    if not mode & stat.S_IWUSR:
        raise ReadOnlyFileError(Path(path))


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files a killed save left beside `path` (older than a minute)."""
    cutoff = time.time() - 60
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def side_files(project: Project) -> list[str]:
    """Files the project refers to relative to its own file: weights, run checkpoints."""
    refs = [project.training.initial_weights] + [r.checkpoint for r in project.runs]
    return [r for r in refs if r and not Path(r).is_absolute()]


def _carry_side_files(project: Project, target: Path) -> None:
    """Save As into another folder: copy the weights and checkpoints the project points at,
    keeping their relative places, so the new file finds them."""
    if project.path is None:
        return
    old_dir, new_dir = project.path.parent.resolve(), target.parent.resolve()
    if old_dir == new_dir:
        return
    for ref in side_files(project):
        source, copy = old_dir / ref, new_dir / ref
        if source.is_file() and not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)


def _rebase_dataset_paths(project: Project, target: Path) -> None:
    """Save As into another folder: a data file named relative to the project stays the same
    file (relative to the new folder when it lies under it, else absolute)."""
    if project.dataset is None or project.path is None:
        return
    old_dir, new_dir = project.path.parent.resolve(), target.parent.resolve()
    if old_dir == new_dir:
        return
    params = dict(project.dataset.params)
    for key in PATH_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            file = (old_dir / value).resolve()
            try:
                params[key] = file.relative_to(new_dir).as_posix()
            except ValueError:
                params[key] = str(file)
    if params != project.dataset.params:
        project.dataset = replace(project.dataset, params=params)


def save_project(project: Project, path: str | Path | None = None) -> Path:
    """Write the whole project to `path` (default: its own file), atomically.

    Saving over the project's own file keeps the runs another process recorded there since this
    session read it (`main.py train` while the app is open): they are added to the project
    first, so a save never drops a run. Other edits in the file are the user's to overwrite."""
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file yet: choose where to save it")
    with project_file_lock(target):
        if project.path is not None and _same_file(project.path, target):
            _merge_recorded_runs(project, target)
        _rebase_dataset_paths(project, target)
        try:
            text = dumps(project.to_dict()) + "\n"
        except (TypeError, ValueError, RecursionError) as exc:  # JSON cannot hold it; untouched
            raise ProjectError(f"{target}: cannot be saved ({exc})") from exc
        try:
            _carry_side_files(project, target)
            write_atomically(target, text.encode("utf-8"))
        except ReadOnlyFileError as exc:
            raise ProjectError(str(exc)) from None
        except OSError as exc:
            raise ProjectError(f"{target}: cannot be written ({exc})") from exc
    project.path = target
    project.dirty = False
    project.changed.emit()
    return target


def record_run_in_file(path: str | Path, run: RunRecord) -> bool:
    """Add `run` to the project file at `path`, changing nothing else in it: edits saved there
    meanwhile (by the app, by an editor) are kept. The run becomes the file's current weights
    when it has a checkpoint and the file's graph is still the one it trained; returns whether
    it did. ProjectError, naming the file and the run, when the file cannot take it."""
    path = Path(path)
    with project_file_lock(path):
        try:
            check_writable(path)
            data = parse(path.read_text(encoding="utf-8"))
            runs = data.setdefault("runs", []) if isinstance(data, dict) else None
            if not isinstance(runs, list):
                raise ValueError("it is not a project with a list of runs")
            fits = run.fingerprint == graph_fingerprint(data.get("graph", {}))
        except ReadOnlyFileError:
            raise ProjectError(
                f"{path}: the file is read-only, so run {run.id} was not recorded in it (its "
                f"weights are kept in {run.checkpoint}); make it writable (chmod u+w)"
            ) from None
        except (OSError, ValueError, GraphError, UnknownLayerError) as exc:
            raise ProjectError(
                f"{path}: run {run.id} was not recorded, the file cannot be read now ({exc}); "
                f"its weights are kept in {run.checkpoint}"
            ) from exc
        if not any(isinstance(r, dict) and r.get("id") == run.id for r in runs):
            runs.append(run.to_dict())
        current = fits and run.checkpoint is not None and run.status != "failed"
        if current:
            previous = data.get("current_weights")
            kept = previous.get("initial_fingerprint") if isinstance(previous, dict) else None
            data["current_weights"] = {"run": run.id, "initial_fingerprint": kept}
        data["runs"] = finite(runs)  # an older app's NaN in a failed run becomes null
        try:
            write_atomically(path, (dumps(data) + "\n").encode("utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectError(f"{path}: run {run.id} was not recorded ({exc})") from exc
    return current


@contextlib.contextmanager
def project_file_lock(path: str | Path) -> Iterator[None]:
    """Serialise read-modify-write of project files between processes: an exclusive `flock`
    on the file's folder (no lock file left beside the project); none where there is no
    `fcntl` (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder = Path(path).parent
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:  # no such folder: the write will say so
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _merge_recorded_runs(project: Project, path: Path) -> None:
    """Add the runs that another process recorded in `path` and this session never saw."""
    try:
        data = parse(path.read_text(encoding="utf-8"))
        raw_runs = data.get("runs", []) if isinstance(data, dict) else []
    except (OSError, ValueError):
        return  # nothing readable to keep
    added = []
    for raw in raw_runs if isinstance(raw_runs, list) else []:
        try:
            run = RunRecord.from_dict(raw)
        except (ValueError, TypeError):
            continue
        if run.id not in project.known_run_ids:
            project.runs.append(run)
            project.known_run_ids.add(run.id)
            added.append(run)
    if added:
        project.runs.sort(key=lambda r: r.started_at)
        project.runs_changed.emit()
