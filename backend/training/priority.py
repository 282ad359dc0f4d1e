"""Let the window win the CPU while a model trains in the same process.

TensorFlow's thread pools use every core, so on a small machine they compete with the GUI
thread for the CPU and each repaint of the live plots is stretched several times over
(measured in `benchmarks/bench_ui.py`). Giving the training threads a higher nice value (a
lower priority) keeps training at full speed when the machine is otherwise idle, while the GUI
thread runs first whenever it has something to do.

Linux only: there each thread is a schedulable task under `/proc/self/task`, and raising a
nice value needs no privilege (lowering it again does, so the threads keep the lower priority
for the rest of the session). Elsewhere `other_threads` finds none and nothing changes.
`DEEPCANVAS_TRAIN_NICE=0` turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

DEFAULT_NICE = 10
_TASKS = Path("/proc/self/task")


def training_nice() -> int:
    """The nice value for training threads: `DEEPCANVAS_TRAIN_NICE`, else 10 (0 is off)."""
    raw = os.environ.get("DEEPCANVAS_TRAIN_NICE", "")
    try:
        return max(0, min(19, int(raw))) if raw.strip() else DEFAULT_NICE
    except ValueError:
        return DEFAULT_NICE


def other_threads(keep: int) -> list[int]:
    """The native ids of this process' threads except `keep` (empty where not Linux)."""
    try:
        names = os.listdir(_TASKS)
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit() and int(name) != keep]


def lower_priority(thread_ids: Iterable[int], nice: int | None = None) -> int:
    """Raise each thread's nice value to `nice` (never lower it); how many were changed.

    A thread that ended meanwhile, or a platform without per-thread priorities, is skipped.
    """
    nice = training_nice() if nice is None else nice
    if nice <= 0 or not hasattr(os, "setpriority"):
        return 0
    changed = 0
    for tid in thread_ids:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
                changed += 1
        except OSError:
            continue
    return changed
