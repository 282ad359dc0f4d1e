"""A multi-worker cluster as `TF_CONFIG` describes it, and the error every strategy raises.

Both the strategy chooser (`backend.training.distributed`) and the multi-worker trainer
(`backend.training.multiworker`) read these, so they live below both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backend.document.json_text import JsonShapeError, parse


class DistributedError(ValueError):
    """A device, strategy or cluster setting that cannot work, saying what to fix."""


@dataclass(frozen=True)
class ClusterConfig:
    """The parts of `TF_CONFIG` a worker needs: every worker's address, and which one it is."""

    workers: tuple[str, ...]
    task_type: str
    task_index: int
    chiefs: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return (self.chiefs if self.task_type == "chief" else self.workers)[self.task_index]

    @property
    def size(self) -> int:
        return len(self.workers) + len(self.chiefs)

    @property
    def is_chief(self) -> bool:
        """The task that writes files: the chief, else worker 0."""
        return self.task_type == "chief" or (not self.chiefs and self.task_index == 0)


def parse_tf_config(text: str | None) -> ClusterConfig:
    """Check `TF_CONFIG` (JSON: a `cluster` of host:port lists, and this process's `task`)."""
    if not text:
        raise DistributedError(
            "TF_CONFIG is not set: multiworker needs it on every machine, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\''
        )
    try:
        data = parse(text)
    except json.JSONDecodeError as exc:
        raise DistributedError(
            f"TF_CONFIG is not valid JSON (column {exc.colno}: {exc.msg})"
        ) from None
    except JsonShapeError as exc:
        raise DistributedError(f"TF_CONFIG: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cluster"), dict):
        raise DistributedError('TF_CONFIG needs a "cluster" object, e.g. {"worker": [...]}')
    cluster, task = data["cluster"], data.get("task")
    unknown = set(cluster) - {"worker", "chief"}
    if unknown:
        raise DistributedError(
            f"TF_CONFIG cluster has {', '.join(sorted(unknown))}: multiworker training uses "
            '"worker" (and at most one "chief") only'
        )
    workers = _addresses(cluster, "worker")
    chiefs = _addresses(cluster, "chief")
    if not workers or len(chiefs) > 1:
        raise DistributedError('TF_CONFIG cluster needs a "worker" list and at most one "chief"')
    if not isinstance(task, dict) or task.get("type") not in ("worker", "chief"):
        raise DistributedError('TF_CONFIG needs "task": {"type": "worker", "index": N}')
    index = task.get("index", 0)
    members = workers if task["type"] == "worker" else chiefs
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(members):
        raise DistributedError(
            f"TF_CONFIG task index {index!r} is not one of the {len(members)} "
            f"{task['type']} addresses (0 to {len(members) - 1})"
        )
    return ClusterConfig(workers, task["type"], index, chiefs)


def _addresses(cluster: dict[str, Any], job: str) -> tuple[str, ...]:
    entries = cluster.get(job, [])
    if not isinstance(entries, list):
        raise DistributedError(f'TF_CONFIG cluster "{job}" must be a list of "host:port"')
    for entry in entries:
        host, _, port = str(entry).rpartition(":")
        if not isinstance(entry, str) or not host or not port.isdigit() or int(port) > 65535:
            raise DistributedError(
                f'TF_CONFIG cluster "{job}" address {entry!r} is not "host:port"'
            )
    return tuple(entries)
