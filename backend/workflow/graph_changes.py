"""What changed between two graphs, in words: "Dense 'fc1' units changed 64 -> 128".

Used to say why a run's weights no longer fit the current graph. Nodes are matched by their
stable id (by name when the ids differ, as in a graph pasted or restored from elsewhere);
positions are ignored, as the graph fingerprint ignores them.
"""

from __future__ import annotations

import json
from typing import Any

from backend.document.graph import LayerGraph


def graph_changes(before: dict[str, Any], after: LayerGraph | dict[str, Any]) -> list[str]:
    """The edits that turn graph `before` (a saved graph dict) into `after`: removed, added,
    renamed and retyped layers, changed parameters, connections, then the model outputs."""
    after_dict = after.to_dict() if isinstance(after, LayerGraph) else after
    old = _nodes(before)
    new = {_key(nid, node, old): node for nid, node in _nodes(after_dict).items()}
    changes = [f"{_label(node)} removed" for key, node in old.items() if key not in new]
    for key, node in new.items():
        changes += _node_changes(old[key], node) if key in old else [f"{_label(node)} added"]
    names = {k: str(n.get("name")) for k, n in old.items()}
    names.update({k: str(n.get("name")) for k, n in new.items()})
    old_keys = {k: k for k in old}
    new_keys = {str(node.get("id")): key for key, node in new.items()}
    old_edges, new_edges = _edges(before, old_keys), _edges(after_dict, new_keys)
    for src, dst in sorted(old_edges - new_edges):
        changes.append(f"'{_named(src, names)}' -> '{_named(dst, names)}' disconnected")
    for src, dst in sorted(new_edges - old_edges):
        changes.append(f"'{_named(src, names)}' -> '{_named(dst, names)}' connected")
    old_outputs = [_named(o, names) for o in _outputs(before, old_keys)]
    new_outputs = [_named(o, names) for o in _outputs(after_dict, new_keys)]
    if old_outputs != new_outputs:
        shown = ", ".join(f"'{o}'" for o in new_outputs) or "the graph's ends"
        changes.append(f"model outputs changed to {shown}")
    return changes


def _nodes(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(n.get("id")): n for n in graph.get("nodes", []) if isinstance(n, dict)}


def _key(nid: str, node: dict[str, Any], old: dict[str, dict[str, Any]]) -> str:
    """The node's id, or the id of the old node of the same name when `old` lacks this id
    (a graph restored or pasted with fresh ids)."""
    if nid in old:
        return nid
    same_name = [k for k, n in old.items() if n.get("name") == node.get("name")]
    return same_name[0] if same_name else nid


def _label(node: dict[str, Any]) -> str:
    return f"{node.get('type')} '{node.get('name')}'"


def _node_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    if old.get("type") != new.get("type"):
        return [f"'{old.get('name')}' changed from {old.get('type')} to {new.get('type')}"]
    changes = []
    if old.get("name") != new.get("name"):
        changes.append(f"{_label(old)} renamed to '{new.get('name')}'")
    before, after = old.get("params", {}), new.get("params", {})
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes.append(
                f"{_label(new)} {key} changed {_value(before, key)} -> {_value(after, key)}"
            )
    return changes


def _value(params: dict[str, Any], key: str) -> str:
    if key not in params:
        return "(default)"
    text = json.dumps(params[key], separators=(", ", ": "))
    return text if len(text) <= 40 else text[:37] + "..."


def _edges(graph: dict[str, Any], keys: dict[str, str]) -> set[tuple[str, str]]:
    """(source, destination) by node key; a source other than output 0 as `key:port`."""
    edges = set()
    for edge in graph.get("edges", []):
        src, dst = str(edge.get("src")), str(edge.get("dst"))
        port = edge.get("src_port", 0)
        src = keys.get(src, src)
        edges.add((f"{src}:{port}" if port else src, keys.get(dst, dst)))
    return edges


def _outputs(graph: dict[str, Any], keys: dict[str, str]) -> list[str]:
    outputs = []
    for entry in graph.get("outputs", []):
        entry = str(entry)
        head, colon, port = entry.rpartition(":")
        if entry in keys or not colon:
            outputs.append(keys.get(entry, entry))
        else:
            outputs.append(f"{keys.get(head, head)}:{port}")
    return outputs


def _named(key: str, names: dict[str, str]) -> str:
    """A node key (`id`, or `id:port` for another output) as its layer's name."""
    if key in names:
        return names[key]
    head, _, port = key.rpartition(":")
    return f"{names.get(head, head)}:{port}"
