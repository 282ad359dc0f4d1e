"""A finding of the analysis: a problem or a warning about a node, with one-click fixes."""

from __future__ import annotations

from dataclasses import dataclass

from backend.analysis.fixes import Fix


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" (training will fail or learn nothing) or "warning"
    message: str
    node_id: str | None = None
    advice: str = ""
    """What to try, in a few words."""
    fixes: tuple[Fix, ...] = ()
    kind: str = ""
    """A stable name of the check, e.g. 'dense_on_image'."""
