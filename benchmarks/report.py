"""Benchmark results as tables, printed and written into `benchmarks/README.md`.

Each benchmark owns one generated section of the README, between the markers
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->`: a benchmark `publish`es its text (saying
when it was measured, on what, under what load), and `make bench` (`benchmarks/__main__.py`)
writes it there with `write_section`, so no figure is copied by hand. Ratios come from
`Spread`: the median over rounds with the smallest and largest beside it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"


@dataclass
class Spread:
    """Values measured over rounds: shown as `median (min-max)`."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(float(value))

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def show(self, digits: int = 2) -> str:
        if not self.values:
            return "n/a"
        if len(self.values) == 1:
            return f"{self.values[0]:.{digits}f}"
        low, high = min(self.values), max(self.values)
        return f"{self.median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def load() -> str:
    """The 1-minute load average (of how many cores), to judge how quiet the machine was."""
    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


class Measurement:
    """Notes the load at the start and end of a benchmark; `stamp` says both, with the date,
    the machine and the library versions."""

    def __init__(self) -> None:
        self.started = time.time()
        self.load_before = load()

    def stamp(self) -> str:
        versions = [f"Python {platform.python_version()}"]
        for module in ("tensorflow", "keras", "pyarrow"):
            loaded = sys.modules.get(module)
            if loaded is not None:
                versions.append(f"{module} {getattr(loaded, '__version__', '?')}")
        minutes = (time.time() - self.started) / 60
        return (
            f"Measured {time.strftime('%Y-%m-%d %H:%M')} in {minutes:.1f} min on "
            f"{platform.node() or 'this machine'} ({platform.machine()}, "
            f"{os.cpu_count()} cores, no GPU used); load average {self.load_before} at the "
            f"start, {load()} at the end; {', '.join(versions)}."
        )


def alternate(rounds: int, runs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each run once per round, the order rotated every round (against order effects)."""
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(runs[name]())
    return times


def ratios(baseline: list[float], other: list[float]) -> Spread:
    """baseline / other per round: above 1, `other` took less time."""
    return Spread([b / o for b, o in zip(baseline, other, strict=True)])


def publish(name: str, text: str) -> None:
    """Print `text` between the markers `make bench` copies into README's section `name`."""
    print(f"<!-- bench:{name} -->\n{text.strip()}\n<!-- /bench:{name} -->", flush=True)


def child_environment() -> dict[str, str]:
    """The environment of a benchmark's process: TensorFlow's C++ log quiet."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def write_section(name: str, text: str, readme: Path = README) -> None:
    """Replace README's generated section `name` (added at the end when it has none yet)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = (
        f"{begin}\n<!-- written by `make bench` (benchmarks/{name}.py): do not edit by hand -->\n"
        f"{text.strip()}\n{end}"
    )
    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        updated = head + body + rest.split(end, 1)[1]
    else:
        updated = current.rstrip("\n") + f"\n\n{body}\n"
    tmp = readme.with_suffix(".tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(readme)
