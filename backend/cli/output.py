"""How the headless commands print: plain lines, or one JSON object per line."""

from __future__ import annotations

import json
import math
from typing import Any


def say(line: str) -> None:
    print(line, flush=True)


def print_json(data: dict[str, Any]) -> None:
    say(json.dumps(finite(data), allow_nan=False))


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
