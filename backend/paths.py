"""Where DeepCanvas keeps its own files (autosaves, settings): never beside the user's."""

from __future__ import annotations

import os
import re
from pathlib import Path


def data_dir() -> Path:
    """`$DEEPCANVAS_HOME`, else `$XDG_DATA_HOME/deepcanvas`, else `~/.local/share/deepcanvas`."""
    explicit = os.environ.get("DEEPCANVAS_HOME")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "deepcanvas"
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_path(project_name: str, project_path: Path | None) -> Path:
    stem = project_path.name if project_path is not None else project_name
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "untitled"
    if not safe.endswith(".json"):
        safe += ".dcproj.json"
    folder = data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / safe
