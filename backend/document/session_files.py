"""Autosaves and recent projects: the app's own files under `backend.paths.data_dir()`.

An autosave is a full project document plus where it came from. It is written while there are
unsaved changes and removed once the work is saved or deliberately discarded, so an autosave
that is still there at start-up means the app did not close normally: it is offered back.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.document.project import Project, ProjectError, project_from_dict, write_atomically
from backend.paths import data_dir

RECENT_LIMIT = 10


@dataclass(frozen=True)
class Autosave:
    path: Path
    name: str
    source: str | None  # the project file it belongs to, or None for never-saved work
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{self.name} ({self.source or 'never saved'}), {when}"


def _autosave_dir() -> Path:
    folder = data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def autosave_file(project: Project, session: str) -> Path:
    """One file per project file (or per window session for never-saved work)."""
    key = str(project.path.resolve()) if project.path is not None else f"unsaved-{session}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
    return _autosave_dir() / f"{digest}.autosave.json"


def write_autosave(project: Project, session: str) -> Path:
    doc = project.to_dict()
    doc["autosave"] = {
        "source": str(project.path) if project.path is not None else None,
        "saved_at": time.time(),
    }
    target = autosave_file(project, session)
    write_atomically(target, json.dumps(doc, indent=1).encode("utf-8"))
    return target


def discard_autosave(project: Project, session: str) -> None:
    autosave_file(project, session).unlink(missing_ok=True)


def pending_autosaves() -> list[Autosave]:
    """Autosaves left by a session that did not end normally, newest first."""
    found = []
    for path in _autosave_dir().glob("*.autosave.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            meta = doc.get("autosave", {})
            found.append(
                Autosave(
                    path,
                    str(doc.get("name", "Untitled")),
                    meta.get("source"),
                    float(meta.get("saved_at", path.stat().st_mtime)),
                )
            )
        except (OSError, ValueError, AttributeError, TypeError):
            continue  # unreadable autosaves are not offered (and never crash start-up)
    return sorted(found, key=lambda a: a.saved_at, reverse=True)


def recover(autosave: Autosave) -> Project:
    """The autosaved project, pointing at its original file (so Save writes there)."""
    try:
        doc: Any = json.loads(autosave.path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{autosave.path}: cannot be read ({exc})") from exc
    project = project_from_dict(doc, str(autosave.path))
    project.path = Path(autosave.source) if autosave.source else None
    project.dirty = True
    return project


def _recent_file() -> Path:
    return data_dir() / "recent.json"


def recent_projects() -> list[Path]:
    """Recently opened or saved projects that still exist, newest first."""
    try:
        entries = json.loads(_recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(entries, list):
        return []
    return [Path(e) for e in entries if isinstance(e, str) and Path(e).exists()]


def remember(path: str | Path) -> None:
    entry = str(Path(path).resolve())
    entries = [str(p) for p in recent_projects() if str(p) != entry]
    entries.insert(0, entry)
    write_atomically(_recent_file(), json.dumps(entries[:RECENT_LIMIT]).encode("utf-8"))
