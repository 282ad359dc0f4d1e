"""Training runs recorded in the project: what was trained, how, where, and how it went.

A `RunRecord` keeps the settings (training and dataset), the graph itself with a fingerprint of
its structure, the per-epoch history and final metrics, the wall time, the device, the seed,
the TensorFlow/Keras/CUDA versions and the path of the run's checkpoint, a `.weights.npz` written
by `backend.keras_bridge.weights` beside the project (`NAME.runs/RUN_ID.weights.npz`), or under the
app's own
folder for a project never saved. Failed and stopped runs are recorded too, with the history
they reached. Records are plain JSON in the project file; reading one validates every field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from backend.document.graph import LayerGraph
from backend.document.json_text import finite
from backend.document.layer_table import layer_info
from backend.paths import data_dir

STATUSES = ("completed", "stopped", "failed")


class RunError(ValueError):
    """A run record that cannot be read, naming the run and the field."""


@dataclass
class RunRecord:
    """One training run. `training` and `dataset` are the settings' dicts as saved in a project;
    `checkpoint` is relative to the project file when the run's weights sit beside it."""

    id: str
    started_at: str  # ISO 8601 with the local UTC offset
    wall_time_s: float
    status: str  # one of STATUSES
    message: str
    training: dict[str, Any]
    dataset: dict[str, Any]
    fingerprint: str
    graph: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    device: str = ""
    seed: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    checkpoint: str | None = None
    best_epoch: int | None = None
    """The epoch (from 0, as Keras counts) whose weights the checkpoint holds, when the
    settings keep the best epoch (`checkpoint`); None when it holds the last epoch's."""
    parent_id: str | None = None
    """The run whose checkpoint this one continued from, if any."""
    execution: dict[str, Any] = field(default_factory=dict)
    """How it ran: batches per call (`steps_per_execution`), XLA, who chose them and on what
    step time, and what its calls measured (`backend.training.execution`); {} before."""

    @property
    def epochs(self) -> int:
        return max((len(values) for values in self.history.values()), default=0)

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:8]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: a diverged run's NaN or infinite losses are null (JSON has neither)."""
        record: dict[str, Any] = finite(asdict(self))
        return record

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Validate a record read from a project; unknown keys (a newer app's) are ignored."""
        if not isinstance(data, dict):
            raise RunError("a run must be a JSON object")
        name = str(data["id"]) if isinstance(data.get("id"), str) else "?"
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name in data:
                values[spec.name] = _checked(name, spec.name, data[spec.name])
            elif spec.default is MISSING and spec.default_factory is MISSING:
                raise RunError(f"run {name!r} has no {spec.name!r}")
        record = cls(**values)
        if record.status not in STATUSES:
            raise RunError(f"run {name!r}: status must be one of {', '.join(STATUSES)}")
        return record


def _checked(run: str, key: str, value: Any) -> Any:
    """`value` if it has the type field `key` needs, else a RunError naming both."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key in ("id", "started_at", "status", "message", "fingerprint", "device"):
        ok = isinstance(value, str)
        what = "a string"
    elif key in ("checkpoint", "parent_id"):
        ok = value is None or isinstance(value, str)
        what = "a string or null"
    elif key == "wall_time_s":
        ok, what = number, "a number"
    elif key in ("seed", "best_epoch"):
        ok = (value is None and key == "best_epoch") or (
            isinstance(value, int) and not isinstance(value, bool)
        )
        what = "a whole number"
    elif key == "history":
        ok = isinstance(value, dict) and all(
            isinstance(v, list) and all(_is_number(x) for x in v) for v in value.values()
        )
        what = "an object of lists of numbers"
    elif key == "metrics":
        ok = isinstance(value, dict) and all(_is_number(v) for v in value.values())
        what = "an object of numbers"
    elif key == "versions":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        what = "an object of strings"
    else:  # training, dataset, graph, execution
        ok, what = isinstance(value, dict), "an object"
    if not ok:
        raise RunError(f"run {run!r}: {key!r} must be {what}, got {type(value).__name__}")
    return value


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def runs_from_data(data: Any) -> list[RunRecord]:
    """The project's `runs` list; a RunError names the first bad record by position and id."""
    if not isinstance(data, list):
        raise RunError("'runs' must be a list of run records")
    records: list[RunRecord] = []
    seen: set[str] = set()
    for i, raw in enumerate(data):
        try:
            record = RunRecord.from_dict(raw)
        except RunError as exc:
            raise RunError(f"run #{i + 1}: {exc}") from exc
        if record.id in seen:
            raise RunError(f"run #{i + 1}: two runs share the id {record.id!r}")
        seen.add(record.id)
        records.append(record)
    return records


# ----------------------------------------------------------------- fingerprint
def canonical_graph(graph: LayerGraph) -> dict[str, Any]:
    """The graph's structure and parameters, by layer name: node ids, node order (except among
    inputs and outputs, which is the model's argument order) and positions are left out."""
    names = {nid: node.name for nid, node in graph.nodes.items()}
    return {
        "nodes": sorted(
            (
                {"name": node.name, "type": node.layer_type, "params": node.to_dict()["params"]}
                for node in graph.nodes.values()
            ),
            key=lambda n: n["name"],
        ),
        "edges": sorted(
            [names[e.src], names[e.dst], e.dst_port, *([e.src_port] if e.src_port else [])]
            for e in graph.edges
        ),
        "inputs": [n.name for n in graph.nodes.values() if layer_info(n.layer_type).is_input],
        "outputs": [names[nid] + (f":{port}" if port else "") for nid, port in graph.output_ports],
    }


def graph_fingerprint(graph: LayerGraph | dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `canonical_graph`: equal for graphs that build the same
    model, whatever their layout. A dict is read as a saved graph (`LayerGraph.to_dict`)."""
    if isinstance(graph, dict):
        graph = LayerGraph.from_dict(graph)
    text = json.dumps(canonical_graph(graph), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def weights_fingerprint(graph: LayerGraph | dict[str, Any]) -> str:
    """Like `graph_fingerprint`, blind to what is frozen (`trainable`, inside blocks too):
    freezing or unfreezing layers (fine-tuning) keeps the same weights fitting."""
    data = graph.to_dict() if isinstance(graph, LayerGraph) else graph
    return graph_fingerprint(_without_trainable(data))


def _without_trainable(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_trainable(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _without_trainable(v) for k, v in value.items() if k != "trainable"}


# ----------------------------------------------------------------- checkpoints
def runs_dir(project_path: str | Path | None) -> Path:
    """`models/net.dcproj.json` -> `models/net.runs/`; never saved -> `data_dir()/runs/`."""
    if project_path is None:
        return data_dir() / "runs"
    path = Path(project_path)
    stem = re.sub(r"(\.dcproj)?\.json$", "", path.name)
    return path.with_name(stem + ".runs")


def checkpoint_path(record: RunRecord, project_path: str | Path | None) -> Path | None:
    """The record's checkpoint as a path usable from anywhere (None when it has none)."""
    if not record.checkpoint:
        return None
    path = Path(record.checkpoint)
    if not path.is_absolute() and project_path is not None:
        path = Path(project_path).parent / path
    return path
