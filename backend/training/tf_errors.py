"""TensorFlow's errors, read for their reason: a person needs "label 9 is outside [0, 4)", not
"Graph execution error:" (the first line of a graph-mode error) or "{{function_node ...}}".

`error_reason(exc)` is that one line, with what it usually means for a model and its data.
"""

from __future__ import annotations

import re

_NOISE = (
    re.compile(r"^Graph execution error:?$"),
    re.compile(r"^Detected at node"),
    re.compile(r"^File \""),
    re.compile(r"^\[\[\{\{node"),
    re.compile(r"^\s"),  # the indented lines of the traceback TensorFlow quotes
)
_FUNCTION_NODE = re.compile(r"^\{\{function_node [^}]*\}\}\s*")
_TAIL = re.compile(r"\s*(\[\[\{\{node.*|\[Op:[^\]]*\].*)$")
_HINTS = (
    (
        re.compile(r"Received a label value of (-?\d+) which is outside the valid range of"),
        "the labels do not fit the output: give the output layer as many units as there are "
        "classes (and softmax)",
    ),
    (
        re.compile(r"Incompatible shapes|must have the same (rank|shape)|shapes .* incompatible"),
        "the labels' shape does not fit the output's: check the output layer's units and the loss",
    ),
)


def error_reason(exc: BaseException) -> str:
    """The line of a (TensorFlow) error that says what went wrong, and what it means."""
    text = str(exc)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    kept = [line for line in lines if not any(p.search(line) for p in _NOISE)]
    line = (kept or lines or [type(exc).__name__])[0]
    line = _TAIL.sub("", _FUNCTION_NODE.sub("", line.strip()))
    line = line.split("  Label values:")[0].strip() or type(exc).__name__
    for pattern, hint in _HINTS:
        if pattern.search(line):
            return f"{line} ({hint})"
    return line
