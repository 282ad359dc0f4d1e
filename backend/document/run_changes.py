"""Runs named by what changed: the settings, data and layers that differ between a run and the
run it is compared with (its parent when it continued one, else the run before it).

Comparing SGD with Adam, or two learning rates, the Runs table and the overlay's legend then
read "optimizer adam → sgd" and "learning rate 0.01 → 0.0001" instead of two start times.
"""

from __future__ import annotations

from typing import Any

from backend.document.graph import LayerGraph
from backend.document.layer_table import layer_info
from backend.document.runs import RunRecord, canonical_graph
from backend.document.training_config import setting_fields

SHOWN = 2
"""Changes spelled out in a run's name; the rest are counted ("+2 more")."""
_LABELS = {name: info.label for name, info, _default in setting_fields()}
_DATA_LABELS = {"name": "data", "val_fraction": "validation share", "test_fraction": "test share"}


def what_changed(before: RunRecord, after: RunRecord) -> list[str]:
    """Every difference from `before` to `after`, in words, settings first, then data, then
    layers ("activation of 'hidden' relu → tanh", "added Dropout 'drop'")."""
    return [
        *_settings(before.training, after.training),
        *_dataset(before.dataset, after.dataset),
        *_layers(before.graph, after.graph),
    ]


def compared_with(run: RunRecord, runs: list[RunRecord]) -> RunRecord | None:
    """The run `run` is named against: its parent if it continued one, else the one before."""
    by_id = {r.id: r for r in runs}
    if run.parent_id in by_id:
        return by_id[run.parent_id]
    index = next((i for i, r in enumerate(runs) if r.id == run.id), 0)
    return runs[index - 1] if index > 0 else None


def run_name(run: RunRecord, runs: list[RunRecord]) -> str:
    """A short name for `run` among the project's `runs` (oldest first)."""
    base = compared_with(run, runs)
    if base is None:
        return _first_name(run)
    changes = what_changed(base, run)
    continued = run.parent_id == base.id
    if not changes:
        return "continued" if continued else "same settings again"
    shown = ", ".join(changes[:SHOWN])
    more = f" (+{len(changes) - SHOWN} more)" if len(changes) > SHOWN else ""
    return ("continued, " if continued else "") + shown + more


def run_names(runs: list[RunRecord]) -> dict[str, str]:
    """Every run's name by id."""
    return {run.id: run_name(run, runs) for run in runs}


def _first_name(run: RunRecord) -> str:
    training = run.training
    return (
        f"first run: {training.get('optimizer', '?')}, learning rate "
        f"{_value(training.get('learning_rate'))}"
    )


def _settings(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changes = []
    for key in [*_LABELS, *sorted((set(before) | set(after)) - set(_LABELS))]:
        old, new = before.get(key), after.get(key)
        if old != new and key != "initial_weights":
            label = _LABELS.get(key, key).lower()
            changes.append(f"{label} {_value(old)} → {_value(new)}")
    return changes


def _dataset(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changes = []
    for key in ("name", "val_fraction", "test_fraction", "seed"):
        if before.get(key) != after.get(key):
            label = _DATA_LABELS.get(key, f"data {key}")
            changes.append(f"{label} {_value(before.get(key))} → {_value(after.get(key))}")
    old, new = before.get("params") or {}, after.get("params") or {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key) and key != "path":
            changes.append(f"data {key} {_param_change(old.get(key), new.get(key))}")
    if old.get("path") != new.get("path"):
        changes.append("another data file")
    return changes


def _param_change(old: Any, new: Any) -> str:
    """A list of names (feature or target columns) by what was added and removed, when both
    name some ("+ bill_length_mm"); anything else as old → new."""
    if isinstance(old, list) and isinstance(new, list) and old and new:
        added = [f"+ {_value(item)}" for item in new if item not in old]
        removed = [f"- {_value(item)}" for item in old if item not in new]
        if added or removed:
            return ", ".join([*added, *removed])
    return f"{_value(old)} → {_value(new)}"


def _layers(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old, new = _nodes(before), _nodes(after)
    changes = [f"added {new[name][0]} '{name}'" for name in new if name not in old]
    changes += [f"removed {old[name][0]} '{name}'" for name in old if name not in new]
    for name in (n for n in new if n in old):
        (old_type, old_params), (new_type, new_params) = old[name], new[name]
        if old_type != new_type:
            changes.append(f"'{name}' {old_type} → {new_type}")
            continue
        if isinstance(new_params.get("graph"), dict):  # a block: its layers, its freezing
            changes += _block_changes(name, old_params, new_params)
            continue
        for key in sorted(set(old_params) | set(new_params)):
            if old_params.get(key) != new_params.get(key):
                was, now = _value(old_params.get(key)), _value(new_params.get(key))
                changes.append(f"{key} of '{name}' {was} → {now}")
    if not changes and _wiring(before) != _wiring(after):
        changes.append("layers wired differently")
    return changes


def _block_changes(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """A block (a group, a pretrained backbone) by how many of its layers train (fine-tuning
    unfreezes some) and whether its own layers changed, never its graph spelled out."""
    changes = []
    was, now = _trainable_layers(old), _trainable_layers(new)
    if was != now:
        changes.append(f"layers of '{name}' that train {was} → {now}")
    if _without_freezing(old.get("graph")) != _without_freezing(new.get("graph")):
        changes.append(f"layers inside '{name}' changed")
    for key in sorted((set(old) | set(new)) - {"graph", "trainable"}):
        if old.get(key) != new.get(key):
            changes.append(f"{key} of '{name}' {_value(old.get(key))} → {_value(new.get(key))}")
    return changes


def _trainable_layers(params: dict[str, Any]) -> int:
    if params.get("trainable") is False or not isinstance(params.get("graph"), dict):
        return 0
    count = 0
    for node in params["graph"].get("nodes", []):
        info = layer_info(str(node.get("type")))
        inner = node.get("params") or {}
        layer = not (info.is_input or info.is_operation or "shares" in inner)
        count += layer and inner.get("trainable") is not False
    return count


def _without_freezing(graph: Any) -> Any:
    if not isinstance(graph, dict):
        return graph
    nodes = []
    for node in graph.get("nodes", []):
        params = {k: v for k, v in (node.get("params") or {}).items() if k != "trainable"}
        nodes.append({**node, "params": params, "position": None})
    return {**graph, "nodes": nodes}


def _canonical(graph: dict[str, Any]) -> dict[str, Any]:
    try:
        return canonical_graph(LayerGraph.from_dict(graph))
    except (ValueError, KeyError, TypeError):  # a graph a newer app wrote: compare nothing
        return {"nodes": [], "edges": [], "outputs": []}


def _nodes(graph: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {n["name"]: (n["type"], n["params"]) for n in _canonical(graph)["nodes"]}


def _wiring(graph: dict[str, Any]) -> tuple[Any, Any]:
    canonical = _canonical(graph)
    return canonical["edges"], canonical["outputs"]


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items()) or "none"
    return str(value)
