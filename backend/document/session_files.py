"""Autosaves and recent projects: the app's own files under `backend.paths.data_dir()`.

An autosave is a full project document plus where it came from. It is written while there are
unsaved changes and removed once the work is saved or deliberately discarded, so an autosave
that is still there at start-up means the app did not close normally: it is offered back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.document.json_text import JsonShapeError, finite, parse
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
    write_atomically(target, json.dumps(finite(doc), indent=1).encode("utf-8"))  # strict JSON
    return target


def discard_autosave(project: Project, session: str) -> None:
    """Best effort: a folder that refuses (read-only, gone) never fails the save or close
    that asks; the autosave left is offered at the next start and can be discarded then."""
    with contextlib.suppress(OSError):
        autosave_file(project, session).unlink(missing_ok=True)


def pending_autosaves() -> list[Autosave]:
    """Autosaves left by a session that did not end normally, newest first. This is on the
    app's start path: a file it cannot read (damaged, hostile, of another version) is not
    offered, and never stops the app from starting."""
    try:
        paths = list(_autosave_dir().glob("*.autosave.json"))
    except OSError:  # the folder cannot be made or listed (a file in its place...)
        return []
    found = [a for a in map(_read_autosave, paths) if a is not None]
    return sorted(found, key=lambda a: a.saved_at, reverse=True)


def _read_autosave(path: Path) -> Autosave | None:
    try:
        doc = parse(path.read_text(encoding="utf-8"))
        meta = doc.get("autosave", {})
        source = meta.get("source")
        saved_at = float(meta.get("saved_at", path.stat().st_mtime))
        name = doc.get("name", "Untitled")
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return None
    if not isinstance(name, str) or not (source is None or isinstance(source, str)):
        return None
    if not math.isfinite(saved_at):
        return None
    return Autosave(path, name, source, saved_at)


def recover(autosave: Autosave) -> Project:
    """The autosaved project, pointing at its original file (so Save writes there)."""
    try:
        doc: Any = parse(autosave.path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{autosave.path}: cannot be read ({exc})") from exc
    project = project_from_dict(doc, str(autosave.path))
    project.path = Path(autosave.source) if autosave.source else None
    project.dirty = True
    return project


def _recent_file() -> Path:
    return data_dir() / "recent.json"


def recent_projects() -> list[Path]:
    """Recently opened or saved projects that still exist, newest first; [] when the list
    cannot be read (it is on the app's start path: never an error)."""
    try:
        entries = parse(_recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError, JsonShapeError):
        return []
    if not isinstance(entries, list):
        return []
    return [Path(e) for e in entries if isinstance(e, str) and _exists(e)]


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a name with a NUL byte, too long...
        return False


def remember(path: str | Path) -> None:
    """Put `path` first in the recent list. Best effort: the list is a convenience, so a list
    that cannot be written (read-only, a full disk) never fails the open or save that asks."""
    entry = str(Path(path).resolve())
    entries = [str(p) for p in recent_projects() if str(p) != entry]
    entries.insert(0, entry)
    with contextlib.suppress(OSError):
        write_atomically(_recent_file(), json.dumps(entries[:RECENT_LIMIT]).encode("utf-8"))
