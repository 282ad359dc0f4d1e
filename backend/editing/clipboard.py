"""Copy and paste of a selection with its inner edges, as plain JSON.

The JSON travels through the system clipboard, so it pastes into another window or project.
Pasted nodes get fresh ids and unique names; the paste is one undo step.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from backend.document.graph import GraphError, LayerGraph, new_node_id, output_entry, split_output
from backend.document.json_text import parse
from backend.document.layer_table import layer_info
from backend.editing.commands import AddNode, Connect, Macro, SetOutputs

CLIPBOARD_MIME = "application/x-deepcanvas-nodes"
CLIPBOARD_KIND = "deepcanvas-nodes"


def copy_nodes(graph: LayerGraph, node_ids: list[str]) -> dict[str, Any]:
    """The selected nodes and the edges between them (edges leaving the selection are dropped)."""
    chosen = [nid for nid in graph.nodes if nid in set(node_ids)]
    inside = set(chosen)
    return {
        "kind": CLIPBOARD_KIND,
        "version": 1,
        "nodes": [graph.nodes[nid].to_dict() for nid in chosen],
        "edges": [e.to_dict() for e in graph.edges if e.src in inside and e.dst in inside],
        "outputs": [o for o in graph.explicit_outputs if graph.split_output(o)[0] in inside],
    }


def to_text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1)


def from_text(text: str) -> dict[str, Any]:
    """Parse clipboard text; raises GraphError when it is not DeepCanvas nodes."""
    try:
        data = parse(text)
    except (ValueError, TypeError):  # not JSON, or JSON nested too deep (JsonShapeError)
        raise GraphError("the clipboard holds no DeepCanvas layers") from None
    if not isinstance(data, dict) or data.get("kind") != CLIPBOARD_KIND:
        raise GraphError("the clipboard holds no DeepCanvas layers")
    if not isinstance(data.get("nodes"), list) or not isinstance(data.get("edges"), list):
        raise GraphError("the clipboard's layers are malformed")
    return data


def paste_command(
    graph: LayerGraph,
    data: dict[str, Any],
    offset: tuple[float, float] = (40.0, 40.0),
    verb: str = "Paste",
) -> Macro:
    """One undoable paste: fresh ids, unique names, inner edges rewired, positions offset."""
    fresh: dict[str, str] = {}
    commands: list[Any] = []
    taken = {n.name for n in graph.nodes.values()}
    for raw in data["nodes"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise GraphError("the clipboard's layers are malformed")
        layer_info(raw["type"])  # unknown types raise before anything changes
        old_id = str(raw.get("id"))
        fresh[old_id] = new_node_id()
        name = _unique(str(raw.get("name") or raw["type"].lower()), taken)
        taken.add(name)
        x, y = raw.get("position", [0.0, 0.0])
        commands.append(
            AddNode(
                raw["type"],
                copy.deepcopy(raw.get("params", {})),
                (float(x) + offset[0], float(y) + offset[1]),
                name,
                fresh[old_id],
            )
        )
    for raw in data["edges"]:
        src, dst = fresh.get(str(raw.get("src"))), fresh.get(str(raw.get("dst")))
        if src and dst:
            port, src_port = int(raw.get("dst_port", 0)), int(raw.get("src_port", 0))
            commands.append(Connect(src, dst, port, src_port=src_port))
    outputs = []
    for entry in data.get("outputs", []):
        found = split_output(str(entry), fresh)
        if found is not None:
            outputs.append(output_entry(fresh[found[0]], found[1]))
    if outputs:
        commands.append(SetOutputs([*graph.explicit_outputs, *outputs]))
    count = len(data["nodes"])
    return Macro(f"{verb} {count} layer{'s' if count != 1 else ''}", commands)


def pasted_ids(command: Macro) -> list[str]:
    return [str(c.node_id) for c in command.commands if isinstance(c, AddNode)]


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    stem = base.rsplit("_", 1)[0] if base.rsplit("_", 1)[-1].isdigit() else base
    i = 1
    while f"{stem}_{i}" in taken:
        i += 1
    return f"{stem}_{i}"
