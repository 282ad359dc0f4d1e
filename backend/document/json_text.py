"""Reading and writing JSON that people and other programs will open: strict, finite, bounded.

Every JSON document DeepCanvas reads from a file (projects, autosaves, the recent list, a
model's `config.json`, `TF_CONFIG`) goes through `parse`: a document nested deeper than
`MAX_DEPTH` is refused with the path where it gets too deep, instead of Python's
`RecursionError` (the parser's own limit, or a later recursive walk's). `non_finite_path` finds
the first NaN or infinity (JSON has neither; Python's `json` reads and writes them unless told
not to), and `finite` turns them into null, which is what a failed run's history holds.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100
"""Objects and lists inside each other. A project is about 7 deep, each nested block or model
adds 4 to 6; past this, saving (a deep copy, the encoder) would exhaust Python's stack."""


class JsonShapeError(ValueError):
    """A JSON document DeepCanvas will not hold: too deep, or a non-finite number."""


def parse(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing documents nested deeper than `max_depth` (JsonShapeError);
    a syntax error is `json.JSONDecodeError`, as ever."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonShapeError(
            f"its JSON is nested too deeply (more than {max_depth} levels of objects and lists)"
        ) from None
    check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """JsonShapeError naming where `value` (parsed JSON) goes deeper than `max_depth`."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise JsonShapeError(
                f"its JSON is nested more than {max_depth} levels deep (at {_shown(where)})"
            )
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, _child(where, key)))


def non_finite_path(value: Any, skip: tuple[str, ...] = ()) -> str | None:
    """The path (`graph.nodes[1].params.rate`) of the first NaN or infinity in `value`, or
    None. Top-level keys in `skip` are not searched."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return _shown(where)
        if isinstance(item, dict):
            for key, child in item.items():
                if not (where == "" and key in skip):
                    stack.append((child, _child(where, key)))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, _child(where, i)) for i, child in enumerate(item))
    return None


def finite(value: Any) -> Any:
    """`value` with every NaN or infinity replaced by None (JSON's null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text (no NaN): JsonShapeError naming the first non-finite number."""
    where = non_finite_path(value)
    if where is not None:
        raise JsonShapeError(f"{where} is not a finite number, which JSON cannot hold")
    return json.dumps(value, indent=indent, allow_nan=False)


def _child(where: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _shown(where: str) -> str:
    return where or "the top level"
