"""How the headless commands print: plain lines, tables, or one JSON object per line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from backend.document.json_text import finite

MAX_MESSAGE = 500


def say(line: str) -> None:
    print(line, flush=True)


def warn(prog: str, text: str) -> None:
    print(f"{prog}: warning: {text}", file=sys.stderr, flush=True)


def error(prog: str, message: str) -> None:
    """One line on stderr: the message, its lines joined, cut at MAX_MESSAGE characters."""
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    print(f"{prog}: error: {text}", file=sys.stderr, flush=True)


def print_json(data: dict[str, Any]) -> None:
    say(json.dumps(finite(data), allow_nan=False))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        say("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
